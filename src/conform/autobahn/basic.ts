/**
 * Autobahn sections 1 (framing), 2 (pings and pongs), 3 (reserved bits),
 * 4 (opcodes) and 5 (fragmentation): RFC 6455 §5.2-5.5.
 */
import { OP, type FrameSpec } from '../wire.js';
import { type Script1, B, CONT, FRAMES, OCTETS, PING, PONG, T, binary, echoCase, failCase, pong, repeat, text } from './define.js';
import type { AutobahnCase } from './engine.js';

const SIZES = [0, 125, 126, 127, 128, 65535, 65536];

function sizeCases(section: string, type: 'text' | 'binary'): AutobahnCase[] {
  const fill = type === 'text' ? '*' : 0xfe;
  const make = (n: number, chop?: number): AutobahnCase => {
    const payload = repeat(fill, n);
    const description = n === 0 ? `Send ${type} message with payload 0.` : `Send ${type} message message with payload of length ${n}.${chop ? ` Sent out data in chops of ${chop} octets.` : ''}`;
    const expectation = `Receive echo'ed ${type} message (with ${n === 0 ? 'empty payload' : 'payload as sent'}). Clean close with normal code.`;
    const spec: FrameSpec = { opcode: type === 'text' ? OP.TEXT : OP.BINARY, payload };
    return echoCase(`${section}.${SIZES.indexOf(n) + 1 + (chop ? 1 : 0)}`, description, expectation, [type === 'text' ? text(payload) : binary(payload)], (s) => s.send(spec, chop));
  };
  return [...SIZES.map((n) => make(n)), { ...make(65536, 997), id: `${section}.8` }];
}

const PONG_EXPECTATION = 'Pong with payload echo\'ed is sent in reply to Ping. Clean close with normal code.';
const TEN_PINGS = Array.from({ length: 10 }, (_, i) => `payload-${i}`);
const TEN_PONGS_EXPECTATION = 'Pongs for our Pings with all the payloads. Note: This is not required by the Spec .. but we check for this behaviour anyway. Clean close with normal code.';
const binary125 = repeat(0xfe, 125);
const smallBinary = Buffer.from([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff]);

const pings: AutobahnCase[] = [
  echoCase('2.1', 'Send ping without payload.', 'Pong (with empty payload) is sent in reply to Ping. Clean close with normal code.', [pong('')], (s) => s.send(PING())),
  echoCase('2.2', 'Send ping with small text payload.', PONG_EXPECTATION, [pong('Hello, world!')], (s) => s.send(PING('Hello, world!'))),
  echoCase('2.3', 'Send ping with small binary (non UTF-8) payload.', PONG_EXPECTATION, [pong(smallBinary)], (s) => s.send(PING(smallBinary))),
  echoCase('2.4', 'Send ping with binary payload of 125 octets.', PONG_EXPECTATION, [pong(binary125)], (s) => s.send(PING(binary125))),
  failCase('2.5', 'Send ping with binary payload of 126 octets.', 'Connection is failed immediately (1002/Protocol Error), since control frames are only allowed to have payload up to and including 125 octets..', (s) => s.send(PING(repeat(0xfe, 126)))),
  echoCase('2.6', 'Send ping with binary payload of 125 octets, send in octet-wise chops.', 'Pong with payload echo\'ed is sent in reply to Ping. Implementations must be TCP clean. Clean close with normal code.', [pong(binary125)], (s) => s.send(PING(binary125), OCTETS)),
  echoCase('2.7', 'Send unsolicited pong without payload. Verify nothing is received. Clean close with normal code.', 'Nothing.', [], (s) => s.send(PONG())),
  echoCase('2.8', 'Send unsolicited pong with payload. Verify nothing is received. Clean close with normal code.', 'Nothing.', [], (s) => s.send(PONG('unsolicited pong payload'))),
  echoCase('2.9', 'Send unsolicited pong with payload. Send ping with payload. Verify pong for ping is received.', 'Nothing in reply to own Pong, but Pong with payload echo\'ed in reply to Ping. Clean close with normal code.', [pong('ping payload')], async (s) => {
    await s.send(PONG('unsolicited pong payload'), FRAMES);
    await s.send(PING('ping payload'));
  }),
  echoCase('2.10', 'Send 10 Pings with payload.', TEN_PONGS_EXPECTATION, TEN_PINGS.map((p) => pong(p)), (s) => s.send(TEN_PINGS.map((p) => PING(p)), FRAMES)),
  echoCase('2.11', 'Send 10 Pings with payload. Send out octets in octet-wise chops.', TEN_PONGS_EXPECTATION, TEN_PINGS.map((p) => pong(p)), (s) => s.send(TEN_PINGS.map((p) => PING(p)), OCTETS)),
];

const HELLO = 'Hello, world!';
const RSV_FAILS = 'The connection is failed immediately, since RSV must be 0.';
const RSV_AFTER_ECHO = 'Echo for first message is received, but then connection is failed immediately, since RSV must be 0, when no extension defining RSV meaning has been negotiated. The Pong is not received.';

/** A small text message, then `bad`, then a ping: the echo, then the connection fails (NON-STRICT: without the echo). */
function afterEcho(id: string, description: string, expectation: string, bad: FrameSpec, chop?: 'frame' | number): AutobahnCase {
  return { ...failCase(id, description, expectation, (s) => s.send([T(HELLO), bad, PING(HELLO)], chop)), ok: [text(HELLO)], nonStrict: [] };
}

const reserved: AutobahnCase[] = [
  failCase('3.1', 'Send small text message with <b>RSV = 1</b>.', 'The connection is failed immediately (1002/protocol error), since RSV must be 0, when no extension defining RSV meaning has been negotiated.', (s) => s.send(T(HELLO, true, 1))),
  afterEcho('3.2', 'Send small text message, then send again with <b>RSV = 2</b>, then send Ping.', RSV_AFTER_ECHO, T(HELLO, true, 2)),
  afterEcho('3.3', 'Send small text message, then send again with <b>RSV = 3</b>, then send Ping. Octets are sent in frame-wise chops. Octets are sent in octet-wise chops.', RSV_AFTER_ECHO, T(HELLO, true, 3), FRAMES),
  afterEcho('3.4', 'Send small text message, then send again with <b>RSV = 4</b>, then send Ping. Octets are sent in octet-wise chops.', RSV_AFTER_ECHO, T(HELLO, true, 4), OCTETS),
  failCase('3.5', 'Send small binary message with <b>RSV = 5</b>.', RSV_FAILS, (s) => s.send(B(smallBinary, true, 5))),
  failCase('3.6', 'Send Ping with <b>RSV = 6</b>.', RSV_FAILS, (s) => s.send(PING(HELLO, true, 6))),
  failCase('3.7', 'Send Close with <b>RSV = 7</b>.', RSV_FAILS, (s) => s.send({ opcode: OP.CLOSE, rsv: 7 })),
];

const OPCODE_AFTER_ECHO = 'Echo for first message is received, but then connection is failed immediately, since reserved opcode frame is used. A Pong is not received.';

function opcodeCases(section: string, kind: 'non-control' | 'control', first: number): AutobahnCase[] {
  return [0, 1, 2, 3, 4].map((i) => {
    const opcode = first + i;
    const withPayload = i > 0 && i !== 2;
    const what = `reserved ${kind} <b>Opcode = ${opcode}</b>${withPayload ? ' and non-empty payload' : ''}`;
    const frame: FrameSpec = { opcode, payload: withPayload ? 'reserved opcode payload' : undefined };
    const id = `${section}.${i + 1}`;
    if (i < 2) return failCase(id, `Send frame with ${what}.`, 'The connection is failed immediately.', (s) => s.send(frame));
    return afterEcho(id, `Send small text message, then send frame with ${what}, then send Ping.`, OPCODE_AFTER_ECHO, frame);
  });
}

const F2 = 'fragment1fragment2';
const twoFragments = [T('fragment1', false), CONT('fragment2')];
const withPing = [T('fragment1', false), PING('ping payload'), CONT('fragment2')];
const CHOPS: [string, 'frame' | number | undefined][] = [
  ['', undefined],
  [', octets are sent in frame-wise chops', FRAMES],
  [', octets are sent in octet-wise chops', OCTETS],
];
const NOTHING_TO_CONTINUE = 'The connection is failed immediately, since there is no message to continue.';

const fragmentation: AutobahnCase[] = [
  failCase('5.1', 'Send Ping fragmented into 2 fragments.', 'Connection is failed immediately, since control message MUST NOT be fragmented.', (s) => s.send([PING('fragment1', false), CONT('fragment2')])),
  failCase('5.2', 'Send Pong fragmented into 2 fragments.', 'Connection is failed immediately, since control message MUST NOT be fragmented.', (s) => s.send([PONG('fragment1', false), CONT('fragment2')])),
  ...CHOPS.map(([how, chop], i) => echoCase(`5.${3 + i}`, `Send text Message fragmented into 2 fragments${how}.`, 'Message is processed and echo\'ed back to us.', [text(F2)], (s) => s.send(twoFragments, chop))),
  ...CHOPS.map(([how, chop], i) =>
    echoCase(`5.${6 + i}`, `Send text Message fragmented into 2 fragments, one ping with payload in-between${how.replace(', o', '. O')}.`, 'A pong is received, then the message is echo\'ed back to us.', [pong('ping payload'), text(F2)], (s) => s.send(withPing, chop)),
  ),
  ...[true, false].flatMap((fin, j) =>
    (['one chop', 'per-frame chops', 'octet-wise chops'] as const).map((how, i) =>
      failCase(`5.${9 + 3 * j + i}`, `Send unfragmented Text Message after Continuation Frame with FIN = ${fin}, where there is nothing to continue, sent in ${how}.`, NOTHING_TO_CONTINUE, (s) =>
        s.send([CONT('non-continuation payload', fin), T(HELLO)], CHOPS[i][1]),
      ),
    ),
  ),
  {
    ...failCase('5.15', 'Send text Message fragmented into 2 fragments, then Continuation Frame with FIN = false where there is nothing to continue, then unfragmented Text Message, all sent in one chop.', NOTHING_TO_CONTINUE, (s) =>
      s.send([...twoFragments, CONT('fragment3', false), T('fragment4')]),
    ),
    ok: [text(F2)],
    nonStrict: [],
  },
  ...[false, true].map((fin, i) =>
    failCase(`5.${16 + i}`, `Repeated 2x: Continuation Frame with FIN = ${fin} (where there is nothing to continue), then text Message fragmented into 2 fragments.`, NOTHING_TO_CONTINUE, (s) =>
      s.send([CONT('fragment1', fin), T('fragment2', false), CONT('fragment3'), CONT('fragment1', fin), T('fragment2', false), CONT('fragment3')]),
    ),
  ),
  failCase('5.18', 'Send text Message fragmented into 2 fragments, with both frame opcodes set to text, sent in one chop.', 'The connection is failed immediately, since all data frames after the initial data frame must have opcode 0.', (s) => s.send([T('fragment1', false), T('fragment2')])),
  fiveFragments('5.19', 'A fragmented text message is sent in multiple frames. After sending the first 2 frames of the text message, a Ping is sent. Then we wait 1s, then we send 2 more text fragments, another Ping and then the final text fragment. Everything is legal.', 'The peer immediately answers the first Ping before it has received the last text message fragment. The peer pong\'s back the Ping\'s payload exactly, and echo\'s the payload of the fragmented message back to us.', undefined),
  fiveFragments('5.20', 'Same as Case 5.19, but send all frames with SYNC = True. Note, this does not change the octets sent in any way, only how the stream is chopped up on the wire.', 'Same as Case 5.19. Implementations must be agnostic to how octet stream is chopped up on wire (must be TCP clean).', FRAMES),
];

function fiveFragments(id: string, description: string, expectation: string, chop: 'frame' | undefined): AutobahnCase {
  const script: Script1 = async (s) => {
    await s.send([T('fragment1', false), CONT('fragment2', false), PING('pongme 1!')], chop);
    await s.wait(1000);
    await s.send([CONT('fragment3', false), CONT('fragment4', false), PING('pongme 2!'), CONT('fragment5')], chop);
  };
  return echoCase(id, description, expectation, [pong('pongme 1!'), pong('pongme 2!'), text('fragment1fragment2fragment3fragment4fragment5')], script);
}

export const SECTION_1 = [...sizeCases('1.1', 'text'), ...sizeCases('1.2', 'binary')];
export const SECTION_2 = pings;
export const SECTION_3 = reserved;
export const SECTION_4 = [...opcodeCases('4.1', 'non-control', 3), ...opcodeCases('4.2', 'control', 11)];
export const SECTION_5 = fragmentation;
