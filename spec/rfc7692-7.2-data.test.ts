/**
 * RFC 7692 §6 and §7.2: compressed messages on a connection that negotiated
 * permessage-deflate. RSV1 marks the first frame of a compressed message and
 * nothing else; payloads inflate with 0x00 0x00 0xff 0xff appended, within
 * maxPayload (a decompression bomb stops at the cap); text is UTF-8-checked
 * after inflating; the LZ77 window carries over between messages unless
 * context takeover was negotiated away. And what the server sends.
 */
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { constants, deflateRaw, deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  type DeflateParams,
  FrameFailures,
  PerMessageDeflate,
  RSV1,
  RSV2,
  RSV3,
  encodeMessage,
} from '../src/protocol/index.js';
import {
  OP,
  binary,
  close,
  continuation,
  expectFailure,
  expectOpen,
  feed,
  frame,
  openConnection,
  ping,
  pong,
  summarize,
  text,
} from './helpers.js';
import { zlibStreamsWork } from '../src/protocol/zlib-stream.js';
import { StreamCodec, TAIL, clientDeflate, clientInflate, zeroBomb } from './support/deflate.js';

const PARAMS: DeflateParams = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };

function deflateConnection(params: Partial<DeflateParams> = {}, options: { maxPayload?: number; threshold?: number; maxFragments?: number } = {}) {
  const deflate = new PerMessageDeflate({ ...PARAMS, ...params }, { memLevel: 8, threshold: options.threshold ?? 1024 });
  const opened = openConnection({ maxPayload: options.maxPayload, maxFragments: options.maxFragments, deflate });
  return { ...opened, deflate };
}

/** A masked compressed frame: RSV1 set. */
const compressedText = (payload: Uint8Array, o: { fin?: boolean } = {}) => frame({ opcode: OP.TEXT, rsv: RSV1, payload, ...o });
const compressedBinary = (payload: Uint8Array, o: { fin?: boolean } = {}) => frame({ opcode: OP.BINARY, rsv: RSV1, payload, ...o });
const bytes = (...b: number[]) => Buffer.from(b);

describe('RFC 7692 §7.2.3: the examples, as a client would send them (masked)', () => {
  const hello = bytes(0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00);

  it('§7.2.3.1: "Hello" compressed in one frame', () => {
    const { connection, recorder } = deflateConnection();
    feed(connection, compressedText(hello));
    expect(summarize(recorder.received)).toEqual(['text:Hello']);
  });

  it('§7.2.3.1: the same compressed message in two fragments, RSV1 on the first only', () => {
    const { connection, recorder } = deflateConnection();
    feed(connection, Buffer.concat([compressedText(hello.subarray(0, 3), { fin: false }), continuation(hello.subarray(3))]));
    expect(summarize(recorder.received)).toEqual(['text:Hello']);
  });

  it('§7.2.3.2: a second "Hello" sharing the LZ77 window is 0xf2 0x00 0x11 0x00 0x00', () => {
    const { connection, recorder } = deflateConnection();
    feed(connection, Buffer.concat([compressedText(hello), compressedText(bytes(0xf2, 0x00, 0x11, 0x00, 0x00))]));
    expect(summarize(recorder.received)).toEqual(['text:Hello', 'text:Hello']);
  });

  it('§7.2.3.2: ... which does not inflate once client_no_context_takeover is agreed: the window was reset (1007)', () => {
    const { connection, recorder } = deflateConnection({ clientNoContextTakeover: true });
    feed(connection, Buffer.concat([compressedText(hello), compressedText(bytes(0xf2, 0x00, 0x11, 0x00, 0x00))]));
    expect(expectFailure(recorder, 'INVALID_COMPRESSED_DATA')).toEqual(['text:Hello']);
  });

  it('§7.2.3.3: a DEFLATE block with no compression', () => {
    const { connection, recorder } = deflateConnection();
    feed(connection, compressedText(bytes(0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00)));
    expect(summarize(recorder.received)).toEqual(['text:Hello']);
  });

  it('§7.2.3.4: a DEFLATE block with BFINAL set to 1', () => {
    const { connection, recorder } = deflateConnection();
    feed(connection, compressedText(bytes(0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00)));
    expect(summarize(recorder.received)).toEqual(['text:Hello']);
  });

  it('§7.2.3.5: two DEFLATE blocks in one message', () => {
    const { connection, recorder } = deflateConnection();
    feed(connection, compressedText(bytes(0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00)));
    expect(summarize(recorder.received)).toEqual(['text:Hello']);
  });

  it('§7.2.3.6: an empty message: a single 0x00, or no payload at all', () => {
    const { connection, recorder } = deflateConnection();
    feed(connection, Buffer.concat([compressedText(bytes(0x00)), compressedBinary(Buffer.alloc(0)), compressedText(hello, { fin: false }), continuation('')]));
    expect(summarize(recorder.received)).toEqual(['text:', 'binary:', 'text:Hello']);
  });
});

describe('RFC 7692 §6: RSV1', () => {
  const message = clientDeflate('compressed, in fragments');

  it('RSV1 on a continuation frame of a compressed message fails with 1002', () => {
    const { connection, recorder } = deflateConnection();
    feed(connection, Buffer.concat([compressedText(message.subarray(0, 4), { fin: false }), frame({ opcode: OP.CONT, rsv: RSV1, payload: message.subarray(4) })]));
    expect(expectFailure(recorder, 'UNEXPECTED_COMPRESSION_BIT')).toEqual([]);
    expect(FrameFailures.UNEXPECTED_COMPRESSION_BIT).toBe(1002);
  });

  it('RSV1 on a continuation frame of an uncompressed message fails with 1002', () => {
    const { connection, recorder } = deflateConnection();
    feed(connection, Buffer.concat([text('plain ', { fin: false }), frame({ opcode: OP.CONT, rsv: RSV1, payload: 'text' })]));
    expect(expectFailure(recorder, 'UNEXPECTED_COMPRESSION_BIT')).toEqual([]);
  });

  for (const [name, make] of [
    ['ping', () => ping('x', { rsv: RSV1 })],
    ['pong', () => pong('x', { rsv: RSV1 })],
    ['close', () => close(1000, '', { rsv: RSV1 })],
  ] as const) {
    it(`RSV1 on a ${name} fails with 1002, also between the fragments of a compressed message`, () => {
      for (const stream of [make(), Buffer.concat([compressedText(message.subarray(0, 4), { fin: false }), make()])]) {
        const { connection, recorder } = deflateConnection();
        feed(connection, stream);
        expectFailure(recorder, 'UNEXPECTED_COMPRESSION_BIT');
      }
    });
  }

  it('RSV2 and RSV3 stay reserved (1002 RESERVED_BITS)', () => {
    for (const rsv of [RSV2, RSV3, RSV1 | RSV2]) {
      const { connection, recorder } = deflateConnection();
      feed(connection, frame({ opcode: OP.TEXT, rsv, payload: message }));
      expectFailure(recorder, 'RESERVED_BITS');
    }
  });

  it('a message without RSV1 is not compressed, and stays out of the LZ77 window', () => {
    const { connection, recorder } = deflateConnection();
    // "Hello" uncompressed, then a compressed message that refers back to a "Hello" in the window.
    feed(connection, Buffer.concat([text('Hello'), compressedText(bytes(0xf2, 0x00, 0x11, 0x00, 0x00))]));
    expect(expectFailure(recorder, 'INVALID_COMPRESSED_DATA')).toEqual(['text:Hello']);
  });

  it('control frames may come between the fragments of a compressed message', () => {
    const { connection, recorder } = deflateConnection();
    feed(connection, Buffer.concat([compressedText(message.subarray(0, 3), { fin: false }), ping('1'), continuation(message.subarray(3, 9), { fin: false }), pong('2'), continuation(message.subarray(9))]));
    expect(summarize(recorder.received)).toEqual(['ping:31', 'pong:32', 'text:compressed, in fragments']);
  });

  it('the fragment cap counts the frames of compressed messages too', () => {
    const { connection, recorder } = deflateConnection({}, { maxFragments: 3 });
    feed(connection, Buffer.concat([compressedText(message.subarray(0, 2), { fin: false }), continuation(message.subarray(2, 4), { fin: false }), continuation(message.subarray(4, 6), { fin: false }), continuation(message.subarray(6))]));
    expectFailure(recorder, 'TOO_MANY_FRAGMENTS');
  });
});

describe('RFC 7692 §7.2.2: inflating', () => {
  it('data that does not inflate fails with 1007 INVALID_COMPRESSED_DATA', () => {
    const { connection, recorder } = deflateConnection();
    feed(connection, compressedBinary(bytes(0xff, 0xff, 0xff)));
    expectFailure(recorder, 'INVALID_COMPRESSED_DATA');
    expect(FrameFailures.INVALID_COMPRESSED_DATA).toBe(1007);
  });

  it('keeps the window across messages: each message may refer back into the ones before', () => {
    const { connection, recorder } = deflateConnection();
    const first = 'the same sentence, over and over. '.repeat(20);
    const second = `${first}and then some`;
    feed(connection, Buffer.concat([compressedText(clientDeflate(first)), compressedText(clientDeflate(second, { dictionary: Buffer.from(first) }))]));
    expect(summarize(recorder.received)).toEqual([`text:${first}`, `text:${second}`]);
  });

  it('text is UTF-8-checked after inflating (1007 INVALID_UTF8); binary is not', () => {
    const invalid = Buffer.from([0x61, 0xc0, 0xaf, 0x62]);
    const bad = deflateConnection();
    feed(bad.connection, compressedText(clientDeflate(invalid)));
    expectFailure(bad.recorder, 'INVALID_UTF8');
    const ok = deflateConnection();
    feed(ok.connection, compressedBinary(clientDeflate(invalid)));
    expect(summarize(ok.recorder.received)).toEqual(['binary:61c0af62']);
  });

  it('text whose compressed bytes are not UTF-8 is fine: fragments may split anywhere', () => {
    const message = '€😀'.repeat(50);
    const compressed = clientDeflate(message);
    const { connection, recorder } = deflateConnection();
    feed(connection, Buffer.concat([compressedText(compressed.subarray(0, 1), { fin: false }), ...[...compressed.subarray(1)].map((b, i, all) => continuation(Buffer.from([b]), { fin: i === all.length - 1 }))]));
    expect(summarize(recorder.received)).toEqual([`text:${message}`]);
  });

  it('a message that inflates to exactly maxPayload is delivered; one byte more fails with 1009', () => {
    const max = 10_000;
    const exact = deflateConnection({}, { maxPayload: max });
    feed(exact.connection, compressedBinary(clientDeflate(Buffer.alloc(max, 0x61))));
    expect(exact.recorder.received).toHaveLength(1);
    const over = deflateConnection({}, { maxPayload: max });
    feed(over.connection, compressedBinary(clientDeflate(Buffer.alloc(max + 1, 0x61))));
    expectFailure(over.recorder, 'MESSAGE_TOO_BIG');
  });

  it('an incompressible message of maxPayload bytes is accepted though its compressed form is larger', () => {
    const max = 5000;
    const payload = Buffer.from(Array.from({ length: max }, (_, i) => (i * 7919 + (i >> 3) * 31) & 0xff));
    const stored = clientDeflate(payload, { level: 0 });
    expect(stored.length).toBeGreaterThan(max);
    const { connection, recorder } = deflateConnection({}, { maxPayload: max });
    feed(connection, compressedBinary(stored));
    expectOpen(recorder);
    expect(recorder.received).toHaveLength(1);
  });

  it('a compressed frame announcing more than the compressed bound fails with 1009 from its header', () => {
    const max = 8000;
    const { connection, recorder, deflate } = deflateConnection({}, { maxPayload: max });
    feed(connection, frame({ opcode: OP.BINARY, rsv: RSV1, payload: Buffer.alloc(0), declaredLength: deflate.compressedLimit(max) + 1 }));
    expectFailure(recorder, 'MESSAGE_TOO_BIG');
  });

  it('the uncompressed cap still applies from the header to messages without RSV1', () => {
    const { connection, recorder } = deflateConnection({}, { maxPayload: 100 });
    feed(connection, binary(Buffer.alloc(101)));
    expectFailure(recorder, 'MESSAGE_TOO_BIG');
  });
});

describe('decompression bombs: RFC 6455 §10.4\'s cap applied to inflated bytes', () => {
  it('a 1 KiB frame that inflates to 1 MiB closes with 1009 against maxPayload 64 KiB, at once', () => {
    const bomb = zeroBomb(1);
    expect(bomb.length).toBeLessThan(1100);
    const { connection, recorder } = deflateConnection({}, { maxPayload: 64 * 1024 });
    feed(connection, compressedBinary(bomb));
    expectFailure(recorder, 'MESSAGE_TOO_BIG');
  });

  it('a 1 MiB message that inflates to 1 GiB stops at the 16 MiB cap: milliseconds, not a gigabyte', () => {
    const bomb = zeroBomb(1024);
    expect(bomb.length).toBeLessThan(1.1 * 1024 * 1024);
    const { connection, recorder } = deflateConnection();
    const before = process.memoryUsage();
    feed(connection, compressedBinary(bomb));
    const after = process.memoryUsage();
    expectFailure(recorder, 'MESSAGE_TOO_BIG');
    // zlib stops after the cap: far less than the gigabyte the bomb holds (speed: bench/hostile.ts).
    expect(after.arrayBuffers + after.rss - before.arrayBuffers - before.rss).toBeLessThan(256 * 1024 * 1024);
  });

  it('a bomb split over many fragments is no different', () => {
    const bomb = zeroBomb(4);
    const { connection, recorder } = deflateConnection({}, { maxPayload: 1 << 20 });
    const pieces = [];
    for (let i = 0; i < bomb.length; i += 100) pieces.push(bomb.subarray(i, i + 100));
    feed(connection, Buffer.concat(pieces.map((p, i) => frame({ opcode: i === 0 ? OP.BINARY : OP.CONT, rsv: i === 0 ? RSV1 : 0, fin: i === pieces.length - 1, payload: p }))));
    expectFailure(recorder, 'MESSAGE_TOO_BIG');
  });
});

describe('RFC 7692 §7.2.1: what the server sends', () => {
  // JSON-like text: compressible, but not to nothing.
  const compressible = Buffer.from(
    Array.from({ length: 60 }, (_, i) => JSON.stringify({ id: i, user: `user${(i * 7919) % 1000}`, score: (i * 104729) % 9973, ok: i % 3 === 0 })).join('\n'),
  );

  function sent(connection: ReturnType<typeof deflateConnection>) {
    return connection.recorder.written;
  }

  it('compresses a message at or over the threshold: RSV1, a payload that inflates to it, no tail', () => {
    const c = deflateConnection();
    c.connection.send(compressible, false);
    const [f] = sent(c);
    expect(f).toMatchObject({ fin: true, rsv: RSV1, opcode: OP.TEXT, masked: false });
    expect(f.payload.length).toBeLessThan(compressible.length / 3);
    expect(f.payload.subarray(-4).equals(TAIL)).toBe(false);
    expect(clientInflate(f.payload)).toEqual(compressible);
  });

  it('sends messages under the threshold (default 1024 bytes) uncompressed', () => {
    const c = deflateConnection();
    c.connection.send(compressible.subarray(0, 1023), true);
    c.connection.send(compressible.subarray(0, 1024), true);
    expect(sent(c).map((f) => [f.rsv, f.opcode])).toEqual([[0, OP.BINARY], [RSV1, OP.BINARY]]);
  });

  it('sends uncompressed what compressing would not make smaller (RFC 7692 §6 allows either)', () => {
    const c = deflateConnection({}, { threshold: 0 });
    const random = randomBytes(4096);
    c.connection.send(Buffer.from('Hello'), false);
    c.connection.send(random, true);
    c.connection.send(Buffer.alloc(0), true);
    expect(sent(c).map((f) => f.rsv)).toEqual([0, 0, 0]);
    expect(sent(c)[1].payload).toEqual(random);
  });

  it('keeps its window: a repeated message refers back to the first (the client needs it to inflate)', () => {
    const c = deflateConnection();
    c.connection.send(compressible, false);
    c.connection.send(compressible, false);
    const [first, second] = sent(c);
    expect(second.payload.length).toBeLessThan(first.payload.length / 4);
    expect(clientInflate(second.payload, { dictionary: compressible })).toEqual(compressible);
    expect(() => clientInflate(second.payload)).toThrow();
  });

  it('with server_no_context_takeover, each message is compressed on its own', () => {
    const c = deflateConnection({ serverNoContextTakeover: true });
    c.connection.send(compressible, false);
    c.connection.send(compressible, false);
    const [first, second] = sent(c);
    expect(second.payload).toEqual(first.payload);
    expect(clientInflate(second.payload)).toEqual(compressible);
  });

  it('compresses within the agreed server window: an inflater with that window decodes it', () => {
    const long = Buffer.from(Array.from({ length: 20_000 }, (_, i) => String.fromCharCode(97 + ((i * i) % 26))).join(''));
    for (const bits of [9, 10, 12]) {
      const c = deflateConnection({ serverMaxWindowBits: bits });
      c.connection.send(long, false);
      c.connection.send(long, false);
      const [first, second] = sent(c);
      expect(clientInflate(first.payload, { windowBits: bits })).toEqual(long);
      expect(clientInflate(second.payload, { windowBits: bits, dictionary: long.subarray(-(2 ** bits)) })).toEqual(long);
    }
  });

  it('never compresses control frames', () => {
    const c = deflateConnection({}, { threshold: 0 });
    c.connection.ping(Buffer.alloc(125, 0x61));
    c.connection.pong(Buffer.alloc(125, 0x61));
    c.connection.close(1000, 'a'.repeat(100));
    expect(sent(c).map((f) => [f.opcode, f.rsv])).toEqual([[OP.PING, 0], [OP.PONG, 0], [OP.CLOSE, 0]]);
  });

  it('a pre-encoded frame (encodeMessage, for broadcasts) goes out as it is: uncompressed, which is valid', () => {
    const c = deflateConnection();
    c.connection.sendEncoded(encodeMessage(compressible, false));
    expect(sent(c)).toEqual([{ fin: true, rsv: 0, opcode: OP.TEXT, masked: false, payload: compressible }]);
  });

  it('holds no window until a message uses one, and lets go of them when the connection closes', () => {
    const c = deflateConnection();
    expect(c.deflate.windowBytes).toBe(0);
    c.connection.send(compressible, false);
    expect(c.deflate.windowBytes).toBe(32 * 1024);
    feed(c.connection, compressedText(clientDeflate('x'.repeat(2000))));
    expect(c.deflate.windowBytes).toBe(64 * 1024);
    feed(c.connection, close(1000));
    expect(c.deflate.windowBytes).toBe(0);
    const none = deflateConnection({ serverNoContextTakeover: true, clientNoContextTakeover: true });
    none.connection.send(compressible, false);
    feed(none.connection, compressedText(clientDeflate('x'.repeat(2000))));
    expect(none.deflate.windowBytes).toBe(0);
    const small = deflateConnection({ serverMaxWindowBits: 9, clientMaxWindowBits: 8 });
    small.connection.send(compressible, false);
    feed(small.connection, compressedText(clientDeflate('x'.repeat(2000), { windowBits: 9 })));
    expect(small.deflate.windowBytes).toBe(512 + 256);
  });
});

describe('compressing in two steps, for a caller that runs zlib elsewhere (the runtime\'s threadpool path)', () => {
  const long = Buffer.from(Array.from({ length: 3000 }, (_, i) => `line ${i % 97}: ${'abc'.repeat(i % 7)}`).join('\n'));

  it('deflateOptions, zlib\'s asynchronous deflateRaw and finishDeflate give what deflate gives, window included', async () => {
    // At levels 4, 6 and 9 a preset dictionary gives the bytes a kept stream gives; at 1-3 (the
    // default is 1, zlib's fast path) other bytes, the same messages (docs/deflate.md).
    for (const level of [4, 6, 9, undefined]) {
      const sync = new PerMessageDeflate(PARAMS, { memLevel: 8, threshold: 1024, level });
      const split = new PerMessageDeflate(PARAMS, { memLevel: 8, threshold: 1024, level });
      const clients = [new StreamCodec(), new StreamCodec()];
      try {
        for (const message of [long, long.subarray(1000), Buffer.from('short'), long]) {
          const options = split.deflateOptions(message);
          const payload = options && split.finishDeflate(message, await promisify(deflateRaw)(message, options));
          const direct = sync.deflate(message);
          if (level !== undefined) expect(payload, `level ${level}`).toEqual(direct);
          expect(payload === undefined).toBe(direct === undefined);
          if (!payload || !direct) continue;
          // A client that keeps its context inflates both to the message.
          expect(await clients[0].inflate(payload)).toEqual(message);
          expect(await clients[1].inflate(direct)).toEqual(message);
        }
      } finally {
        for (const client of clients) client.close();
      }
    }
  });

  it('finishDeflate sends uncompressed what would not shrink, or zlib output without the sync-flush tail', () => {
    const split = new PerMessageDeflate(PARAMS, { memLevel: 8, threshold: 0 });
    const random = randomBytes(2000);
    expect(split.finishDeflate(random, deflateRawSync(random, split.deflateOptions(random)))).toBeUndefined();
    expect(split.finishDeflate(long, Buffer.from([1, 2, 3]))).toBeUndefined();
    expect(split.deflateOptions(Buffer.alloc(0))).toBeUndefined();
  });

  it('Connection.sendCompressed frames the payload with RSV1; without permessage-deflate it refuses', () => {
    const c = deflateConnection();
    const payload = c.deflate.deflate(long)!;
    c.connection.sendCompressed(payload, true);
    c.connection.send(long, false, false);
    expect(c.recorder.written.map((f) => [f.opcode, f.rsv, f.payload.length])).toEqual([
      [OP.BINARY, RSV1, payload.length],
      [OP.TEXT, 0, long.length],
    ]);
    const { connection } = openConnection();
    expect(() => connection.sendCompressed(payload, true)).toThrow(/not negotiated/);
  });
});

describe('how zlib runs: a stream per direction kept across messages, or one-shot calls', () => {
  const first = Buffer.from('the same sentence, over and over. '.repeat(40));
  const second = Buffer.concat([first, Buffer.from('and then some')]);

  it('on this Node, node:zlib\'s internals work and PerMessageDeflate keeps zlib streams (the fast path is the one in use)', () => {
    expect(zlibStreamsWork()).toBe(true);
    const c = deflateConnection();
    expect(c.deflate.streams).toBe(true);
    expect(c.deflate.holdsEngine).toBe(false);
    feed(c.connection, compressedText(clientDeflate(first)));
    expect(c.deflate.holdsEngine).toBe(true);
    feed(c.connection, close(1000));
    expect(c.deflate.holdsEngine).toBe(false);
  });

  it('the one-shot path (streams: false) inflates and compresses the same messages, holding no zlib stream', async () => {
    const deflate = new PerMessageDeflate(PARAMS, { memLevel: 8, threshold: 0 }, { streams: false });
    const { connection, recorder } = openConnection({ deflate });
    feed(connection, Buffer.concat([compressedText(clientDeflate(first)), compressedText(clientDeflate(second, { dictionary: first }))]));
    expect(summarize(recorder.received)).toEqual([`text:${first}`, `text:${second}`]);
    const client = new StreamCodec();
    try {
      for (const m of [first, second]) expect(await client.inflate(deflate.deflate(m)!)).toEqual(m);
    } finally {
      client.close();
    }
    expect(deflate.holdsEngine).toBe(false);
  });

  it('a message ending the DEFLATE stream (BFINAL) is inflated to its end; the next one still refers back into the window', () => {
    const { connection, recorder } = deflateConnection();
    const finished = deflateRawSync(first, { finishFlush: constants.Z_FINISH });
    // 0x01: an empty final stored block, whose LEN and NLEN are the appended 00 00 ff ff: it ends exactly there.
    feed(connection, Buffer.concat([compressedText(finished), compressedText(bytes(0x01)), compressedText(clientDeflate(second, { dictionary: first }))]));
    expect(summarize(recorder.received)).toEqual([`text:${first}`, 'text:', `text:${second}`]);
  });

  it('idle: releaseIfIdle closes both streams after a sweep without a message; the client\'s window stays, ours starts afresh', async () => {
    const c = deflateConnection();
    const client = new StreamCodec();
    try {
      feed(c.connection, compressedText(clientDeflate(first)));
      c.connection.send(first, false);
      expect(c.deflate.releaseIfIdle()).toBe(false); // used since the last sweep
      expect(c.deflate.holdsEngine).toBe(true);
      expect(c.deflate.releaseIfIdle()).toBe(true);
      expect(c.deflate.holdsEngine).toBe(false);
      expect(c.deflate.windowBytes).toBe(32 * 1024); // the client's window only
      feed(c.connection, compressedText(clientDeflate(second, { dictionary: first })));
      c.connection.send(second, false);
      expect(summarize(c.recorder.received)).toEqual([`text:${first}`, `text:${second}`]);
      const sent = c.recorder.written.filter((f) => f.opcode === OP.TEXT);
      expect(sent.map((f) => f.rsv)).toEqual([RSV1, RSV1]);
      // A client that kept its context inflates what we sent after starting afresh.
      for (const [i, m] of [first, second].entries()) expect(await client.inflate(sent[i].payload)).toEqual(m);
    } finally {
      client.close();
    }
  });

  it('a message compressed elsewhere (deflateOptions), or sent uncompressed because it would not shrink, passes the stream by: the next message still inflates at the client', async () => {
    const deflate = new PerMessageDeflate(PARAMS, { memLevel: 8, threshold: 0 });
    const client = new StreamCodec();
    const random = randomBytes(3000);
    try {
      const a = deflate.deflate(first)!;
      const options = deflate.deflateOptions(second)!;
      const b = deflate.finishDeflate(second, deflateRawSync(second, options))!;
      expect(deflate.deflate(random)).toBeUndefined(); // not smaller: sent as it is, not in the client's window
      const c = deflate.deflate(second)!;
      expect(c.length).toBeLessThan(b.length); // refers back to the second message
      for (const [payload, m] of [[a, first], [b, second], [c, second]] as const) expect(await client.inflate(payload)).toEqual(m);
    } finally {
      client.close();
    }
  });
});

describe('the compression level (a local compressor setting, §7.2.1)', () => {
  const json = Buffer.from(Array.from({ length: 800 }, (_, i) => JSON.stringify({ id: i, user: `user${(i * 7919) % 1000}`, ok: i % 3 > 0 })).join('\n'));
  const engines = [
    ['kept zlib stream', (level?: number) => new PerMessageDeflate(PARAMS, { memLevel: 8, threshold: 0, level }).deflate(json)],
    ['one-shot calls', (level?: number) => new PerMessageDeflate(PARAMS, { memLevel: 8, threshold: 0, level }, { streams: false }).deflate(json)],
    [
      'deflateOptions (the threadpool path)',
      (level?: number) => {
        const codec = new PerMessageDeflate(PARAMS, { memLevel: 8, threshold: 0, level });
        const options = codec.deflateOptions(json);
        return options && codec.finishDeflate(json, deflateRawSync(json, options));
      },
    ],
  ] as const;

  for (const [engine, compress] of engines) {
    it(`${engine}: zlib compresses at the level asked for, 1 by default; level 0 sends uncompressed`, () => {
      for (const level of [1, 6, 9]) expect(compress(level), `level ${level}`).toEqual(clientDeflate(json, { level }));
      expect(compress()).toEqual(clientDeflate(json, { level: 1 }));
      expect(compress(9)!.length).toBeLessThan(compress(1)!.length);
      expect(compress(0)).toBeUndefined();
    });
  }
});

describe('why server_max_window_bits=8 is declined', () => {
  it('zlib compresses with a 512-byte window when asked for 256 bytes: the output is the same as for 9 bits', () => {
    const data = Buffer.from(Array.from({ length: 50_000 }, (_, i) => String.fromCharCode(97 + ((i * 31 + (i >> 9)) % 26))).join(''));
    expect(deflateRawSync(data, { windowBits: 8 })).toEqual(deflateRawSync(data, { windowBits: 9 }));
  });
});
