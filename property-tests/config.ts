/**
 * Shared fast-check settings. Every property runs PROPERTY_RUNS times
 * (default 1000): `PROPERTY_RUNS=10000 npx vitest run property-tests` for deeper runs.
 */
import type { Parameters } from 'fast-check';

function runsFromEnv(value: string | undefined): number {
  if (value === undefined || value === '') return 1000;
  const runs = Number(value);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`PROPERTY_RUNS must be a positive integer, not "${value}"`);
  return runs;
}

export const NUM_RUNS = runsFromEnv(process.env.PROPERTY_RUNS);

/** Parameters for fc.assert; pass `extra` for per-property settings. */
export function params<T>(extra: Parameters<T> = {}): Parameters<T> {
  return { numRuns: NUM_RUNS, ...extra };
}
