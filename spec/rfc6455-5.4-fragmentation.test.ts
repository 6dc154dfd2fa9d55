/**
 * RFC 6455 §5.4 (fragmentation) and §10.4 (limits on messages): message
 * assembly, the continuation rules, the fragment cap and the size cap.
 */
import { describe, expect, it } from 'vitest';
import {
  COALESCE_BELOW,
  DEFAULT_MAX_FRAGMENTS,
  DEFAULT_MAX_PAYLOAD,
  type FrameFailureCode,
  FrameFailures,
  MessageAssembler,
  PieceList,
} from '../src/protocol/index.js';
import {
  OP,
  binary,
  continuation,
  everyByte,
  expectFailure,
  expectOpen,
  fragmented,
  frameHeader,
  openConnection,
  ping,
  pong,
  receiveAll,
  summarize,
  text,
} from './helpers.js';

const hex = (s: string) => Buffer.from(s).toString('hex');

describe('RFC 6455 §5.4: reassembly', () => {
  it('joins a fragmented text message', () => {
    const bytes = Buffer.concat(fragmented(OP.TEXT, 'Hello, world', [3, 5, 11]));
    expect(summarize(receiveAll(bytes).received)).toEqual(['text:Hello, world']);
  });

  it('joins a fragmented binary message', () => {
    const bytes = Buffer.concat(fragmented(OP.BINARY, Buffer.from([1, 2, 3, 4, 5]), [1, 4]));
    expect(summarize(receiveAll(bytes).received)).toEqual(['binary:0102030405']);
  });

  it('accepts empty fragments anywhere, and an empty fragmented message', () => {
    const bytes = Buffer.concat([
      text('', { fin: false }),
      continuation('ab', { fin: false }),
      continuation('', { fin: false }),
      continuation('c'),
      binary('', { fin: false }),
      continuation(''),
    ]);
    expect(summarize(receiveAll(bytes).received)).toEqual(['text:abc', 'binary:']);
  });

  it('lets control frames interleave with the fragments of a message (§5.4, §5.5)', () => {
    const bytes = Buffer.concat([
      text('Hel', { fin: false }),
      ping('1'),
      continuation('lo', { fin: false }),
      pong('2'),
      ping('3'),
      continuation(' there'),
    ]);
    for (const cuts of [[], everyByte(bytes)]) {
      expect(summarize(receiveAll(bytes, {}, cuts).events)).toEqual([
        `write:pong:${hex('1')}`,
        `ping:${hex('1')}`,
        `pong:${hex('2')}`,
        `write:pong:${hex('3')}`,
        `ping:${hex('3')}`,
        'text:Hello there',
      ]);
    }
  });

  it('delivers consecutive fragmented messages separately', () => {
    const bytes = Buffer.concat([...fragmented(OP.TEXT, 'first', [2]), ...fragmented(OP.BINARY, 'second', [1, 3]), text('third')]);
    expect(summarize(receiveAll(bytes).received)).toEqual(['text:first', `binary:${hex('second')}`, 'text:third']);
  });

  const violations: Array<[string, Buffer[], FrameFailureCode, string[]]> = [
    ['a continuation with no message to continue', [continuation('x')], 'UNEXPECTED_CONTINUATION', []],
    ['a continuation after a finished message', [text('done'), continuation('x')], 'UNEXPECTED_CONTINUATION', ['text:done']],
    ['a text frame inside a fragmented message', [text('a', { fin: false }), text('b')], 'EXPECTED_CONTINUATION', []],
    [
      'a binary frame inside a fragmented message',
      [binary('a', { fin: false }), ping(), binary('b')],
      'EXPECTED_CONTINUATION',
      ['write:pong:', 'ping:'],
    ],
  ];
  it.each(violations)('1002 for %s (%s)', (_, frames, code, before) => {
    expect(FrameFailures[code]).toBe(1002);
    expect(expectFailure(receiveAll(Buffer.concat(frames)), code)).toEqual(before);
  });
});

describe('RFC 6455 §10.4: the fragment cap (1008)', () => {
  const message = (count: number) => Buffer.concat(fragmented(OP.BINARY, Buffer.alloc(count, 0x2a), everyByte(Buffer.alloc(count))));

  it('accepts maxFragments fragments, 1008 for one more', () => {
    expectOpen(receiveAll(message(10), { maxFragments: 10 }));
    const recorder = receiveAll(message(11), { maxFragments: 10 });
    expect(FrameFailures.TOO_MANY_FRAGMENTS).toBe(1008);
    expect(expectFailure(recorder, 'TOO_MANY_FRAGMENTS')).toEqual([]);
  });

  it('fails at the header of the fragment over the cap, before its payload', () => {
    const { connection, recorder } = openConnection({ maxFragments: 2 });
    connection.receive(Buffer.concat([text('a', { fin: false }), continuation('b', { fin: false })]));
    connection.receive(frameHeader({ opcode: OP.CONT, length: 100 }));
    expectFailure(recorder, 'TOO_MANY_FRAGMENTS');
  });

  it('counts each message on its own, and control frames not at all', () => {
    const bytes = Buffer.concat([
      text('a', { fin: false }),
      ping(),
      ping(),
      continuation('b'),
      ...fragmented(OP.TEXT, 'cd', [1]),
    ]);
    expect(summarize(receiveAll(bytes, { maxFragments: 2 }).received)).toEqual(['ping:', 'ping:', 'text:ab', 'text:cd']);
  });

  it('by default allows 65,536 fragments (Autobahn 9.3.1 / 9.4.1)', () => {
    expect(DEFAULT_MAX_FRAGMENTS).toBeGreaterThanOrEqual(65_536);
    const recorder = receiveAll(message(65_536));
    expectOpen(recorder);
    expect(summarize(recorder.received)).toEqual([`binary:${'2a'.repeat(65_536)}`]);
  });

  it('the default cap is enforced: DEFAULT_MAX_FRAGMENTS + 1 empty fragments fail with 1008', () => {
    const { connection, recorder } = openConnection();
    connection.receive(binary('', { fin: false }));
    const empty = continuation('', { fin: false });
    connection.receive(Buffer.concat(Array.from({ length: DEFAULT_MAX_FRAGMENTS - 1 }, () => empty)));
    expectOpen(recorder);
    connection.receive(empty);
    expectFailure(recorder, 'TOO_MANY_FRAGMENTS');
  });
});

describe('RFC 6455 §10.4: the message size cap across fragments (1009)', () => {
  it('accepts a message of exactly maxPayload in fragments, 1009 for one byte more', () => {
    const limits = { maxPayload: 10 };
    expect(summarize(receiveAll(Buffer.concat(fragmented(OP.TEXT, '0123456789', [4, 8])), limits).received)).toEqual([
      'text:0123456789',
    ]);
    expectFailure(receiveAll(Buffer.concat(fragmented(OP.TEXT, '0123456789A', [4, 8])), limits), 'MESSAGE_TOO_BIG');
  });

  it('fails at the header of the fragment that crosses the cap, before its payload', () => {
    const { connection, recorder } = openConnection({ maxPayload: 10 });
    connection.receive(binary('12345678', { fin: false }));
    connection.receive(frameHeader({ opcode: OP.CONT, length: 3 }));
    expect(expectFailure(recorder, 'MESSAGE_TOO_BIG')).toEqual([]);
  });

  it('counts each message on its own, and control frames not at all', () => {
    const bytes = Buffer.concat([binary('12345', { fin: false }), ping('x'.repeat(100)), continuation('67890'), text('0123456789')]);
    const recorder = receiveAll(bytes, { maxPayload: 10 });
    expectOpen(recorder);
    expect(summarize(recorder.received).filter((s) => !s.startsWith('ping'))).toEqual([`binary:${hex('1234567890')}`, 'text:0123456789']);
  });

  it('defaults to 16 MiB: a 16 MiB + 1 message in two fragments fails at the second header', () => {
    expect(DEFAULT_MAX_PAYLOAD).toBe(16 * 1024 * 1024);
    const { connection, recorder } = openConnection();
    connection.receive(frameHeader({ opcode: OP.BINARY, length: 8 * 1024 * 1024, fin: false }));
    connection.receive(Buffer.alloc(8 * 1024 * 1024));
    connection.receive(frameHeader({ opcode: OP.CONT, length: 8 * 1024 * 1024 + 1 }));
    expectFailure(recorder, 'MESSAGE_TOO_BIG');
  });
});

describe('RFC 6455 §10.4: bookkeeping of fragments is bounded by bytes, not by their number', () => {
  /** An assembler fed frames directly (no wire), recording what it delivers. */
  function assembler(inflater?: ConstructorParameters<typeof MessageAssembler>[2]) {
    const messages: Buffer[] = [];
    const a = new MessageAssembler({ onMessage: (data) => messages.push(data), onControl: () => {} }, {}, inflater);
    const frame = (opcode: number, payload: Buffer, { fin = true, rsv = 0 } = {}) => {
      a.onFrameHeader(fin, rsv, opcode, payload.length);
      a.onFramePayload(payload);
      a.onFrameEnd();
    };
    return { a, messages, frame };
  }

  it('65,535 one-byte fragments of an unfinished message are held in a handful of buffers', () => {
    const { a, frame } = assembler();
    frame(OP.BINARY, Buffer.from([0]), { fin: false });
    for (let i = 1; i < 65_535; i++) frame(OP.CONT, Buffer.from([i & 0xff]), { fin: false });
    // One per fragment before; now the first piece and copies of at most 64 KiB each.
    expect(a.heldBuffers).toBeLessThanOrEqual(3);
  });

  it('the same for a compressed (RSV1) message: its compressed pieces are coalesced too', () => {
    let held: readonly Buffer[] = [];
    const inflater = {
      compressedLimit: (max: number) => max,
      inflate: (pieces: readonly Buffer[]) => {
        held = pieces;
        return Buffer.concat(pieces);
      },
    };
    const { a, messages, frame } = assembler(inflater);
    frame(OP.BINARY, Buffer.from([0]), { fin: false, rsv: 0x4 });
    for (let i = 1; i < 10_000; i++) frame(OP.CONT, Buffer.from([i & 0xff]), { fin: false });
    expect(a.heldBuffers).toBeLessThanOrEqual(2);
    frame(OP.CONT, Buffer.alloc(0));
    expect(held.length).toBeLessThanOrEqual(2);
    expect(messages[0]).toEqual(Buffer.from(Array.from({ length: 10_000 }, (_, i) => i & 0xff)));
    expect(a.heldBuffers).toBe(0);
  });

  it('a message in one frame and one piece is passed on as it is, without a copy', () => {
    const { messages, frame } = assembler();
    const payload = Buffer.from('a whole message');
    frame(OP.TEXT, payload);
    expect(messages[0]).toBe(payload);
  });

  it('PieceList keeps the bytes in order for any mix of sizes, within its bound of buffers', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 20; round++) {
      const list = new PieceList();
      const expected: Buffer[] = [];
      for (let i = 0; i < 400; i++) {
        const size = random() < 0.8 ? Math.floor(random() * 40) : Math.floor(random() * 3 * COALESCE_BELOW);
        const piece = Buffer.from(Array.from({ length: size }, () => Math.floor(random() * 256)));
        expected.push(piece);
        list.push(piece);
      }
      const all = Buffer.concat(expected);
      expect(list.length).toBe(all.length);
      expect(list.buffers).toBeLessThanOrEqual(2 + (2 * all.length) / COALESCE_BELOW);
      expect(list.take()).toEqual(all);
      expect([list.length, list.buffers]).toEqual([0, 0]);
    }
  });
});
