/**
 * RFC 6455 §5.2 (base framing protocol) and §10.4 (size limits): the frame
 * decoder's header rules, incremental decoding, and the server's encoder.
 */
import { describe, expect, it } from 'vitest';
import {
  FrameDecoder,
  FrameFailures,
  MessageAssembler,
  type FrameFailureCode,
  type FrameSink,
  Opcode,
  ProtocolError,
  RSV1,
  RSV2,
  RSV3,
  encodeFrame,
  encodeFrameHeader,
  encodeMessage,
  isControlOpcode,
} from '../src/protocol/index.js';
import {
  DEFAULT_KEY,
  OP,
  binary,
  close,
  everyByte,
  expectFailure,
  expectOpen,
  feed,
  frame,
  frameHeader,
  openConnection,
  parseServerFrames,
  ping,
  receiveAll,
  summarize,
  text,
  xorMask,
} from './helpers.js';

describe('RFC 6455 §5.2: header rules (each violation fails the connection with 1002)', () => {
  const violations: Array<[string, Buffer, FrameFailureCode]> = [
    ['RSV1 without an extension', text('x', { rsv: RSV1 }), 'RESERVED_BITS'],
    ['RSV2 without an extension', text('x', { rsv: RSV2 }), 'RESERVED_BITS'],
    ['RSV3 without an extension', text('x', { rsv: RSV3 }), 'RESERVED_BITS'],
    ['all RSV bits', binary('x', { rsv: RSV1 | RSV2 | RSV3 }), 'RESERVED_BITS'],
    ['RSV1 on a ping', ping('x', { rsv: RSV1 }), 'RESERVED_BITS'],
    ['a 64-bit length with the top bit set', frameHeader({ opcode: OP.BINARY, length: 1n << 63n }), 'LENGTH_OUT_OF_RANGE'],
    ['a 64-bit length of all ones', frameHeader({ opcode: OP.BINARY, length: (1n << 64n) - 1n }), 'LENGTH_OUT_OF_RANGE'],
    ['length 0 in 16 bits', binary('', { lengthBits: 16 }), 'NON_MINIMAL_LENGTH'],
    ['length 125 in 16 bits', binary(Buffer.alloc(125), { lengthBits: 16 }), 'NON_MINIMAL_LENGTH'],
    ['length 0 in 64 bits', binary('', { lengthBits: 64 }), 'NON_MINIMAL_LENGTH'],
    ['length 125 in 64 bits', binary(Buffer.alloc(125), { lengthBits: 64 }), 'NON_MINIMAL_LENGTH'],
    ['length 126 in 64 bits', binary(Buffer.alloc(126), { lengthBits: 64 }), 'NON_MINIMAL_LENGTH'],
    ['length 65535 in 64 bits', binary(Buffer.alloc(65535), { lengthBits: 64 }), 'NON_MINIMAL_LENGTH'],
  ];

  it.each(violations)('%s → %s', (_, bytes, code) => {
    expect(FrameFailures[code]).toBe(1002);
    expect(expectFailure(receiveAll(bytes), code)).toEqual([]);
  });

  it.each(violations)('%s → %s, also when the header arrives byte by byte', (_, bytes, code) => {
    expectFailure(receiveAll(bytes, {}, everyByte(bytes)), code);
  });

  const reservedOpcodes = [0x3, 0x4, 0x5, 0x6, 0x7, 0xb, 0xc, 0xd, 0xe, 0xf];
  it.each(reservedOpcodes)('reserved opcode 0x%s → 1002 RESERVED_OPCODE', (opcode) => {
    expectFailure(receiveAll(frame({ opcode, payload: 'x' })), 'RESERVED_OPCODE');
    // Without FIN too: the opcode is checked whatever the other bits.
    expectFailure(receiveAll(frame({ opcode, payload: 'x', fin: false })), 'RESERVED_OPCODE');
  });

  it('RSV bits and opcodes are judged from the first byte alone', () => {
    for (const first of [0x80 | RSV1 | OP.TEXT, 0x80 | 0x3, 0x80 | 0xf, OP.PING]) {
      const { connection, recorder } = openConnection();
      connection.receive(Buffer.from([first]));
      expect(recorder.error?.closeCode).toBe(1002);
    }
  });

  it('accepts minimal lengths at the boundaries: 125 in 7 bits, 126 and 65535 in 16, 65536 in 64', () => {
    for (const n of [0, 125, 126, 65535, 65536]) {
      const recorder = receiveAll(binary(Buffer.alloc(n, 7)));
      expectOpen(recorder);
      expect(summarize(recorder.received)).toEqual([`binary:${'07'.repeat(n)}`]);
    }
  });

  describe('RSV bits an extension has given meaning to (decoder.allowedRsv)', () => {
    it('lets the allowed bit through and still refuses the others', () => {
      const { connection, recorder } = openConnection();
      connection.decoder.allowedRsv = RSV1;
      feed(connection, Buffer.concat([text('ok', { rsv: RSV1 }), text('no', { rsv: RSV2 })]));
      expect(expectFailure(recorder, 'RESERVED_BITS')).toEqual(['text:ok']);
    });

    it('passes the RSV bits of each header on to the sink', () => {
      const headers: number[][] = [];
      const sink: FrameSink = {
        onFrameHeader: (fin, rsv, opcode, length) => headers.push([Number(fin), rsv, opcode, length]),
        onFramePayload: () => {},
        onFrameEnd: () => {},
      };
      const decoder = new FrameDecoder(sink);
      decoder.allowedRsv = RSV1 | RSV3;
      decoder.push(Buffer.concat([text('ab', { rsv: RSV1 | RSV3, fin: false }), frame({ opcode: 0, payload: 'c' })]));
      expect(headers).toEqual([
        [0, RSV1 | RSV3, OP.TEXT, 2],
        [1, 0, OP.CONT, 1],
      ]);
    });
  });
});

describe('RFC 6455 §5.2: incremental decoding', () => {
  const stream = Buffer.concat([
    text('short'),
    binary(Buffer.alloc(300, 1)),
    ping('p'),
    binary(Buffer.alloc(70_000, 2)),
    text(''),
    close(1000, 'bye'),
  ]);
  const expected = [
    'text:short',
    `binary:${Buffer.alloc(300, 1).toString('hex')}`,
    'ping:70',
    `binary:${Buffer.alloc(70_000, 2).toString('hex')}`,
    'text:',
    'close:1000:bye',
    'closeTransport',
  ];

  it('decodes many frames from one chunk', () => {
    expect(summarize(receiveAll(stream).received)).toEqual(expected);
  });

  it('decodes the same frames cut at every byte of the headers and around them', () => {
    // Cut everywhere within the first 400 bytes (headers of 7- and 16-bit frames, payload)
    // and around the 64-bit header of the large frame.
    const big = stream.indexOf(Buffer.from([0x82, 0xff]));
    const cuts = [...everyByte(stream.subarray(0, 400)), ...Array.from({ length: 20 }, (_, i) => big - 2 + i), stream.length - 3];
    expect(summarize(receiveAll(stream, {}, cuts).received)).toEqual(expected);
  });

  it('decodes the same frames one byte at a time', () => {
    const small = Buffer.concat([text('héllo'), binary(Buffer.alloc(200, 3)), ping('x'), close(1001)]);
    expect(summarize(receiveAll(small, {}, everyByte(small)).received)).toEqual(
      summarize(receiveAll(small).received),
    );
  });

  it('delivers the messages completed before a protocol error, in order, then exactly one failure', () => {
    const bytes = Buffer.concat([text('one'), binary('two'), ping('3'), text('four'), frame({ opcode: 0x3 }), text('never')]);
    for (const cuts of [[], everyByte(bytes)]) {
      const recorder = receiveAll(bytes, {}, cuts);
      expect(expectFailure(recorder, 'RESERVED_OPCODE')).toEqual([
        'text:one',
        `binary:${Buffer.from('two').toString('hex')}`,
        'write:pong:33',
        'ping:33',
        'text:four',
      ]);
    }
  });

  it('lets an exception thrown by the application handler propagate: it is not a protocol error', () => {
    const { connection, recorder } = openConnection();
    recorder.onMessage = () => {
      throw new TypeError('application bug');
    };
    expect(() => connection.receive(text('x'))).toThrow(TypeError);
    expect(recorder.events).toEqual([]);
    expect(connection.state).toBe('OPEN');
  });

  it('ignores everything after a failure, in later chunks too', () => {
    const { connection, recorder } = openConnection();
    connection.receive(frame({ opcode: 0x3 }));
    const before = recorder.events.length;
    connection.receive(text('late'));
    connection.receive(Buffer.from([0xff, 0xff]));
    expect(recorder.events.length).toBe(before);
    expect(connection.state).toBe('CLOSED');
  });
});

describe('RFC 6455 §10.4: frame size decided from the header alone', () => {
  it('1009 for a frame over maxPayload when only its header has arrived', () => {
    const { connection, recorder } = openConnection({ maxPayload: 1000 });
    connection.receive(frameHeader({ opcode: OP.BINARY, length: 1001 }));
    expectFailure(recorder, 'MESSAGE_TOO_BIG');
  });

  it('no failure for a frame of exactly maxPayload, whose payload then arrives', () => {
    const { connection, recorder } = openConnection({ maxPayload: 1000 });
    connection.receive(frameHeader({ opcode: OP.BINARY, length: 1000 }));
    expect(recorder.events).toEqual([]);
    connection.receive(xorMask(Buffer.alloc(1000, 9), DEFAULT_KEY));
    expect(recorder.received).toEqual([{ type: 'message', data: Buffer.alloc(1000, 9), isBinary: true }]);
  });

  it.each([16 * 1024 * 1024 + 1, 2 ** 32, 2 ** 53 - 1, Number.MAX_SAFE_INTEGER * 1000])(
    '1009 under the default limits for the 64-bit header of a %i-byte frame, no payload sent',
    (length) => {
      const header = frameHeader({ opcode: OP.TEXT, length: BigInt(length) });
      for (const cuts of [[], everyByte(header)]) expectFailure(receiveAll(header, {}, cuts), 'MESSAGE_TOO_BIG');
    },
  );

  it('accepts a single 16 MiB frame (the default maxPayload)', () => {
    const payload = Buffer.alloc(16 * 1024 * 1024, 0x61);
    const recorder = receiveAll(binary(payload));
    expectOpen(recorder);
    expect(recorder.received).toHaveLength(1);
    const [event] = recorder.received;
    expect(event.type === 'message' && event.data.equals(payload)).toBe(true);
  });
});

describe('RFC 6455 §5.2: the server encoder', () => {
  const headers: Array<[number, string]> = [
    [0, '8200'],
    [125, '827d'],
    [126, '827e007e'],
    [65535, '827effff'],
    [65536, '827f0000000000010000'],
    [2 ** 32, '827f0000000100000000'],
  ];
  it.each(headers)('encodeFrameHeader uses the minimal length encoding for %i bytes', (length, hex) => {
    expect(encodeFrameHeader(Opcode.BINARY, length).toString('hex')).toBe(hex);
  });

  it('encodeFrameHeader sets FIN, RSV and the mask bit and key as asked', () => {
    expect(encodeFrameHeader(Opcode.TEXT, 3, { fin: false, rsv: RSV1 }).toString('hex')).toBe('4103');
    expect(encodeFrameHeader(Opcode.TEXT, 3, { mask: DEFAULT_KEY }).toString('hex')).toBe('818337fa213d');
    expect(encodeFrameHeader(Opcode.BINARY, 300, { mask: DEFAULT_KEY }).toString('hex')).toBe('82fe012c37fa213d');
  });

  it('encodeFrame produces the same frame as the reference builder, masked or not', () => {
    for (const n of [0, 5, 125, 126, 1000, 65536]) {
      const payload = Buffer.alloc(n, n & 0xff);
      const hex = (b: Buffer) => b.toString('hex');
      expect(hex(encodeFrame(Opcode.BINARY, payload, { mask: DEFAULT_KEY }))).toBe(hex(binary(payload)));
      expect(hex(encodeFrame(Opcode.BINARY, payload))).toBe(hex(binary(payload, { mask: null })));
    }
  });

  it('encodeFrame does not modify the payload it masks', () => {
    const payload = Buffer.from('unchanged');
    encodeFrame(Opcode.TEXT, payload, { mask: DEFAULT_KEY });
    expect(payload.toString()).toBe('unchanged');
  });

  it('Connection.send writes one unmasked frame, header and payload apart above 125 bytes', () => {
    const { connection, recorder } = openConnection();
    connection.send(Buffer.from('hi'), false);
    connection.send(Buffer.alloc(125, 1), true);
    connection.send(Buffer.alloc(126, 2), true);
    connection.send(Buffer.alloc(16 * 1024 + 1, 3), true);
    const writes = recorder.events.map((e) => (e.type === 'write' ? e.data.length : -1));
    expect(writes).toEqual([4, 2 + 125, 4, 126, 4, 16 * 1024 + 1]);
    expect(recorder.written.map((f) => [f.opcode, f.fin, f.masked, f.payload.length])).toEqual([
      [OP.TEXT, true, false, 2],
      [OP.BINARY, true, false, 125],
      [OP.BINARY, true, false, 126],
      [OP.BINARY, true, false, 16 * 1024 + 1],
    ]);
  });

  it('encodeMessage frames once for sendEncoded', () => {
    const { connection, recorder } = openConnection();
    const encoded = encodeMessage(Buffer.from('all'), false);
    expect(encoded.toString('hex')).toBe('8103616c6c');
    expect(encodeMessage(Buffer.from([1]), true).toString('hex')).toBe('820101');
    connection.sendEncoded(encoded);
    expect(summarize(recorder.events)).toEqual([`write:text:${Buffer.from('all').toString('hex')}`]);
  });

  it('isControlOpcode is true for 0x8-0xF only', () => {
    expect(Array.from({ length: 16 }, (_, op) => isControlOpcode(op))).toEqual(
      Array.from({ length: 16 }, (_, op) => op >= 8),
    );
  });

  it('parseServerFrames (the test oracle) reads back what the encoder writes', () => {
    const bytes = Buffer.concat([encodeFrame(Opcode.PING, Buffer.from('a')), encodeFrame(Opcode.TEXT, Buffer.from('b'), { fin: false })]);
    expect(parseServerFrames(bytes).map((f) => [f.opcode, f.fin, f.payload.toString()])).toEqual([
      [OP.PING, true, 'a'],
      [OP.TEXT, false, 'b'],
    ]);
  });
});

describe('ProtocolError', () => {
  it('maps every failure code to its close code', () => {
    for (const [code, closeCode] of Object.entries(FrameFailures) as Array<[FrameFailureCode, number]>) {
      const error = new ProtocolError(code, 'm');
      expect([error.name, error.code, error.closeCode, error.message]).toEqual(['ProtocolError', code, closeCode, 'm']);
      expect([1002, 1007, 1008, 1009]).toContain(closeCode);
    }
  });

  it('a client-side decoder refuses masked frames (RFC 6455 §5.1)', () => {
    const decoder = new FrameDecoder({ onFrameHeader() {}, onFramePayload() {}, onFrameEnd() {} }, false);
    expect(() => decoder.push(text('x'))).toThrow(expect.objectContaining({ code: 'UNMASKED_FRAME', message: 'masked server frame' }));
  });

  it('a decoder needs a sink, an assembler a handler (only the subclasses that are their own may leave it out)', () => {
    expect(() => new FrameDecoder(undefined)).toThrow(TypeError);
    expect(() => new FrameDecoder(undefined)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: 'FrameDecoder: a sink is required' }));
    expect(() => new MessageAssembler(undefined)).toThrow(TypeError);
    expect(() => new MessageAssembler(undefined)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: 'MessageAssembler: a handler is required' }));
  });

  it('allowedRsv keeps only the three RSV bits', () => {
    const decoder = new FrameDecoder({ onFrameHeader() {}, onFramePayload() {}, onFrameEnd() {} });
    decoder.allowedRsv = 0xff;
    expect(decoder.allowedRsv).toBe(RSV1 | RSV2 | RSV3);
    decoder.allowedRsv = RSV2;
    expect(decoder.allowedRsv).toBe(RSV2);
  });
});
