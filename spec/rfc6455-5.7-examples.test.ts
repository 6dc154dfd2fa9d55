/**
 * RFC 6455 §5.7: the example frames, byte for byte. Unmasked frames are what
 * a server writes; masked frames are what a client sends and the server reads.
 */
import { describe, expect, it } from 'vitest';
import { FrameDecoder, MessageAssembler, Opcode, encodeFrame } from '../src/protocol/index.js';
import { everyByte, expectFailure, openConnection, pattern, receiveAll, summarize } from './helpers.js';

const bytes = (...values: number[]) => Buffer.from(values);
const HELLO_HEX = Buffer.from('Hello').toString('hex');

describe('RFC 6455 §5.7: examples', () => {
  it('a single-frame unmasked text message: the server writes 0x81 0x05 "Hello"', () => {
    const { connection, recorder } = openConnection();
    connection.send(Buffer.from('Hello'), false);
    expect(recorder.events).toEqual([{ type: 'write', data: bytes(0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f) }]);
  });

  it('a single-frame masked text message: the server reads "Hello"', () => {
    const frame = bytes(0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58);
    expect(summarize(receiveAll(frame).events)).toEqual(['text:Hello']);
  });

  it('the same masked message, one byte at a time', () => {
    const frame = bytes(0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58);
    expect(summarize(receiveAll(frame, {}, everyByte(frame)).events)).toEqual(['text:Hello']);
  });

  describe('a fragmented unmasked text message: 0x01 0x03 "Hel", 0x80 0x02 "lo"', () => {
    const first = bytes(0x01, 0x03, 0x48, 0x65, 0x6c);
    const second = bytes(0x80, 0x02, 0x6c, 0x6f);

    it('is what the encoder writes for the two fragments', () => {
      expect(encodeFrame(Opcode.TEXT, Buffer.from('Hel'), { fin: false })).toEqual(first);
      expect(encodeFrame(Opcode.CONTINUATION, Buffer.from('lo'))).toEqual(second);
    });

    it('decodes to "Hello" with a client-side (unmasked) decoder', () => {
      const messages: string[] = [];
      const assembler = new MessageAssembler({
        onMessage: (data, isBinary) => messages.push(`${isBinary ? 'binary' : 'text'}:${data.toString()}`),
        onControl: () => {},
      });
      const decoder = new FrameDecoder(assembler, false);
      decoder.push(first);
      decoder.push(second);
      expect(messages).toEqual(['text:Hello']);
    });

    it('fails a server connection with 1002, since client frames must be masked', () => {
      expectFailure(receiveAll(Buffer.concat([first, second])), 'UNMASKED_FRAME');
    });
  });

  describe('unmasked ping request and masked pong response', () => {
    it('the server pings with 0x89 0x05 "Hello"', () => {
      const { connection, recorder } = openConnection();
      connection.ping(Buffer.from('Hello'));
      expect(recorder.events).toEqual([{ type: 'write', data: bytes(0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f) }]);
    });

    it('the server reads the masked pong 0x8a 0x85 … as "Hello"', () => {
      const pong = bytes(0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58);
      expect(summarize(receiveAll(pong).events)).toEqual([`pong:${HELLO_HEX}`]);
    });

    it('the server answers the masked version of that ping with exactly the unmasked pong', () => {
      const maskedPing = bytes(0x89, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58);
      const recorder = receiveAll(maskedPing);
      expect(recorder.events[0]).toEqual({ type: 'write', data: bytes(0x8a, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f) });
    });
  });

  const binaries: Array<[string, number, Buffer]> = [
    ['256 bytes', 256, bytes(0x82, 0x7e, 0x01, 0x00)],
    ['64 KiB', 65536, bytes(0x82, 0x7f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00)],
  ];

  describe.each(binaries)('a %s binary message in a single unmasked frame', (_, length, header) => {
    const payload = pattern(length);

    it('is written by the server as header + payload', () => {
      const { connection, recorder } = openConnection();
      connection.send(payload, true);
      const written = Buffer.concat(recorder.events.map((e) => (e.type === 'write' ? e.data : Buffer.alloc(0))));
      expect(written.subarray(0, header.length)).toEqual(header);
      expect(written.length).toBe(header.length + length);
      expect(written.subarray(header.length).equals(payload)).toBe(true);
    });

    it('is read by the server when the client masks it (mask bit and key added)', () => {
      const key = bytes(0x37, 0xfa, 0x21, 0x3d);
      const maskedHeader = Buffer.concat([header.subarray(0, 1), bytes(header[1] | 0x80), header.subarray(2), key]);
      const masked = Buffer.from(payload.map((b, i) => b ^ key[i % 4]));
      const recorder = receiveAll(Buffer.concat([maskedHeader, masked]));
      expect(summarize(recorder.events)).toEqual([`binary:${payload.toString('hex')}`]);
    });
  });
});
