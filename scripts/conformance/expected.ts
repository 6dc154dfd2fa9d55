/** The committed expected verdicts, and the comparison that makes the run a regression gate. */
import { readFileSync, writeFileSync } from 'node:fs';
import type { CaseResult } from './case.js';

export type Verdict = 'OK' | 'FAILED';

export interface ExpectedFile {
  comment: string;
  verdicts: Record<string, Verdict>;
}

export interface Difference {
  id: string;
  /** What the expected file says; null for a case it does not list. */
  expected: Verdict | null;
  /** What this run observed; null for a listed case that no longer exists. */
  actual: Verdict | null;
  reason?: string;
}

const COMMENT =
  'Expected verdicts of `npm run conformance` (scripts/conformance/). Any difference fails the run, ' +
  'including a new case missing here or a listed case that no longer exists. After a deliberate change, ' +
  'regenerate with `npm run conformance -- --update` and review the diff.';

export function readExpected(file: string): ExpectedFile | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const parsed = JSON.parse(text) as ExpectedFile;
  if (typeof parsed.verdicts !== 'object' || parsed.verdicts === null) throw new Error(`${file}: no "verdicts" object`);
  return parsed;
}

/**
 * Compare a run with the expected verdicts. `allIds` are every case that
 * exists; `ran` says whether a case was selected for this run (a --cases
 * subset leaves the others out without making them differences).
 */
export function compare(expected: ExpectedFile | undefined, results: CaseResult[], allIds: string[], ran: (id: string) => boolean): Difference[] {
  const verdicts = expected?.verdicts ?? {};
  const differences: Difference[] = [];
  for (const r of results) {
    const want = verdicts[r.id];
    if (want === undefined) differences.push({ id: r.id, expected: null, actual: r.verdict, reason: r.reason });
    else if (want !== r.verdict) differences.push({ id: r.id, expected: want, actual: r.verdict, reason: r.reason });
  }
  const exists = new Set(allIds);
  for (const id of Object.keys(verdicts)) {
    if (!exists.has(id) && ran(id)) differences.push({ id, expected: verdicts[id], actual: null });
  }
  return differences;
}

export function describeDifference(d: Difference): string {
  if (d.expected === null) return `${d.id}: new case, not in the expected file (this run: ${d.actual}${d.reason ? ` — ${d.reason}` : ''})`;
  if (d.actual === null) return `${d.id}: expected ${d.expected}, but the case no longer exists`;
  return `${d.id}: expected ${d.expected}, got ${d.actual}${d.reason ? ` — ${d.reason}` : ''}`;
}

/**
 * Rewrite the expected file: this run's verdicts, plus, for cases a --cases
 * subset did not run, the verdicts already there; in case order.
 */
export function writeExpected(file: string, previous: ExpectedFile | undefined, results: CaseResult[], allIds: string[]): void {
  const fresh = new Map(results.map((r) => [r.id, r.verdict]));
  const verdicts: Record<string, Verdict> = {};
  for (const id of allIds) {
    const verdict = fresh.get(id) ?? previous?.verdicts[id];
    if (verdict) verdicts[id] = verdict;
  }
  const body: ExpectedFile = { comment: COMMENT, verdicts };
  writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`);
}
