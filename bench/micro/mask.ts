// Unmasking (RFC 6455 §5.3): our applyMask against a byte-at-a-time loop and
// bufferutil's native unmask (the reference ws uses; not something the library may depend on).
import { createRequire } from 'node:module';
import { applyMask, applyMaskWord, maskWord } from '../../src/protocol/mask.js';
import { type Group, SIZES, pseudoRandom, repeatsFor, sizeLabel } from './lib.js';

const bufferutil = createRequire(import.meta.url)('bufferutil') as {
  unmask(buffer: Uint8Array, mask: Uint8Array): void;
};

const KEY = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);

/** The obvious alternative: one byte at a time. */
function applyMaskBytes(data: Uint8Array, key: Uint8Array, offset = 0): void {
  for (let i = 0; i < data.length; i++) data[i] ^= key[(offset + i) & 3];
}
const KEY_WORD = maskWord(KEY);

// Experimental variants, kept for the record of what was tried (docs/performance.md). They share
// the byte loop for short buffers and the edges, and differ only in the word loop; like x86 and
// ARM, they assume a little-endian machine.

/** Byte loop on the key word (no key array reads). */
function bytesOnWord(data: Uint8Array, key: number, from = 0, to = data.length): void {
  for (let i = from; i < to; i++) data[i] ^= key >>> ((i & 3) << 3);
}

/** Bytes up to an aligned address, `words` on a fresh Int32Array view, then the tail bytes. */
function wordVariant(words: (view: Int32Array, key: number) => void): (data: Uint8Array, key: number) => void {
  return (data, key) => {
    const length = data.length;
    if (length < 32) return bytesOnWord(data, key);
    const head = -data.byteOffset & 3;
    bytesOnWord(data, key, 0, head);
    const k = head === 0 ? key : (key >>> (head << 3)) | (key << (32 - (head << 3)));
    const count = (length - head) >>> 2;
    words(new Int32Array(data.buffer, data.byteOffset + head, count), k);
    bytesOnWord(data, key, head + (count << 2), length);
  };
}

/** Word loop with a fresh Int32Array view per call (no cached view). */
const wordFreshView = wordVariant((view, k) => {
  for (let w = 0; w < view.length; w++) view[w] ^= k;
});

/** Word loop, 4 words per iteration. */
const wordUnrolled = wordVariant((view, k) => {
  const words = view.length;
  let w = 0;
  for (const last = words - 3; w < last; w += 4) {
    view[w] ^= k;
    view[w + 1] ^= k;
    view[w + 2] ^= k;
    view[w + 3] ^= k;
  }
  for (; w < words; w++) view[w] ^= k;
});

export function maskGroups(sizes = SIZES): Group[] {
  return sizes.map((size) => {
    // Several buffers at different alignments, as socket chunks put payloads anywhere.
    const backing = pseudoRandom(size + 64);
    const views = [0, 1, 2, 3].map((a) => backing.subarray(a + 8, a + 8 + size));
    const reps = repeatsFor(size);
    const loop = (f: (v: Uint8Array) => void) => () => {
      for (let r = 0; r < reps; r++) f(views[r & 3]);
    };
    return {
      title: `unmask ${sizeLabel(size)} (×${reps} per call)`,
      tasks: [
        { name: 'byte at a time (key array)', fn: loop((v) => applyMaskBytes(v, KEY, 0)) },
        { name: 'byte at a time (key word)', fn: loop((v) => bytesOnWord(v, KEY_WORD)) },
        { name: 'Int32Array view per call', fn: loop((v) => wordFreshView(v, KEY_WORD)) },
        { name: 'Int32Array view per call, unrolled ×4', fn: loop((v) => wordUnrolled(v, KEY_WORD)) },
        { name: 'applyMask (key bytes)', fn: loop((v) => applyMask(v, KEY, 0)) },
        { name: '**applyMaskWord** (what the decoder calls)', fn: loop((v) => applyMaskWord(v, KEY_WORD, 0)) },
        { name: 'bufferutil.unmask (native, reference)', fn: loop((v) => bufferutil.unmask(v, KEY)) },
      ].map((t) => ({ ...t, bytes: size * reps, ops: reps })),
    };
  });
}
