/**
 * 12 and 13: permessage-deflate (RFC 7692), against `strictws echo --deflate`.
 *
 * 12, compressed messages (§6, §7.2): echoes of compressed text and binary
 * from empty to the 16 MiB cap, fragmented anyhow, with and without context
 * takeover, the RFC's own examples; RSV1 anywhere but the first frame of a
 * data message fails with 1002, data that does not inflate or is not UTF-8
 * with 1007, and decompression bombs with 1009, at once.
 *
 * 13, negotiation (§5, §7.1, and RFC 6455 §9.1): offers accepted with an
 * answer that says exactly what was agreed, offers declined (the handshake
 * still succeeds, without the extension), malformed headers refused with 400,
 * and each parameter set in use over many messages.
 *
 * The client's compressor and inflater are its own (../deflate.ts).
 */
import { type Case, type CaseContext, type Family, Mismatch, Unimplemented, describeEvent, expectFail, expectPong, expectServing } from '../case.js';
import { type Conn, buildRequest } from '../client.js';
import { zeroBomb } from '../deflate.js';
import { OP, type FrameSpec, closeBody, frame, frames, mixedText, pseudoRandomBytes } from '../wire.js';
import { expectH2Refusal } from './h2.js';
import { expectRejection } from './handshake.js';

const KiB = 1024;
const MiB = 1024 * KiB;
/** strictws echo's default --max-payload, and its default --deflate-threshold. */
const MAX_PAYLOAD = 16 * MiB;
const THRESHOLD = 1024;
const BIG_TIMEOUT = 30_000;
const RSV1 = 4;
const DEFAULT_OFFER = 'permessage-deflate; client_max_window_bits';

/** JSON-like text, as applications send: compresses to about a fifth. */
function jsonText(bytes: number, seed = 1): Buffer {
  const words = ['alpha', 'beta', 'gamma', 'delta', 'status', 'ok', 'error', 'user', 'name', 'value', 'message', 'count'];
  const parts: string[] = [];
  let length = 0;
  let x = seed;
  for (let i = 0; length < bytes; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const line = `${JSON.stringify({ id: i, user: `${words[x % 12]}${x % 1000}`, status: words[(x >>> 8) % 12], value: (x % 100000) / 100 })},\n`;
    parts.push(line);
    length += line.length;
  }
  return Buffer.from(parts.join('').slice(0, bytes));
}

function label(n: number): string {
  return n >= MiB && n % MiB === 0 ? `${n / MiB} MiB` : n >= KiB && n % KiB === 0 ? `${n / KiB} KiB` : `${n}-byte`;
}

const offer = (value: string) => ({ headers: { 'Sec-WebSocket-Extensions': value } });

/** Open a connection offering `value`; the server must agree (to `answer`, if given). */
async function openDeflate(t: CaseContext, value = DEFAULT_OFFER, answer?: string): Promise<Conn> {
  const c = await t.open(offer(value));
  if (!c.deflate) throw new Unimplemented(`the server did not agree to permessage-deflate offered as "${value}"`);
  const agreed = describeAgreement(c);
  if (answer !== undefined && c.extensions !== answer) throw new Mismatch(`the 101 answers "${c.extensions}", expected "${answer}"`);
  t.note(`HTTP 101 with permessage-deflate (${agreed})`);
  return c;
}

function describeAgreement(c: Conn): string {
  const a = c.deflate!.agreement;
  return [
    a.serverNoContextTakeover ? 'server_no_context_takeover' : '',
    a.clientNoContextTakeover ? 'client_no_context_takeover' : '',
    `server window ${a.serverMaxWindowBits} bits`,
    `client window ${a.clientMaxWindowBits} bits`,
  ]
    .filter(Boolean)
    .join(', ');
}

/** The frames of a compressed message: RSV1 on the first only, split into fragments of the compressed bytes. */
function compressedFrames(c: Conn, type: 'text' | 'binary', data: Buffer, fragmentSize?: number, level?: number): FrameSpec[] {
  const payload = c.deflate!.compress(data, level);
  const opcode = type === 'text' ? OP.TEXT : OP.BINARY;
  if (!fragmentSize || payload.length <= fragmentSize) return [{ opcode, rsv: RSV1, payload }];
  const specs: FrameSpec[] = [];
  for (let at = 0; at < payload.length; at += fragmentSize) {
    specs.push({ opcode: at === 0 ? opcode : OP.CONT, rsv: at === 0 ? RSV1 : 0, fin: at + fragmentSize >= payload.length, payload: payload.subarray(at, at + fragmentSize) });
  }
  return specs;
}

/** The echo of `data`, inflated if the server compressed it; `compressed` says whether it must have. */
async function expectEcho(t: CaseContext, c: Conn, type: 'text' | 'binary', data: Buffer, compressed?: boolean, timeoutMs = 5000, quiet = false): Promise<{ wire: number; compressed: boolean }> {
  const e = await c.next(timeoutMs);
  if (e.type !== type) throw new Mismatch(`expected the echo of ${data.length}-byte ${type}, got ${describeEvent(e)}`);
  if (!e.data.equals(data)) {
    let at = 0;
    while (at < Math.min(e.data.length, data.length) && e.data[at] === data[at]) at++;
    throw new Mismatch(`expected the echo of ${data.length}-byte ${type}, got ${e.data.length} bytes differing from byte ${at}`);
  }
  if (compressed !== undefined && e.compressed !== compressed) {
    throw new Mismatch(`the echo of ${data.length}-byte ${type} came ${e.compressed ? 'compressed' : 'uncompressed'}, expected ${compressed ? 'compressed' : 'uncompressed'}`);
  }
  if (!quiet) t.note(`echo of ${data.length}-byte ${type}${e.compressed ? `, compressed to ${e.wire} bytes` : ', uncompressed'}`);
  return { wire: e.wire ?? data.length, compressed: e.compressed === true };
}

function echoCase(id: string, description: string, type: 'text' | 'binary', make: () => Buffer, options: { fragment?: number; chop?: number; level?: number; compressed?: boolean; heavy?: boolean } = {}): Case {
  return {
    id,
    description,
    expectation: `echo of the same ${type} message${options.compressed === true ? ', compressed (RSV1)' : options.compressed === false ? ', uncompressed' : ''}`,
    heavy: options.heavy,
    timeoutMs: options.heavy ? 40_000 : undefined,
    async run(t) {
      const data = make();
      const c = await openDeflate(t);
      const bytes = frames(...compressedFrames(c, type, data, options.fragment, options.level));
      if (options.chop) await c.sendChopped(bytes, options.chop);
      else await c.send(bytes);
      await expectEcho(t, c, type, data, options.compressed, BIG_TIMEOUT);
    },
  };
}

/** A connection with deflate agreed, `bad` sent after a valid compressed message: the echo, then close `code`. */
function failCase(id: string, description: string, code: number, why: string, bad: (c: Conn) => Buffer, value = DEFAULT_OFFER): Case {
  return {
    id,
    description,
    expectation: `the echo of the valid message, then close ${code}, then TCP close (${why})`,
    async run(t) {
      const c = await openDeflate(t, value);
      const valid = jsonText(2 * KiB, 7);
      await c.send(Buffer.concat([frames(...compressedFrames(c, 'text', valid)), bad(c)]));
      await expectEcho(t, c, 'text', valid, true);
      await expectFail(t, c, code);
    },
  };
}

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
/** RFC 7692 §7.2.3.1: "Hello" compressed. */
const HELLO = hex('f2 48 cd c9 c9 07 00');

function rfcExample(id: string, description: string, specs: () => FrameSpec[], messages = 1): Case {
  return {
    id,
    description,
    expectation: `${messages === 1 ? 'an echo' : `${messages} echoes`} of "Hello"`,
    async run(t) {
      const c = await openDeflate(t);
      await c.send(frames(...specs()));
      for (let i = 0; i < messages; i++) await expectEcho(t, c, 'text', Buffer.from('Hello'));
    },
  };
}

const dataCases: Case[] = [
  ...[0, 16, THRESHOLD - 1, THRESHOLD, 64 * KiB, MiB, 4 * MiB].map((size, i) =>
    echoCase(`D.1.${i + 1}`, `A compressed text message of ${label(size)} (JSON-like)`, 'text', () => jsonText(size, size + 1), {
      compressed: size >= THRESHOLD,
      heavy: size >= 4 * MiB,
    }),
  ),
  echoCase('D.1.8', 'A compressed text message of 16 MiB (JSON-like), exactly the cap once inflated', 'text', () => jsonText(MAX_PAYLOAD, 3), { compressed: true, heavy: true }),
  echoCase('D.1.9', 'A compressed text message of 64 KiB mixing 1- to 4-byte UTF-8', 'text', () => mixedText(64 * KiB), { compressed: true }),
  echoCase('D.2.1', 'A compressed binary message of 64 KiB of random bytes (incompressible: stored blocks, larger than the message)', 'binary', () => pseudoRandomBytes(64 * KiB, 12), { compressed: false }),
  echoCase('D.2.2', 'A compressed binary message of 1 MiB that compresses well', 'binary', () => jsonText(MiB, 9), { compressed: true }),
  echoCase('D.2.3', 'A binary message of 16 MiB of random bytes in stored blocks: over 16 MiB on the wire, exactly the cap inflated', 'binary', () => pseudoRandomBytes(MAX_PAYLOAD, 13), { level: 0, heavy: true }),
  echoCase('D.3.1', 'A compressed 1 MiB text message, its compressed bytes in 16 KiB fragments', 'text', () => jsonText(MiB, 21), { fragment: 16 * KiB }),
  echoCase('D.3.2', 'A compressed 4 KiB text message in 1-byte fragments (RSV1 on the first only)', 'text', () => jsonText(4 * KiB, 22), { fragment: 1 }),
  echoCase('D.3.3', 'A compressed 16 KiB text message written one byte per write', 'text', () => jsonText(16 * KiB, 23), { chop: 1 }),
  {
    id: 'D.3.4',
    description: 'A compressed message in three fragments with a ping between each',
    expectation: 'two pongs, then the echo (control frames interleave with compressed fragments as with any)',
    async run(t) {
      const c = await openDeflate(t);
      const data = jsonText(8 * KiB, 24);
      const payload = c.deflate!.compress(data);
      const third = Math.ceil(payload.length / 3);
      await c.send(
        frames(
          { opcode: OP.TEXT, rsv: RSV1, fin: false, payload: payload.subarray(0, third) },
          { opcode: OP.PING, payload: 'one' },
          { opcode: OP.CONT, fin: false, payload: payload.subarray(third, 2 * third) },
          { opcode: OP.PING, payload: 'two' },
          { opcode: OP.CONT, payload: payload.subarray(2 * third) },
        ),
      );
      await expectPong(t, c, Buffer.from('one'));
      await expectPong(t, c, Buffer.from('two'));
      await expectEcho(t, c, 'text', data, true);
    },
  },
  {
    id: 'D.4.1',
    description: '100 compressed messages, context kept both ways (each may refer back to the ones before)',
    expectation: '100 echoes in order; with the server\'s window kept, a repeated message comes back in under half the bytes it took the first time',
    async run(t) {
      const c = await openDeflate(t);
      const sent = Array.from({ length: 100 }, (_, i) => jsonText(2 * KiB + (i % 7) * 100, i % 10));
      await c.send(frames(...sent.flatMap((m) => compressedFrames(c, 'text', m))));
      const wire: number[] = [];
      for (const m of sent) wire.push((await expectEcho(t, c, 'text', m, true, 5000, true)).wire);
      t.note(`100 echoes, compressed, ${wire.reduce((a, b) => a + b, 0).toLocaleString('en')} bytes for ${sent.reduce((a, m) => a + m.length, 0).toLocaleString('en')}; message 71 repeats message 1: ${wire[0]} bytes the first time, ${wire[70]} the second`);
      // Message 70 repeats message 0 (same seed and size): with the window kept it is a back-reference.
      // Without it, it compresses as the first did (the same size); zlib's fastest levels (1-2) find
      // fewer back-references but still well under half (docs/deflate.md).
      if (!(wire[70] < wire[0] / 2)) throw new Mismatch(`a repeated message came back in ${wire[70]} bytes, the first in ${wire[0]}: the server does not keep its window`);
    },
  },
  {
    id: 'D.4.2',
    description: '20 identical compressed messages with server_no_context_takeover and client_no_context_takeover',
    expectation: '20 echoes, each compressed on its own: the same compressed bytes every time, each inflating with no window',
    async run(t) {
      const c = await openDeflate(t, 'permessage-deflate; server_no_context_takeover; client_no_context_takeover', 'permessage-deflate; server_no_context_takeover; client_no_context_takeover');
      const data = jsonText(4 * KiB, 31);
      await c.send(frames(...Array.from({ length: 20 }, () => compressedFrames(c, 'text', data)).flat()));
      const sizes = new Set<number>();
      for (let i = 0; i < 20; i++) sizes.add((await expectEcho(t, c, 'text', data, true, 5000, true)).wire);
      if (sizes.size !== 1) throw new Mismatch(`the 20 echoes came in ${sizes.size} different sizes: the server kept context`);
      t.note(`20 echoes, each compressed to ${[...sizes][0]} bytes on its own (and inflated with no window)`);
    },
  },
  {
    id: 'D.5.1',
    description: 'Uncompressed and compressed messages alternating on a connection with permessage-deflate',
    expectation: 'every message echoed, in order (RSV1 clear means an uncompressed message, RFC 7692 §6)',
    async run(t) {
      const c = await openDeflate(t);
      const sent = Array.from({ length: 10 }, (_, i) => jsonText(1500, 40 + i));
      await c.send(frames(...sent.flatMap((m, i) => (i % 2 ? compressedFrames(c, 'text', m) : [{ opcode: OP.TEXT, payload: m }]))));
      for (const m of sent) await expectEcho(t, c, 'text', m);
    },
  },
  rfcExample('D.5.2', 'RFC 7692 §7.2.3.1: "Hello" compressed in one frame', () => [{ opcode: OP.TEXT, rsv: RSV1, payload: HELLO }]),
  rfcExample('D.5.3', 'RFC 7692 §7.2.3.1: "Hello" compressed, in two fragments', () => [
    { opcode: OP.TEXT, rsv: RSV1, fin: false, payload: HELLO.subarray(0, 3) },
    { opcode: OP.CONT, payload: HELLO.subarray(3) },
  ]),
  rfcExample('D.5.4', 'RFC 7692 §7.2.3.2: two "Hello"s, the second a back-reference into the window', () => [
    { opcode: OP.TEXT, rsv: RSV1, payload: HELLO },
    { opcode: OP.TEXT, rsv: RSV1, payload: hex('f2 00 11 00 00') },
  ], 2),
  rfcExample('D.5.5', 'RFC 7692 §7.2.3.3: "Hello" in a DEFLATE block with no compression', () => [{ opcode: OP.TEXT, rsv: RSV1, payload: hex('00 05 00 fa ff 48 65 6c 6c 6f 00') }]),
  rfcExample('D.5.6', 'RFC 7692 §7.2.3.4: "Hello" in a DEFLATE block with BFINAL set', () => [{ opcode: OP.TEXT, rsv: RSV1, payload: hex('f3 48 cd c9 c9 07 00 00') }]),
  rfcExample('D.5.7', 'RFC 7692 §7.2.3.5: "Hello" in two DEFLATE blocks', () => [{ opcode: OP.TEXT, rsv: RSV1, payload: hex('f2 48 05 00 00 00 ff ff ca c9 c9 07 00') }]),
  {
    id: 'D.5.8',
    description: 'RFC 7692 §7.2.3.6: empty compressed messages, a single 0x00 and no payload at all, then "Hello"',
    expectation: 'two empty echoes, then "Hello"',
    async run(t) {
      const c = await openDeflate(t);
      await c.send(frames({ opcode: OP.BINARY, rsv: RSV1, payload: hex('00') }, { opcode: OP.TEXT, rsv: RSV1 }, { opcode: OP.TEXT, rsv: RSV1, payload: HELLO }));
      await expectEcho(t, c, 'binary', Buffer.alloc(0));
      await expectEcho(t, c, 'text', Buffer.alloc(0));
      await expectEcho(t, c, 'text', Buffer.from('Hello'));
    },
  },
  failCase('D.6.1', 'RSV1 on the continuation frame of a compressed message', 1002, 'RFC 7692 §6: only the first frame', (c) => {
    const p = c.deflate!.compress(jsonText(3000, 50));
    return frames({ opcode: OP.TEXT, rsv: RSV1, fin: false, payload: p.subarray(0, 10) }, { opcode: OP.CONT, rsv: RSV1, payload: p.subarray(10) });
  }),
  failCase('D.6.2', 'RSV1 on the continuation frame of an uncompressed message', 1002, 'RFC 7692 §6', () =>
    frames({ opcode: OP.TEXT, fin: false, payload: 'plain, ' }, { opcode: OP.CONT, rsv: RSV1, payload: 'then RSV1' }),
  ),
  failCase('D.6.3', 'RSV1 on a ping (no pong may come)', 1002, 'RFC 7692 §6: control frames are not compressed', () => frame({ opcode: OP.PING, rsv: RSV1, payload: 'ping' })),
  failCase('D.6.4', 'RSV1 on a pong', 1002, 'RFC 7692 §6', () => frame({ opcode: OP.PONG, rsv: RSV1, payload: 'pong' })),
  failCase('D.6.5', 'RSV1 on a close frame', 1002, 'RFC 7692 §6', () => frame({ opcode: OP.CLOSE, rsv: RSV1, payload: closeBody(1000) })),
  failCase('D.6.6', 'RSV2 on a compressed message', 1002, 'RFC 6455 §5.2: permessage-deflate gives meaning to RSV1 only', (c) => frame({ opcode: OP.TEXT, rsv: RSV1 | 2, payload: c.deflate!.compress(Buffer.from('x'.repeat(2000))) })),
  failCase('D.6.7', 'RSV3 on a compressed message', 1002, 'RFC 6455 §5.2', (c) => frame({ opcode: OP.TEXT, rsv: RSV1 | 1, payload: c.deflate!.compress(Buffer.from('x'.repeat(2000))) })),
  failCase('D.6.8', 'A compressed message whose data does not inflate (an invalid block type)', 1007, 'RFC 7692 §6.2 ... the server fails with 1007', () => frame({ opcode: OP.BINARY, rsv: RSV1, payload: hex('ff ff ff') })),
  failCase('D.6.9', 'A compressed text message that is not UTF-8 once inflated (an overlong 2-byte form)', 1007, 'RFC 6455 §8.1 on the inflated bytes', (c) =>
    frame({ opcode: OP.TEXT, rsv: RSV1, payload: c.deflate!.compress(Buffer.concat([Buffer.from('a'.repeat(100)), hex('c0 af'), Buffer.from('b'.repeat(100))])) }),
  ),
  {
    id: 'D.6.10',
    description: 'With client_no_context_takeover agreed, RFC 7692 §7.2.3.2\'s two "Hello"s: the second refers back into the first',
    expectation: 'the echo of the first, then close 1007: the server reset its window, so the reference points before the start',
    async run(t) {
      const c = await openDeflate(t, 'permessage-deflate; client_no_context_takeover', 'permessage-deflate; client_no_context_takeover');
      await c.send(frames({ opcode: OP.TEXT, rsv: RSV1, payload: HELLO }, { opcode: OP.TEXT, rsv: RSV1, payload: hex('f2 00 11 00 00') }));
      await expectEcho(t, c, 'text', Buffer.from('Hello'));
      await expectFail(t, c, 1007);
    },
  },
  {
    id: 'D.7.1',
    description: 'A decompression bomb: 1 MiB on the wire that inflates to 1 GiB of zeros',
    expectation: 'close 1009 within seconds (inflating stops at the 16 MiB cap), then a new connection is still served',
    timeoutMs: 30_000,
    async run(t) {
      const c = await openDeflate(t);
      const bomb = zeroBomb(1024);
      const started = performance.now();
      await c.send(frame({ opcode: OP.BINARY, rsv: RSV1, payload: bomb }));
      await expectFail(t, c, 1009, 10_000);
      t.note(`${bomb.length.toLocaleString('en')} bytes sent, 1009 after ${Math.round(performance.now() - started)} ms`);
      await expectServing(t);
    },
  },
  {
    id: 'D.7.2',
    description: 'The same bomb in 1,036 fragments of 1 KiB',
    expectation: 'close 1009: the cap is on the inflated message, however it is fragmented',
    timeoutMs: 30_000,
    async run(t) {
      const c = await openDeflate(t);
      const bomb = zeroBomb(1024);
      const specs: FrameSpec[] = [];
      for (let at = 0; at < bomb.length; at += KiB) {
        specs.push({ opcode: at === 0 ? OP.BINARY : OP.CONT, rsv: at === 0 ? RSV1 : 0, fin: at + KiB >= bomb.length, payload: bomb.subarray(at, at + KiB) });
      }
      await c.send(frames(...specs));
      await expectFail(t, c, 1009, 10_000);
    },
  },
  {
    id: 'D.7.3',
    description: 'A compressed message that inflates to 16 MiB + 1 byte, one more than the cap',
    expectation: 'close 1009',
    heavy: true,
    timeoutMs: 30_000,
    async run(t) {
      const c = await openDeflate(t);
      await c.send(frame({ opcode: OP.TEXT, rsv: RSV1, payload: c.deflate!.compress(Buffer.alloc(MAX_PAYLOAD + 1, 0x61)) }));
      await expectFail(t, c, 1009, 10_000);
    },
  },
  {
    id: 'D.7.4',
    description: 'A compressed frame announcing 16 MiB × 9/8 + 1 KiB + 1 bytes (more than any deflate stream of 16 MiB takes); only its header is sent',
    expectation: 'close 1009 at once, from the header',
    async run(t) {
      const c = await openDeflate(t);
      await c.send(frame({ opcode: OP.BINARY, rsv: RSV1, declaredLength: MAX_PAYLOAD + MAX_PAYLOAD / 8 + KiB + 1 }));
      await expectFail(t, c, 1009);
    },
  },
];

// ---------------------------------------------------------------------------
// 13: negotiation
// ---------------------------------------------------------------------------

function acceptCase(id: string, value: string, answer: string, note = ''): Case {
  return {
    id,
    description: `Offer "${value}"${note ? ` (${note})` : ''}`,
    expectation: `HTTP 101 answering "${answer}", then a compressed message echoed with the agreed parameters`,
    async run(t) {
      const c = await openDeflate(t, value, answer);
      const data = jsonText(20 * KiB, id.length);
      await c.send(frames(...compressedFrames(c, 'text', data)));
      await expectEcho(t, c, 'text', data, true);
    },
  };
}

function extraLinesCase(id: string, lines: string[], answer: string): Case {
  return {
    id,
    description: `Offers in ${lines.length} Sec-WebSocket-Extensions fields: ${lines.map((l) => `"${l}"`).join(', ')}`,
    expectation: `HTTP 101 answering "${answer}" (repeated fields are one list, RFC 6455 §9.1)`,
    async run(t) {
      const c = await t.open({ extraLines: lines.map((l) => `Sec-WebSocket-Extensions: ${l}`) });
      if (!c.deflate) throw new Unimplemented('the server did not agree to permessage-deflate');
      if (c.extensions !== answer) throw new Mismatch(`the 101 answers "${c.extensions}", expected "${answer}"`);
      t.note(`HTTP 101 answering "${answer}"`);
      const data = jsonText(4 * KiB, 5);
      await c.send(frames(...compressedFrames(c, 'text', data)));
      await expectEcho(t, c, 'text', data, true);
    },
  };
}

/** An offer the server must decline (RFC 7692 §7.1): 101 without the extension; RSV1 is then a protocol error. */
function declineCase(id: string, value: string, why: string): Case {
  return {
    id,
    description: `Offer "${value}" (${why})`,
    expectation: 'HTTP 101 without Sec-WebSocket-Extensions; an uncompressed message is echoed; a frame with RSV1 then fails with 1002',
    async run(t) {
      const c = await t.open(offer(value));
      if (c.deflate || c.extensions !== undefined) throw new Mismatch(`the 101 agrees to "${c.extensions}"`);
      t.note('HTTP 101 without Sec-WebSocket-Extensions');
      const data = jsonText(2 * KiB, 3);
      await c.send(frames({ opcode: OP.TEXT, payload: data }, { opcode: OP.TEXT, rsv: RSV1, payload: HELLO }));
      await expectEcho(t, c, 'text', data, false);
      await expectFail(t, c, 1002);
    },
  };
}

function malformedCase(id: string, value: string, why: string): Case {
  return {
    id,
    description: `A malformed Sec-WebSocket-Extensions "${value}" (${why})`,
    expectation: 'HTTP 400, then TCP close (RFC 6455 §9.1: a value that does not conform to the ABNF fails the connection); over HTTP/2, 400 on the stream and the connection serves on',
    async run(t) {
      if (t.target.http2) await expectH2Refusal(t, offer(value), { status: [400] });
      else await expectRejection(t, buildRequest(t.target, offer(value)).text, { status: 400 });
    },
  };
}

/** A parameter set in use, as Autobahn's 13.x: many messages of several sizes, checked against what was agreed. */
function parameterSetCase(id: string, value: string, answer: string): Case {
  return {
    id,
    description: `200 compressed messages of 16 bytes to 32 KiB under "${value}"`,
    expectation: `"${answer}" agreed; every echo right, each compressed one inflating as agreed (with the agreed server window; alone under server_no_context_takeover)`,
    heavy: true,
    timeoutMs: 40_000,
    async run(t) {
      const c = await openDeflate(t, value, answer);
      const sizes = [16, 64, 256, 1024, 4096, 8192, 16384, 32768];
      const sent = Array.from({ length: 200 }, (_, i) => jsonText(sizes[i % sizes.length], 100 + (i % 13)));
      await c.send(frames(...sent.flatMap((m, i) => compressedFrames(c, i % 2 ? 'binary' : 'text', m))));
      let compressed = 0;
      for (let i = 0; i < sent.length; i++) {
        const e = await c.next(BIG_TIMEOUT);
        const type = i % 2 ? 'binary' : 'text';
        if (e.type !== type || !e.data.equals(sent[i])) throw new Mismatch(`echo ${i + 1} of 200: expected ${sent[i].length}-byte ${type}, got ${describeEvent(e)}`);
        if (e.compressed) compressed++;
      }
      t.note(`200 echoes right, ${compressed} of them compressed, each inflated with a ${c.deflate!.agreement.serverMaxWindowBits}-bit window${c.deflate!.agreement.serverNoContextTakeover ? ' and no context' : ''}`);
    },
  };
}

const negotiationCases: Case[] = [
  acceptCase('N.1.1', 'permessage-deflate', 'permessage-deflate', 'RFC 7692 §7.1.3: the simplest offer'),
  acceptCase('N.1.2', 'permessage-deflate; client_max_window_bits', 'permessage-deflate', 'what browsers offer'),
  acceptCase('N.1.3', 'permessage-deflate; server_no_context_takeover', 'permessage-deflate; server_no_context_takeover', '§7.1.1.1'),
  acceptCase('N.1.4', 'permessage-deflate; client_no_context_takeover', 'permessage-deflate; client_no_context_takeover', '§7.1.1.2'),
  acceptCase('N.1.5', 'permessage-deflate; server_max_window_bits=9', 'permessage-deflate; server_max_window_bits=9', '§7.1.2.1: the smallest window zlib can compress with'),
  acceptCase('N.1.6', 'permessage-deflate; client_max_window_bits; server_max_window_bits=10', 'permessage-deflate; server_max_window_bits=10', 'RFC 7692 §7.1.3'),
  acceptCase('N.1.7', 'permessage-deflate; client_max_window_bits=8', 'permessage-deflate; client_max_window_bits=8', '§7.1.2.2: the smallest client window'),
  acceptCase('N.1.8', 'permessage-deflate; server_max_window_bits="12"', 'permessage-deflate; server_max_window_bits=12', 'a quoted value, RFC 6455 §9.1'),
  acceptCase(
    'N.1.9',
    'permessage-deflate; client_no_context_takeover; server_no_context_takeover; client_max_window_bits=9; server_max_window_bits=11',
    'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=11; client_max_window_bits=9',
    'all four parameters',
  ),
  acceptCase(
    'N.1.10',
    'permessage-deflate; client_max_window_bits; server_max_window_bits=10, permessage-deflate; client_max_window_bits',
    'permessage-deflate; server_max_window_bits=10',
    'RFC 7692 §7.1.3: a fallback offer; the first is accepted',
  ),
  acceptCase('N.1.11', 'permessage-deflate; server_max_window_bits=8, permessage-deflate', 'permessage-deflate', 'the first declined: zlib cannot compress with 8 window bits; the fallback is accepted'),
  acceptCase('N.1.12', 'x-webkit-deflate-frame, permessage-deflate; foo, permessage-deflate; client_max_window_bits', 'permessage-deflate', 'another extension ignored, an offer with an unknown parameter declined'),
  extraLinesCase('N.1.13', ['x-unknown; a=1', 'permessage-deflate; server_no_context_takeover'], 'permessage-deflate; server_no_context_takeover'),
  declineCase('N.2.1', 'permessage-deflate; foo', 'RFC 7692 §7.1: a parameter not defined for an offer'),
  declineCase('N.2.2', 'permessage-deflate; server_no_context_takeover; server_no_context_takeover', '§7.1: a parameter given twice'),
  declineCase('N.2.3', 'permessage-deflate; client_max_window_bits=10; client_max_window_bits=10', '§7.1: a parameter given twice, with the same value'),
  declineCase('N.2.4', 'permessage-deflate; server_max_window_bits=7', '§7.1.2.1: not 8-15'),
  declineCase('N.2.5', 'permessage-deflate; server_max_window_bits=16', '§7.1.2.1: not 8-15'),
  declineCase('N.2.6', 'permessage-deflate; client_max_window_bits=08', '§7.1.2.2: a leading zero'),
  declineCase('N.2.7', 'permessage-deflate; server_max_window_bits', '§7.1.2.1: a value is required'),
  declineCase('N.2.8', 'permessage-deflate; server_no_context_takeover=1', '§7.1.1.1: no value allowed'),
  declineCase('N.2.9', 'permessage-deflate; server_max_window_bits=8', '§7.1: the server does not support it (zlib cannot compress with a 256-byte window)'),
  declineCase('N.2.10', 'x-webkit-deflate-frame', 'an extension the server does not speak'),
  malformedCase('N.3.1', 'permessage-deflate; server_max_window_bits="10', 'an unterminated quoted string'),
  malformedCase('N.3.2', 'permessage-deflate; client_max_window_bits="1 0"', 'a quoted value that is not a token once unescaped'),
  malformedCase('N.3.3', 'permessage-deflate; server_max_window_bits=', '"=" with no value'),
  malformedCase('N.3.4', 'permessage-deflate;; client_max_window_bits', 'an empty parameter'),
  malformedCase('N.3.5', ', ,', 'no extension at all'),
  malformedCase('N.3.6', 'permessage deflate', 'a space inside a name'),
  parameterSetCase('N.4.1', 'permessage-deflate; client_max_window_bits', 'permessage-deflate'),
  parameterSetCase('N.4.2', 'permessage-deflate; client_no_context_takeover', 'permessage-deflate; client_no_context_takeover'),
  parameterSetCase('N.4.3', 'permessage-deflate; server_no_context_takeover', 'permessage-deflate; server_no_context_takeover'),
  parameterSetCase('N.4.4', 'permessage-deflate; server_max_window_bits=9', 'permessage-deflate; server_max_window_bits=9'),
  parameterSetCase('N.4.5', 'permessage-deflate; client_max_window_bits=9', 'permessage-deflate; client_max_window_bits=9'),
  parameterSetCase(
    'N.4.6',
    'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=8',
    'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=8',
  ),
];

export const compressionData: Family = {
  id: 'D',
  title: 'Compression: messages',
  summary:
    'RFC 7692 §6, §7.2 against strictws echo --deflate: compressed text and binary from empty to the 16 MiB cap, fragmented anyhow, with and without context takeover, and the RFC\'s examples are echoed; RSV1 off the first frame of a data message fails with 1002, data that does not inflate or is not UTF-8 with 1007, decompression bombs with 1009 at once.',
  cases: dataCases,
};

export const compressionNegotiation: Family = {
  id: 'N',
  title: 'Compression: negotiation',
  summary:
    'RFC 7692 §5, §7.1 and RFC 6455 §9.1: offers accepted with an answer stating exactly what was agreed, offers the server must decline answered without the extension, malformed headers refused with 400, and each parameter set in use over 200 messages.',
  cases: negotiationCases,
};
