/**
 * Property 2 (RFC 6455 §8.1, RFC 3629): the streaming UTF-8 validator agrees
 * with the WHATWG decoder, fails at the earliest possible byte, and so does a
 * connection receiving the bytes as a text message.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Utf8Validator, isValidUtf8 } from '../src/protocol/index.js';
import { OP, frame, openConnection, splitAt, summarize } from '../spec/helpers.js';
import { cuts, cutsFor, maskKey } from './arbitraries.js';
import { assertEqual } from './assert.js';
import { params } from './config.js';

/** Byte groups near the edges of RFC 3629's table, mixed with valid code points and noise. */
const byteGroup = fc.oneof(
  fc.constantFrom(
    [0xe0, 0x80], // overlong 3-byte
    [0xe0, 0x9f],
    [0xe0, 0xa0], // smallest valid 3-byte prefix
    [0xed, 0xa0], // surrogate
    [0xed, 0x9f], // just below the surrogates
    [0xf0, 0x80], // overlong 4-byte
    [0xf0, 0x8f],
    [0xf0, 0x90, 0x80, 0x80], // U+10000
    [0xf4, 0x8f, 0xbf, 0xbf], // U+10FFFF
    [0xf4, 0x90], // above U+10FFFF
    [0xc0],
    [0xc1],
    [0xc2],
    [0xdf],
    [0xe1],
    [0xef],
    [0xf1],
    [0xf3],
    [0xf5],
    [0xff],
  ),
  fc.integer({ min: 0x80, max: 0xbf }).map((b) => [b]), // continuation bytes
  fc.integer({ min: 0, max: 0x10ffff })
    .filter((cp) => cp < 0xd800 || cp > 0xdfff)
    .map((cp) => [...Buffer.from(String.fromCodePoint(cp), 'utf8')]),
  fc.integer({ min: 0, max: 0x7f }).map((b) => [b]),
  fc.integer({ min: 0, max: 0xff }).map((b) => [b]),
);

/**
 * Mostly edge cases; a share of entirely valid text; valid text with one
 * group inserted. Long inputs too: the validator hands runs of 32 bytes and
 * more to the native check, and only shorter ones straight to its DFA.
 */
const utf8ish = fc.oneof(
  { weight: 3, arbitrary: fc.array(byteGroup, { maxLength: 40 }).map((groups) => Buffer.from(groups.flat())) },
  { weight: 2, arbitrary: fc.array(byteGroup, { maxLength: 120, size: 'large' }).map((groups) => Buffer.from(groups.flat())) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 120, size: 'large' }).map((s) => Buffer.from(s, 'utf8')) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.string({ unit: 'binary', maxLength: 60, size: 'large' }),
        byteGroup,
        fc.string({ unit: 'binary', maxLength: 60, size: 'large' }),
      )
      .map(([a, g, b]) => Buffer.concat([Buffer.from(a), Buffer.from(g), Buffer.from(b)])),
  },
);

/** Oracle: the index of the first byte a streaming fatal TextDecoder rejects, or -1. */
function earliestFailure(bytes: Uint8Array): number {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for (let i = 0; i < bytes.length; i++) {
    try {
      decoder.decode(bytes.subarray(i, i + 1), { stream: true });
    } catch {
      return i;
    }
  }
  return -1;
}

/** Oracle: whether the bytes are complete, valid UTF-8. */
function isValid(bytes: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Feed the validator the bytes cut at `cutPoints`; the first failing index (into `bytes`) or -1. */
function validatorFailure(validator: Utf8Validator, bytes: Uint8Array, cutPoints: number[]): number {
  const points = [...new Set(cutPoints)].sort((a, b) => a - b);
  let start = 0;
  for (const end of [...points, bytes.length]) {
    const result = validator.write(bytes, start, end);
    if (result !== -1) return result;
    start = end;
  }
  return -1;
}

describe('property: Utf8Validator agrees with TextDecoder(fatal)', () => {
  it('same verdict, and failure at exactly the first byte that cannot be extended, under any split', () => {
    fc.assert(
      fc.property(utf8ish, cuts, (bytes, rawCuts) => {
        const validator = new Utf8Validator();
        const failedAt = validatorFailure(validator, bytes, cutsFor(rawCuts, bytes.length));
        expect(failedAt).toBe(earliestFailure(bytes));
        expect(failedAt === -1 && validator.complete).toBe(isValid(bytes));
        expect(isValidUtf8(bytes)).toBe(isValid(bytes));
      }),
      params(),
    );
  });

  it('the generator reaches valid, truncated and invalid inputs, short and long (a guard against a vacuous property)', () => {
    const kinds = new Set(
      fc.sample(utf8ish, { numRuns: 500, seed: 42 }).map((b) =>
        isValid(b) ? 'valid' : earliestFailure(b) === -1 ? 'truncated' : 'invalid',
      ),
    );
    expect([...kinds].sort()).toEqual(['invalid', 'truncated', 'valid']);
    const long = fc.sample(utf8ish, { numRuns: 500, seed: 42 }).filter((b) => b.length >= 64);
    expect(long.length).toBeGreaterThan(100);
    expect(long.some((b) => isValid(b)) && long.some((b) => !isValid(b))).toBe(true);
  });
});

describe('property: a connection fails a bad text message with 1007 at the chunk holding the first bad byte', () => {
  it('fragmented, masked, cut anywhere: 1007 exactly when the first unextendable byte (or the end) arrives', () => {
    fc.assert(
      fc.property(utf8ish, fc.array(fc.nat(), { maxLength: 4 }), maskKey, cuts, (bytes, fragmentCuts, key, rawCuts) => {
        // Frame the message and note where each payload byte lands in the stream.
        const pieces = splitAt(bytes, fragmentCuts.map((c) => c % (bytes.length + 1)));
        if (pieces.length === 0) pieces.push(Buffer.alloc(0));
        const frames = pieces.map((piece, i) =>
          frame({ opcode: i === 0 ? OP.TEXT : OP.CONT, payload: piece, fin: i === pieces.length - 1, mask: key }),
        );
        const positions: number[] = []; // positions[k]: where message byte k sits in the stream
        let offset = 0;
        frames.forEach((f, i) => {
          const payloadStart = offset + f.length - pieces[i].length;
          for (let j = 0; j < pieces[i].length; j++) positions.push(payloadStart + j);
          offset += f.length;
        });
        const stream = Buffer.concat(frames);

        const bad = earliestFailure(bytes);
        // The byte at which the verdict is due: the first bad byte, else the last byte of the stream.
        const dueAt = bad !== -1 ? positions[bad] : isValid(bytes) ? -1 : stream.length - 1;

        const { connection, recorder } = openConnection();
        const chunks = splitAt(stream, cutsFor(rawCuts, stream.length));
        let consumed = 0;
        for (const chunk of chunks) {
          const before = recorder.events.length;
          connection.receive(chunk);
          consumed += chunk.length;
          const failedNow = recorder.events.slice(before).some((e) => e.type === 'error');
          const due = dueAt !== -1 && dueAt < consumed && dueAt >= consumed - chunk.length;
          expect(failedNow).toBe(due);
          if (due) break;
        }
        if (dueAt === -1) {
          assertEqual(summarize(recorder.events), [`text:${bytes.toString('utf8')}`], 'events');
        } else {
          expect(recorder.error?.code).toBe('INVALID_UTF8');
          expect(recorder.error?.closeCode).toBe(1007);
        }
      }),
      params(),
    );
  });
});
