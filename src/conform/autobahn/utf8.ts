/**
 * Autobahn section 6, UTF-8 handling (RFC 6455 §8.1): 6.1-6.4 by hand, and
 * 6.5-6.23 from Markus Kuhn's UTF-8 decoder stress test, one text message per
 * sample. Whether a sample is valid is decided by our own RFC 3629 checker
 * (wire.ts), not copied: valid ones must be echoed, invalid ones fail with 1007.
 */
import { utf8Check } from '../wire.js';
import { CONT, T, echoCase, failClose, hexBytes, text, timeout } from './define.js';
import type { AutobahnCase } from './engine.js';

const INVALID = 'The connection is failed immediately, since the payload is not valid UTF-8.';
const UTF8_FAIL = failClose([1007], true);

function invalidCase(id: string, description: string, send: AutobahnCase['script']): AutobahnCase {
  return { id, description, expectation: INVALID, ok: [], close: UTF8_FAIL, script: send };
}

const perOctet = (bytes: Buffer) => [...bytes].map((b, i) => (i === 0 ? T(Buffer.from([b]), bytes.length === 1) : CONT(Buffer.from([b]), i === bytes.length - 1)));

const HELLO = Buffer.from('Hello-µ@ßöäüàá-UTF-8!!', 'utf8');
const KOSME = hexBytes('cebae1bdb9cf83cebcceb5');
const BAD = hexBytes('cebae1bdb9cf83cebcceb5eda080656469746564');
const show = (b: Buffer) => `${b.toString('utf8')}<br>${b.toString('hex')}`;
const WITHIN = 'in fragments of 1 octet, resulting in frames ending on positions which are not code point ends.';

const basics: AutobahnCase[] = [
  echoCase('6.1.1', 'Send text message of length 0.', 'A message is echo\'ed back to us (with empty payload).', [text('')], (s) => s.send(T(''))),
  echoCase('6.1.2', 'Send fragmented text message, 3 fragments each of length 0.', 'A message is echo\'ed back to us (with empty payload).', [text('')], (s) => s.send([T('', false), CONT('', false), CONT('')])),
  echoCase('6.1.3', 'Send fragmented text message, 3 fragments, first and last of length 0, middle non-empty.', 'A message is echo\'ed back to us (with payload = payload of middle fragment).', [text('middle frame payload')], (s) =>
    s.send([T('', false), CONT('middle frame payload', false), CONT('')]),
  ),
  echoCase('6.2.1', `Send a valid UTF-8 text message in one fragment.<br><br>MESSAGE:<br>${show(HELLO)}`, 'The message is echo\'ed back to us.', [text(HELLO)], (s) => s.send(T(HELLO))),
  echoCase('6.2.2', `Send a valid UTF-8 text message in two fragments, fragmented on UTF-8 code point boundary.<br><br>MESSAGE FRAGMENT 1:<br>${show(HELLO.subarray(0, 15))}<br><br>MESSAGE FRAGMENT 2:<br>${show(HELLO.subarray(15))}`, 'The message is echo\'ed back to us.', [text(HELLO)], (s) =>
    s.send([T(HELLO.subarray(0, 15), false), CONT(HELLO.subarray(15))]),
  ),
  echoCase('6.2.3', `Send a valid UTF-8 text message ${WITHIN}<br><br>MESSAGE:<br>${show(HELLO)}`, 'The message is echo\'ed back to us.', [text(HELLO)], (s) => s.send(perOctet(HELLO))),
  echoCase('6.2.4', `Send a valid UTF-8 text message ${WITHIN}<br><br>MESSAGE:<br>${show(KOSME)}`, 'The message is echo\'ed back to us.', [text(KOSME)], (s) => s.send(perOctet(KOSME))),
  invalidCase('6.3.1', `Send invalid UTF-8 text message unfragmented.<br><br>MESSAGE:<br>${BAD.toString('hex')}`, (s) => s.send(T(BAD))),
  invalidCase('6.3.2', `Send invalid UTF-8 text message ${WITHIN}<br><br>MESSAGE:<br>${BAD.toString('hex')}`, (s) => s.send(perOctet(BAD))),
];

/**
 * 6.4, fail fast: three parts, 1 s apart (timeouts A and B). OK when the peer
 * fails right after the part with the first invalid byte (only A passed);
 * NON-STRICT when it fails only once the message ends (A and B passed).
 */
function failFast(id: string, description: string, parts: string[], frames: boolean): AutobahnCase {
  const [p1, p2, p3] = parts.map(hexBytes);
  const unit = frames ? 'frame' : 'chop';
  const expectation = `The first ${unit} is accepted, we expect to timeout on the first wait. The 2nd ${unit} should be rejected immediately (fail fast on UTF-8). If we timeout, we expect the connection is failed at least then, since the complete message payload is not valid UTF-8.`;
  return {
    id,
    description: `${description}<br><br>MESSAGE PARTS:<br>PART1 = ${parts[0]}<br>PART2 = ${parts[1]}<br>PART3 = ${parts[2]}<br>`,
    expectation,
    ok: [timeout('A')],
    nonStrict: [timeout('A'), timeout('B')],
    close: UTF8_FAIL,
    async script(s) {
      if (frames) {
        await s.send(T(p1, false));
        await s.wait(1000, 'A');
        await s.send(CONT(p2, false));
        await s.wait(1000, 'B');
        await s.send(CONT(p3));
        return;
      }
      // One frame, its header announcing the whole message, written in three chops.
      const bytes = s.encode(T(Buffer.concat([p1, p2, p3])));
      const cut1 = bytes.length - p3.length - p2.length;
      const cut2 = bytes.length - p3.length;
      await s.write(bytes.subarray(0, cut1));
      await s.wait(1000, 'A');
      await s.write(bytes.subarray(cut1, cut2));
      await s.wait(1000, 'B');
      await s.write(bytes.subarray(cut2));
    },
  };
}

const FAIL_FAST: AutobahnCase[] = [
  failFast('6.4.1', 'Send invalid UTF-8 text message in 3 fragments (frames). First frame payload is valid, then wait, then 2nd frame which contains the payload making the sequence invalid, then wait, then 3rd frame with rest. Note that PART1 and PART3 are valid UTF-8 in themselves, PART2 is a 0x110000 encoded as in the UTF-8 integer encoding scheme, but the codepoint is invalid (out of range).', ['cebae1bdb9cf83cebcceb5', 'f4908080', '656469746564'], true),
  failFast('6.4.2', 'Same as Case 6.4.1, but in 2nd frame, we send only up to and including the octet making the complete payload invalid.', ['cebae1bdb9cf83cebcceb5f4', '90', '8080656469746564'], true),
  failFast('6.4.3', 'Same as Case 6.4.1, but we send message not in 3 frames, but in 3 chops of the same message frame.', ['cebae1bdb9cf83cebcceb5', 'f4908080', '656469746564'], false),
  // Autobahn's report shows PART3 empty here; its wire log sends the same third part as 6.4.2.
  failFast('6.4.4', 'Same as Case 6.4.2, but we send message not in 3 frames, but in 3 chops of the same message frame.', ['cebae1bdb9cf83cebcceb5f4', '90', '8080656469746564'], false),
];

/** Hex of the bytes from `from` to `to` (inclusive), each followed by `suffix`. */
const run = (from: number, to: number, suffix = '') => Array.from({ length: to - from + 1 }, (_, i) => (from + i).toString(16).padStart(2, '0') + suffix).join('');
const KOSME_HEX = KOSME.toString('hex');

/** Kuhn's samples, by Autobahn subsection (6.5-6.23): each a hex payload. */
const SAMPLES: [number, string[]][] = [
  [5, ['68656c6c6f24776f726c64', '68656c6c6fc2a2776f726c64', '68656c6c6fe282ac776f726c64', '68656c6c6ff0a4ada2776f726c64', KOSME_HEX]],
  [6, Array.from({ length: KOSME.length }, (_, i) => KOSME_HEX.slice(0, 2 * (i + 1)))],
  [7, ['00', 'c280', 'e0a080', 'f0908080']],
  [8, ['f888808080', 'fc8480808080']],
  [9, ['7f', 'dfbf', 'efbfbf', 'f48fbfbf']],
  [10, ['f7bfbfbf', 'fbbfbfbfbf', 'fdbfbfbfbfbf']],
  [11, ['ed9fbf', 'ee8080', 'efbfbd', 'f48fbfbf', 'f4908080']],
  [12, ['80', 'bf', '80bf', '80bf80', '80bf80bf', '80bf80bf80', '80bf80bf80bf', run(0x80, 0xbe)]],
  [13, [run(0xc0, 0xde, '20'), run(0xe0, 0xee, '20'), run(0xf0, 0xf6, '20'), run(0xf8, 0xfa, '20'), 'fc20']],
  [14, ['c0', 'e080', 'f08080', 'f8808080', 'fc80808080', 'df', 'efbf', 'f7bfbf', 'fbbfbfbf', 'fdbfbfbfbf']],
  [15, ['c0e080f08080f8808080fc80808080dfefbff7bfbffbbfbfbffdbfbfbfbf']],
  [16, ['fe', 'ff', 'fefeffff']],
  [17, ['c0af', 'e080af', 'f08080af', 'f8808080af', 'fc80808080af']],
  [18, ['c1bf', 'e09fbf', 'f08fbfbf', 'f887bfbfbf', 'fc83bfbfbfbf']],
  [19, ['c080', 'e08080', 'f0808080', 'f880808080', 'fc8080808080']],
  [20, ['eda080', 'edadbf', 'edae80', 'edafbf', 'edb080', 'edbe80', 'edbfbf']],
  [21, ['eda080edb080', 'eda080edbfbf', 'edadbfedb080', 'edadbfedbfbf', 'edae80edb080', 'edae80edbfbf', 'edafbfedb080', 'edafbfedbfbf']],
  // U+FFFE, U+FFFF and the last two code points of planes 1-16.
  [22, ['efbfbe', 'efbfbf', ...Array.from({ length: 16 }, (_, p) => Buffer.from(String.fromCodePoint(((p + 1) << 16) | 0xfffe), 'utf8').toString('hex')).flatMap((h) => [h, `${h.slice(0, -2)}bf`])]],
  [23, ['efbfb9', 'efbfba', 'efbfbb', 'efbfbc', 'efbfbd', 'efbfbe', 'efbfbf']],
];

const samples: AutobahnCase[] = SAMPLES.flatMap(([sub, payloads]) =>
  payloads.map((h, i) => {
    const bytes = hexBytes(h);
    const id = `6.${sub}.${i + 1}`;
    if (utf8Check(bytes) === bytes.length) {
      return echoCase(id, `Send a text message with payload which is valid UTF-8 in one fragment.<br><br>Payload: 0x${h}`, 'The message is echo\'ed back to us.', [text(bytes)], (s) => s.send(T(bytes)));
    }
    return invalidCase(id, `Send a text message with payload which is not valid UTF-8 in one fragment.<br><br>Payload: 0x${h}`, (s) => s.send(T(bytes)));
  }),
);

export const SECTION_6 = [...basics, ...FAIL_FAST, ...samples];
