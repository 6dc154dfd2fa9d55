/**
 * RFC 6455 §5.1 and §5.3: client-to-server masking.
 */
import { describe, expect, it } from 'vitest';
import { applyMask } from '../src/protocol/index.js';
import {
  OP,
  binary,
  close,
  expectFailure,
  frame,
  openConnection,
  pattern,
  ping,
  pong,
  receiveAll,
  summarize,
  text,
  xorMask,
} from './helpers.js';

const KEY = Uint8Array.from([0x12, 0x34, 0x56, 0x78]);

describe('RFC 6455 §5.3: applyMask', () => {
  it('XORs octet i with key octet i mod 4 (the §5.7 "Hello" example)', () => {
    const data = Buffer.from('Hello');
    applyMask(data, Uint8Array.from([0x37, 0xfa, 0x21, 0x3d]));
    expect(data.toString('hex')).toBe('7f9f4d5158');
  });

  it('with an offset, continues the key as if the data started that far into the payload', () => {
    const whole = pattern(11);
    for (let cut = 0; cut <= 11; cut++) {
      const a = Buffer.from(whole.subarray(0, cut));
      const b = Buffer.from(whole.subarray(cut));
      applyMask(a, KEY, 0);
      applyMask(b, KEY, cut);
      expect(Buffer.concat([a, b])).toEqual(xorMask(whole, KEY));
    }
  });

  // The word-at-a-time path starts at 32 bytes and aligns to 4-byte addresses:
  // cover lengths around the threshold, each misalignment and each key offset.
  const lengths = [0, 1, 3, 4, 31, 32, 33, 35, 36, 63, 64, 100, 257];
  it.each(lengths)('matches the byte-by-byte reference for length %i at every alignment and offset', (length) => {
    for (let byteOffset = 0; byteOffset < 8; byteOffset++) {
      for (let offset = 0; offset < 8; offset++) {
        const backing = pattern(length + 16);
        const data = backing.subarray(byteOffset, byteOffset + length);
        const before = Buffer.from(backing);
        applyMask(data, KEY, offset);
        expect(data).toEqual(xorMask(before.subarray(byteOffset, byteOffset + length), KEY, offset));
        // Nothing outside the view is touched.
        expect(backing.subarray(0, byteOffset)).toEqual(before.subarray(0, byteOffset));
        expect(backing.subarray(byteOffset + length)).toEqual(before.subarray(byteOffset + length));
      }
    }
  });

  it('masking twice with the same key is the identity', () => {
    const data = pattern(1000);
    const copy = Buffer.from(data);
    applyMask(data, KEY, 3);
    expect(data).not.toEqual(copy);
    applyMask(data, KEY, 3);
    expect(data).toEqual(copy);
  });
});

describe('RFC 6455 §5.1: a server MUST fail the connection on an unmasked client frame', () => {
  const unmasked: Array<[string, Buffer]> = [
    ['text', text('Hello', { mask: null })],
    ['binary', binary(Buffer.alloc(200), { mask: null })],
    ['ping', ping('x', { mask: null })],
    ['pong', pong('', { mask: null })],
    ['close', close(1000, '', { mask: null })],
    ['continuation', frame({ opcode: OP.CONT, payload: 'x', mask: null })],
  ];

  it.each(unmasked)('unmasked %s → 1002 UNMASKED_FRAME', (_, bytes) => {
    expectFailure(receiveAll(bytes), 'UNMASKED_FRAME');
  });

  it('is detected from the second byte, before any payload', () => {
    const { connection, recorder } = openConnection();
    connection.receive(text('Hello', { mask: null }).subarray(0, 2));
    expectFailure(recorder, 'UNMASKED_FRAME');
  });

  it('fails after the masked frames before it were delivered', () => {
    const recorder = receiveAll(Buffer.concat([text('masked'), text('plain', { mask: null })]));
    expect(expectFailure(recorder, 'UNMASKED_FRAME')).toEqual(['text:masked']);
  });
});

describe('RFC 6455 §5.3: unmasking received frames', () => {
  it('uses each frame its own key', () => {
    const keys = [[0, 0, 0, 0], [0xff, 0xff, 0xff, 0xff], [1, 2, 3, 4]].map((k) => Uint8Array.from(k));
    const bytes = Buffer.concat(keys.map((mask, i) => text(`frame ${i}`, { mask })));
    expect(summarize(receiveAll(bytes).received)).toEqual(['text:frame 0', 'text:frame 1', 'text:frame 2']);
  });

  it('unmasks a payload split at every position, keeping the key phase across chunks', () => {
    const payload = pattern(150);
    const bytes = binary(payload, { mask: KEY });
    for (let cut = 1; cut < bytes.length; cut++) {
      for (const second of [cut + 1, cut + 37, cut + 64]) {
        const recorder = receiveAll(bytes, {}, [cut, second]);
        expect(summarize(recorder.received)).toEqual([`binary:${payload.toString('hex')}`]);
      }
    }
  });

  it('unmasks control frame payloads too', () => {
    const recorder = receiveAll(ping('abc', { mask: KEY }));
    expect(summarize(recorder.events)).toEqual(['write:pong:616263', 'ping:616263']);
  });
});
