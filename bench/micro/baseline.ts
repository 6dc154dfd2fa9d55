// The hot-path code as it was before issue #7's optimisations, kept verbatim so the micro-benchmarks
// can show what each change bought. Not used by the library.

const WORD_THRESHOLD = 32;

/** applyMask before #7: a Uint32Array XOR, allocating a key Uint8Array + Uint32Array per call. */
export function applyMaskV0(data: Uint8Array, key: Uint8Array, offset = 0): void {
  const length = data.length;
  let i = 0;
  if (length >= WORD_THRESHOLD) {
    const head = (4 - (data.byteOffset & 3)) & 3;
    for (; i < head; i++) data[i] ^= key[(offset + i) & 3];
    const words = (length - i) >>> 2;
    const view = new Uint32Array(data.buffer, data.byteOffset + i, words);
    const o = offset + i;
    const k = new Uint32Array(
      new Uint8Array([key[o & 3], key[(o + 1) & 3], key[(o + 2) & 3], key[(o + 3) & 3]]).buffer,
    )[0];
    for (let w = 0; w < words; w++) view[w] ^= k;
    i += words << 2;
  }
  for (; i < length; i++) data[i] ^= key[(offset + i) & 3];
}

/** The obvious alternative: one byte at a time. */
export function applyMaskBytes(data: Uint8Array, key: Uint8Array, offset = 0): void {
  for (let i = 0; i < data.length; i++) data[i] ^= key[(offset + i) & 3];
}

// The streaming UTF-8 DFA before #7 (the fallback of today's validator): byte classes and transitions.
const ACCEPT = 0;
const REJECT = 8;
const CLASSES = 12;
const byteClass = new Uint8Array(256);
for (let b = 0; b < 256; b++) {
  byteClass[b] =
    b < 0x80 ? 0
    : b < 0x90 ? 1
    : b < 0xa0 ? 2
    : b < 0xc0 ? 3
    : b < 0xc2 ? 11
    : b < 0xe0 ? 4
    : b === 0xe0 ? 5
    : b === 0xed ? 7
    : b < 0xf0 ? 6
    : b === 0xf0 ? 8
    : b < 0xf4 ? 9
    : b === 0xf4 ? 10
    : 11;
}
const transitions = new Uint8Array(9 * CLASSES).fill(REJECT);
function on(state: number, classes: number[], next: number): void {
  for (const c of classes) transitions[state * CLASSES + c] = next;
}
on(0, [0], 0);
on(0, [4], 1);
on(0, [6], 2);
on(0, [9], 3);
on(0, [5], 4);
on(0, [7], 5);
on(0, [8], 6);
on(0, [10], 7);
on(1, [1, 2, 3], 0);
on(2, [1, 2, 3], 1);
on(3, [1, 2, 3], 2);
on(4, [3], 1);
on(5, [1, 2], 1);
on(6, [2, 3], 2);
on(7, [1], 2);

/** Utf8Validator before #7: the JS DFA over every byte. */
export class Utf8DfaV0 {
  private state = ACCEPT;
  write(data: Uint8Array, start = 0, end = data.length): number {
    let state = this.state;
    if (state === REJECT) return start;
    for (let i = start; i < end; i++) {
      const b = data[i];
      if (state === ACCEPT && b < 0x80) continue;
      state = transitions[state * CLASSES + byteClass[b]];
      if (state === REJECT) {
        this.state = REJECT;
        return i;
      }
    }
    this.state = state;
    return -1;
  }
  get complete(): boolean {
    return this.state === ACCEPT;
  }
  reset(): void {
    this.state = ACCEPT;
  }
}
