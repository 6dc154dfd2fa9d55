/**
 * RFC 6455 §5.3: client-to-server masking. The same operation masks and
 * unmasks: octet i of the payload is XORed with octet (i mod 4) of the key.
 *
 * The hot path works on the key as one 32-bit word in native byte order
 * (what its four octets read as from memory), so a decoder keeps the key as
 * a number and nothing is allocated per frame. docs/performance.md has the
 * measurements behind each choice here.
 */

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Below this many bytes a byte loop beats setting up the word loop (measured
 * with bench/micro mask: the two cross between 24 and 32 bytes).
 */
const WORD_THRESHOLD = 32;

/** `key[offset, offset + 4)` read as one native-order 32-bit word. */
export function maskWord(key: Uint8Array, offset = 0): number {
  const b0 = key[offset];
  const b1 = key[offset + 1];
  const b2 = key[offset + 2];
  const b3 = key[offset + 3];
  return LITTLE_ENDIAN ? b0 | (b1 << 8) | (b2 << 16) | (b3 << 24) : (b0 << 24) | (b1 << 16) | (b2 << 8) | b3;
}

/** The key word as seen from `shift` (0-3) octets into the key. */
function rotate(word: number, shift: number): number {
  if (shift === 0) return word;
  const bits = shift << 3;
  return LITTLE_ENDIAN ? (word >>> bits) | (word << (32 - bits)) : (word << bits) | (word >>> (32 - bits));
}

/** Octet `i` (0-3) of a key word; a Uint8Array store keeps the low 8 bits. */
function octet(word: number, i: number): number {
  return LITTLE_ENDIAN ? word >>> (i << 3) : word >>> (24 - (i << 3));
}

// One Int32Array view over the ArrayBuffer last unmasked: socket chunks carry
// many frames, so the view is made once per chunk rather than once per frame.
// Only buffers up to a socket read's size are kept this way, so the cache
// never holds on to a large buffer after its last use.
const CACHED_VIEW_MAX = 64 * 1024;
let viewBuffer: ArrayBufferLike | undefined;
let view: Int32Array<ArrayBufferLike> = new Int32Array(0);

function wordsOf(buffer: ArrayBufferLike, end: number): Int32Array<ArrayBufferLike> {
  if (buffer === viewBuffer && end <= view.length) return view;
  const words = new Int32Array(buffer, 0, buffer.byteLength >>> 2);
  if (buffer.byteLength <= CACHED_VIEW_MAX) {
    view = words;
    viewBuffer = buffer;
  }
  return words;
}

/**
 * XOR `data` in place with the key word `key` (from `maskWord`), as if
 * `data` started `offset` bytes into the payload.
 */
export function applyMaskWord(data: Uint8Array, key: number, offset = 0): void {
  const length = data.length;
  let k = rotate(key, offset & 3);
  if (length < WORD_THRESHOLD) {
    for (let i = 0; i < length; i++) data[i] ^= octet(k, i & 3);
    return;
  }
  // Bytes up to a 4-byte aligned address, then a 32-bit word at a time.
  const start = data.byteOffset;
  const head = -start & 3;
  for (let i = 0; i < head; i++) data[i] ^= octet(k, i);
  k = rotate(k, head);
  const first = (start + head) >>> 2;
  const end = first + ((length - head) >>> 2);
  const words = wordsOf(data.buffer, end);
  // Four words per iteration: 1.5-1.7x the plain loop at 4 KiB-1 MiB.
  let w = first;
  for (const last = end - 3; w < last; w += 4) {
    words[w] ^= k;
    words[w + 1] ^= k;
    words[w + 2] ^= k;
    words[w + 3] ^= k;
  }
  for (; w < end; w++) words[w] ^= k;
  for (let i = ((end << 2) - start), j = 0; i < length; i++, j++) data[i] ^= octet(k, j);
}

/**
 * XOR `data` in place with the 4-byte `key`, as if `data` started `offset`
 * bytes into the payload (so a payload can be unmasked piece by piece).
 */
export function applyMask(data: Uint8Array, key: Uint8Array, offset = 0): void {
  applyMaskWord(data, maskWord(key), offset);
}
