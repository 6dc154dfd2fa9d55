/**
 * Deep equality for use inside properties. It fails with a short message:
 * vitest's diff of large values (long hex strings, big buffers) is far too
 * slow to compute at every shrinking step.
 */
import { inspect, isDeepStrictEqual } from 'node:util';

const show = (value: unknown) =>
  inspect(value, { depth: 4, maxArrayLength: 16, maxStringLength: 160, breakLength: Number.POSITIVE_INFINITY });

export function assertEqual<T>(actual: T, expected: T, what: string): void {
  if (isDeepStrictEqual(actual, expected)) return;
  let where = '';
  if (Array.isArray(actual) && Array.isArray(expected)) {
    const i = actual.findIndex((a, k) => !isDeepStrictEqual(a, expected[k]));
    const at = i === -1 ? Math.min(actual.length, expected.length) : i;
    where = `\n  first difference at [${at}] (lengths ${actual.length} and ${expected.length}):` +
      `\n    actual:   ${show(actual[at])}\n    expected: ${show(expected[at])}`;
  }
  throw new Error(`${what} differ${where}\n  actual:   ${show(actual)}\n  expected: ${show(expected)}`);
}
