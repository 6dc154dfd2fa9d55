/** The conformance client's masking (src/conform/wire.ts, RFC 6455 §5.3), at every alignment of the memory. */
import { describe, expect, it } from 'vitest';
import { pseudoRandomBytes, xorMask } from '../../src/conform/wire.js';

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
