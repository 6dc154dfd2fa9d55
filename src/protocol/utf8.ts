/**
 * RFC 6455 §8.1 and RFC 3629 §4: a streaming UTF-8 validator.
 *
 * A DFA over byte classes. It keeps its state across chunks, frames and
 * fragments, and rejects at the first byte after which the input can no
 * longer be extended to valid UTF-8: overlongs (C0, C1, E0 80-9F, F0 80-8F),
 * surrogates (ED A0-BF), code points above U+10FFFF (F4 90-BF, F5-FF) and
 * stray continuation bytes.
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

export class Utf8Validator {
  private state = ACCEPT;

  /**
   * Feed `data[start, end)`. Returns -1 while the input so far can still be
   * valid UTF-8, or the index of the first byte that makes it invalid.
   */
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
