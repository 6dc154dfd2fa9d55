/**
 * RFC 6455 §8.1 and RFC 3629 §4: a streaming UTF-8 validator.
 *
 * A DFA over byte classes. It keeps its state across chunks, frames and
 * fragments, and rejects at the first byte after which the input can no
 * longer be extended to valid UTF-8: overlongs (C0, C1, E0 80-9F, F0 80-8F),
 * surrogates (ED A0-BF), code points above U+10FFFF (F4 90-BF, F5-FF) and
 * stray continuation bytes.
 *
 * The DFA is the definition; `write` only skips ahead of it with the native
 * `buffer.isUtf8` over the longest run of whole code points, and gives the
 * DFA every byte that run cannot vouch for (a code point cut by a piece
 * boundary, and any piece where the native check fails, so that the index of
 * the first invalid byte is the DFA's). docs/performance.md has the numbers.
 */
import { isUtf8 } from 'node:buffer';

const ACCEPT = 0;
const REJECT = 8;
const CLASSES = 12;

// Byte classes: 0 ASCII, 1 80-8F, 2 90-9F, 3 A0-BF, 4 C2-DF, 5 E0,
// 6 E1-EC EE-EF, 7 ED, 8 F0, 9 F1-F3, 10 F4, 11 never valid (C0 C1 F5-FF).
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

// States: 0 accept, 1-3 expect that many continuation bytes, 4 after E0,
// 5 after ED, 6 after F0, 7 after F4, 8 reject.
const transitions = new Uint8Array(9 * CLASSES).fill(REJECT);
function on(state: number, classes: number[], next: number): void {
  for (const c of classes) transitions[state * CLASSES + c] = next;
}
const CONT = [1, 2, 3];
on(0, [0], 0);
on(0, [4], 1);
on(0, [6], 2);
on(0, [9], 3);
on(0, [5], 4);
on(0, [7], 5);
on(0, [8], 6);
on(0, [10], 7);
on(1, CONT, 0);
on(2, CONT, 1);
on(3, CONT, 2);
on(4, [3], 1); // E0 A0-BF: no overlong 3-byte forms
on(5, [1, 2], 1); // ED 80-9F: no surrogates
on(6, [2, 3], 2); // F0 90-BF: no overlong 4-byte forms
on(7, [1], 2); // F4 80-8F: nothing above U+10FFFF

/**
 * Pieces at least this long go to `buffer.isUtf8` first; shorter ones, where
 * the native call costs more than it saves, only to the DFA (measured:
 * bench/micro utf8).
 */
const NATIVE_THRESHOLD = 32;

/**
 * Where a code point that `data[from, end)` ends inside of starts, or `end`.
 * Only a hint: it looks at the last three bytes and trusts their lead byte.
 */
function lastBoundary(data: Uint8Array, from: number, end: number): number {
  const stop = Math.max(from, end - 3);
  let j = end - 1;
  while (j >= stop && (data[j] & 0xc0) === 0x80) j--;
  if (j < stop) return end;
  const b = data[j];
  const need = b < 0xc0 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
  return end - j < need ? j : end;
}

export class Utf8Validator {
  private state = ACCEPT;
  private readonly native: boolean;

  /** `native: false` runs the DFA over every byte (for comparison; same verdicts, slower). */
  constructor(options: { native?: boolean } = {}) {
    this.native = options.native ?? true;
  }

  /**
   * Feed `data[start, end)`. Returns -1 while the input so far can still be
   * valid UTF-8, or the index of the first byte that makes it invalid.
   */
  write(data: Uint8Array, start = 0, end = data.length): number {
    let state = this.state;
    if (state === REJECT) return start;
    let i = start;
    // Finish a code point begun in an earlier piece (at most three bytes).
    while (state !== ACCEPT && i < end) {
      state = transitions[state * CLASSES + byteClass[data[i]]];
      if (state === REJECT) {
        this.state = REJECT;
        return i;
      }
      i++;
    }
    if (this.native && end - i >= NATIVE_THRESHOLD) {
      // Whole code points that the native check accepts leave the DFA in
      // ACCEPT, just where it would be after reading them itself.
      const cut = lastBoundary(data, i, end);
      const run = i === 0 && cut === data.length ? data : data.subarray(i, cut);
      if (isUtf8(run)) i = cut;
    }
    for (; i < end; i++) {
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

  /** True when the input so far is valid and does not end inside a code point. */
  get complete(): boolean {
    return this.state === ACCEPT;
  }

  reset(): void {
    this.state = ACCEPT;
  }
}

/** Whole-buffer validation, for payloads that arrived complete. */
export function isValidUtf8(data: Uint8Array): boolean {
  return data.length === 0 || isUtf8(data);
}
