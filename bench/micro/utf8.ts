// UTF-8 validation (RFC 6455 §8.1): the JS DFA alone, buffer.isUtf8, TextDecoder fatal, and our
// streaming Utf8Validator (isUtf8 over whole code points + the DFA at piece boundaries), on a whole
// payload and on the same payload arriving in pieces that cut code points.
import { isUtf8 } from 'node:buffer';
import { Utf8Validator } from '../../src/protocol/utf8.js';
import { type Group, SIZES, asciiText, multiByteText, repeatsFor, sizeLabel } from './lib.js';

const decoder = new TextDecoder('utf-8', { fatal: true });

function check(ok: boolean): void {
  if (!ok) throw new Error('validation failed on valid input');
}

export function utf8Groups(sizes = SIZES): Group[] {
  const groups: Group[] = [];
  for (const [kind, make] of [
    ['ASCII', asciiText],
    ['multi-byte', multiByteText],
  ] as const) {
    for (const size of sizes) {
      const data = make(size);
      const reps = repeatsFor(size);
      const times = (f: () => void) => () => {
        for (let r = 0; r < reps; r++) f();
      };
      const dfa = new Utf8Validator({ native: false });
      const ours = new Utf8Validator();
      groups.push({
        title: `UTF-8 ${kind} ${sizeLabel(size)}, whole (×${reps} per call)`,
        tasks: [
          { name: 'JS DFA alone', fn: times(() => (dfa.reset(), check(dfa.write(data) === -1 && dfa.complete))) },
          { name: 'buffer.isUtf8', fn: times(() => check(isUtf8(data))) },
          { name: 'TextDecoder fatal', fn: times(() => void decoder.decode(data)) },
          {
            name: '**Utf8Validator.write**',
            fn: times(() => (ours.reset(), check(ours.write(data) === -1 && ours.complete))),
          },
        ].map((t) => ({ ...t, bytes: size * reps, ops: reps })),
      });
    }
  }
  // Streaming: a 4 KiB and a 64 KiB message cut into pieces at awkward places (mid code point for
  // the multi-byte text), as TCP reads cut frames. Only the streaming validators can do this.
  for (const [kind, make] of [
    ['ASCII', asciiText],
    ['multi-byte', multiByteText],
  ] as const) {
    for (const [size, cut] of [
      [4 * 1024, 1021],
      [64 * 1024, 16 * 1024 + 1],
    ]) {
      const data = make(size);
      const pieces: Buffer[] = [];
      for (let at = 0; at < size; at += cut) pieces.push(data.subarray(at, Math.min(size, at + cut)));
      const reps = repeatsFor(size);
      const stream = (v: { write(d: Uint8Array): number; reset(): void; complete: boolean }) => () => {
        for (let r = 0; r < reps; r++) {
          v.reset();
          for (const p of pieces) if (v.write(p) !== -1) throw new Error('invalid');
          check(v.complete);
        }
      };
      groups.push({
        title: `UTF-8 ${kind} ${sizeLabel(size)} in ${pieces.length} pieces of ${cut} B (×${reps} per call)`,
        tasks: [
          { name: 'JS DFA alone', fn: stream(new Utf8Validator({ native: false })) },
          { name: '**Utf8Validator.write**', fn: stream(new Utf8Validator()) },
        ].map((t) => ({ ...t, bytes: size * reps, ops: reps })),
      });
    }
  }
  return groups;
}
