/**
 * Property 4 (RFC 6455 §5.3): applyMask is an involution and matches the
 * byte-by-byte definition, for any length, key offset and memory alignment.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyMask } from '../src/protocol/index.js';
import { pattern, xorMask } from '../spec/helpers.js';
import { maskKey } from './arbitraries.js';
import { params } from './config.js';

/**
 * A window into a larger buffer: any byteOffset (so any alignment) and any
 * length, often ≥ 32. Generated as a recipe, built fresh in each run (the
 * mask works in place, and a counterexample should show the input).
 */
const window = fc.record({
  before: fc.integer({ min: 0, max: 11 }),
  length: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 32, max: 600 })),
  after: fc.integer({ min: 0, max: 7 }),
  seed: fc.integer({ min: 0, max: 0xffff }),
});

function build({ before, length, after, seed }: { before: number; length: number; after: number; seed: number }) {
  const backing = pattern(before + length + after, seed);
  return { backing, view: backing.subarray(before, before + length), before, length };
}

const offset = fc.oneof(fc.integer({ min: 0, max: 7 }), fc.nat());

describe('property: applyMask', () => {
  it('applied twice with the same key and offset is the identity', () => {
    fc.assert(
      fc.property(window, maskKey, offset, (recipe, key, at) => {
        const { backing, view } = build(recipe);
        const original = Buffer.from(backing);
        applyMask(view, key, at);
        // Not a no-op: some byte of the view meets a non-zero key byte.
        if (Array.from(view, (_, i) => key[(at + i) % 4]).some((k) => k !== 0)) expect(backing.equals(original)).toBe(false);
        applyMask(view, key, at);
        expect(backing.toString('hex')).toBe(original.toString('hex'));
      }),
      params(),
    );
  });

  it('equals the byte-by-byte reference and touches nothing outside its view', () => {
    fc.assert(
      fc.property(window, maskKey, offset, (recipe, key, at) => {
        const { backing, view, before, length } = build(recipe);
        const original = Buffer.from(backing);
        applyMask(view, key, at);
        const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
        expect(hex(view)).toBe(hex(xorMask(original.subarray(before, before + length), key, at)));
        expect(hex(backing.subarray(0, before))).toBe(hex(original.subarray(0, before)));
        expect(hex(backing.subarray(before + length))).toBe(hex(original.subarray(before + length)));
      }),
      params(),
    );
  });

  it('masking a payload in pieces with running offsets equals masking it whole', () => {
    fc.assert(
      fc.property(window, maskKey, fc.array(fc.nat(), { maxLength: 6 }), (recipe, key, rawCuts) => {
        const { view } = build(recipe);
        const expected = xorMask(view, key, 0);
        const points = [...new Set(rawCuts.map((c) => c % (view.length + 1)))].sort((a, b) => a - b);
        let start = 0;
        for (const end of [...points, view.length]) {
          applyMask(view.subarray(start, end), key, start);
          start = end;
        }
        expect(Buffer.from(view).toString('hex')).toBe(expected.toString('hex'));
      }),
      params(),
    );
  });
});
