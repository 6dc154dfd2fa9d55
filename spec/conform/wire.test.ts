/** The conformance client's masking (src/conform/wire.ts, RFC 6455 §5.3), at every alignment of the memory. */
import { describe, expect, it } from 'vitest';
import { OP, encodeFrames, frame, pseudoRandomBytes, xorMask } from '../../src/conform/wire.js';

describe('xorMask', () => {
  it('equals byte-by-byte masking for every length 0-40 at every offset into its memory', () => {
    const key = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
    const backing = pseudoRandomBytes(64, 5);
    for (let offset = 0; offset < 8; offset++) {
      for (let length = 0; length <= 40; length++) {
        const data = Buffer.from(backing).subarray(offset, offset + length);
        const want = Buffer.from(data.map((b, i) => b ^ key[i & 3]));
        xorMask(data, key);
        expect(data).toEqual(want);
      }
    }
  });
});

describe('encodeFrames', () => {
  const specs = [
    { opcode: OP.TEXT, fin: false, payload: 'Hel', mask: Buffer.from([1, 2, 3, 4]) },
    { opcode: OP.CONT, payload: pseudoRandomBytes(300, 9), mask: Buffer.from([5, 6, 7, 8]) },
  ];

  it('writes the frames one after another, as frame() encodes each, unmasked when asked', () => {
    expect(encodeFrames(specs)).toEqual(Buffer.concat(specs.map((s) => frame(s))));
    expect(encodeFrames(specs, true)).toEqual(Buffer.concat(specs.map((s) => frame({ ...s, mask: false }))));
  });

  it('writes into the memory given when it is large enough, and into new memory when not', () => {
    const memory = Buffer.alloc(400);
    const into = encodeFrames(specs, false, memory);
    expect(into.buffer).toBe(memory.buffer);
    expect(into).toEqual(encodeFrames(specs));
    const small = Buffer.alloc(100);
    expect(encodeFrames(specs, false, small).buffer).not.toBe(small.buffer);
  });
});
