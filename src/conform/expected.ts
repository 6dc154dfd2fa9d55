/** The expected verdicts (`--expected FILE`), and the comparison that makes a run a regression gate. */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Behavior, CaseResult, CloseBehavior } from './case.js';

export interface ExpectedVerdict {
  behavior: Behavior;
  behaviorClose: CloseBehavior;
}

export interface ExpectedFile {
  comment: string;
  /** The agent the verdicts were recorded for (informative). */
  agent?: string;
  cases: Record<string, ExpectedVerdict>;
}

export interface Difference {
  id: string;
  /** What the expected file says; null for a case it does not list. */
  expected: ExpectedVerdict | null;
  /** What this run observed; null for a listed case that no longer exists. */
  actual: ExpectedVerdict | null;
  reason?: string;
}

const COMMENT =
  'Expected verdicts of `strictws conform` (behavior and behaviorClose per case, Autobahn classes). Any difference fails the run, ' +
  'including a new case missing here or a listed case that no longer exists. After a deliberate change, regenerate with --update and review the diff.';

export function readExpected(file: string): ExpectedFile | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const parsed = JSON.parse(text) as ExpectedFile;
  if (typeof parsed.cases !== 'object' || parsed.cases === null) throw new Error(`${file}: no "cases" object`);
  for (const [id, v] of Object.entries(parsed.cases)) {
    if (typeof v?.behavior !== 'string' || typeof v.behaviorClose !== 'string') throw new Error(`${file}: case ${id} needs "behavior" and "behaviorClose"`);
  }
  return parsed;
}

const same = (a: ExpectedVerdict, b: ExpectedVerdict) => a.behavior === b.behavior && a.behaviorClose === b.behaviorClose;

/**
 * Compare a run with the expected verdicts. `allIds` are every case that
 * exists; `ran` says whether a case was selected for this run (a --cases
 * subset leaves the others out without making them differences).
 */
export function compare(expected: ExpectedFile | undefined, results: CaseResult[], allIds: string[], ran: (id: string) => boolean): Difference[] {
  const cases = expected?.cases ?? {};
  const differences: Difference[] = [];
  for (const r of results) {
    const want = cases[r.id];
    const actual = { behavior: r.behavior, behaviorClose: r.behaviorClose };
    if (want === undefined) differences.push({ id: r.id, expected: null, actual, reason: r.reason });
    else if (!same(want, actual)) differences.push({ id: r.id, expected: want, actual, reason: r.reason });
  }
  const exists = new Set(allIds);
  for (const id of Object.keys(cases)) {
    if (!exists.has(id) && ran(id)) differences.push({ id, expected: cases[id], actual: null });
  }
  return differences;
}

const show = (v: ExpectedVerdict) => (v.behaviorClose === v.behavior ? v.behavior : `${v.behavior} (close ${v.behaviorClose})`);

export function describeDifference(d: Difference): string {
  if (d.expected === null) return `${d.id}: new case, not in the expected file (this run: ${show(d.actual!)}${d.reason ? ` — ${d.reason}` : ''})`;
  if (d.actual === null) return `${d.id}: expected ${show(d.expected)}, but the case no longer exists`;
  return `${d.id}: expected ${show(d.expected)}, got ${show(d.actual)}${d.reason ? ` — ${d.reason}` : ''}`;
}

/**
 * Rewrite the expected file: this run's verdicts, plus, for cases a --cases
 * subset did not run, the verdicts already there; in case order, one line each.
 */
export function writeExpected(file: string, previous: ExpectedFile | undefined, results: CaseResult[], allIds: string[], agent: string): void {
  const fresh = new Map(results.map((r) => [r.id, { behavior: r.behavior, behaviorClose: r.behaviorClose }]));
  const lines: string[] = [];
  for (const id of allIds) {
    const v = fresh.get(id) ?? previous?.cases[id];
    if (v) lines.push(`    ${JSON.stringify(id)}: { "behavior": ${JSON.stringify(v.behavior)}, "behaviorClose": ${JSON.stringify(v.behaviorClose)} }`);
  }
  const comment = previous?.comment ?? COMMENT;
  writeFileSync(file, `{\n  "comment": ${JSON.stringify(comment)},\n  "agent": ${JSON.stringify(agent)},\n  "cases": {\n${lines.join(',\n')}\n  }\n}\n`);
}
