/**
 * RFC 6455 §5.3: client-to-server masking. The same operation masks and
 * unmasks: octet i of the payload is XORed with octet (i mod 4) of the key.
 */

const WORD_THRESHOLD = 32;

/**
 * XOR `data` in place with the 4-byte `key`, as if `data` started `offset`
 * bytes into the payload (so a payload can be unmasked piece by piece).
 */
export function applyMask(data: Uint8Array, key: Uint8Array, offset = 0): void {
  const length = data.length;
  let i = 0;
  if (length >= WORD_THRESHOLD) {
    // Walk to a 4-byte aligned address, then XOR a 32-bit word at a time.
    const head = (4 - (data.byteOffset & 3)) & 3;
    for (; i < head; i++) data[i] ^= key[(offset + i) & 3];
    const words = (length - i) >>> 2;
    const view = new Uint32Array(data.buffer, data.byteOffset + i, words);
    const o = offset + i;
    // Native byte order: the word is the key bytes as they lie in memory.
    const k = new Uint32Array(
      new Uint8Array([key[o & 3], key[(o + 1) & 3], key[(o + 2) & 3], key[(o + 3) & 3]]).buffer,
    )[0];
    for (let w = 0; w < words; w++) view[w] ^= k;
    i += words << 2;
  }
  for (; i < length; i++) data[i] ^= key[(offset + i) & 3];
}
