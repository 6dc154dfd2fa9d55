/**
 * scripts/autobahn-summary: read the fuzzingclient's reports/autobahn/index.json,
 * print counts by behavior and by section, write reports/autobahn/summary.md
 * (and append it to $GITHUB_STEP_SUMMARY), and exit 1 when any case differs
 * from autobahn/expected.json. wstest exits 0 whatever happened, so this is
 * the verdict of a run.
 *
 *   scripts/autobahn-summary [--report reports/autobahn/index.json]
 *                            [--expected autobahn/expected.json] [--cases "1.*,2.*"]
 *
 * With --cases (the subset the run was asked for), expected cases outside it
 * are "not run", not differences. STRICTWS_AUTOBAHN_EXPECTED also sets the
 * expected file.
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { casePatterns } from '../src/conform/patterns.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Behaviors Autobahn reports for a case, strictest first. */
const BEHAVIORS = ['OK', 'NON-STRICT', 'INFORMATIONAL', 'UNIMPLEMENTED', 'FAILED'] as const;

/** The testsuite's section titles (autobahntestsuite/case/__init__.py, CaseCategories). */
const SECTIONS: Record<string, string> = {
  '1': 'Framing',
  '2': 'Pings/Pongs',
  '3': 'Reserved Bits',
  '4': 'Opcodes',
  '5': 'Fragmentation',
  '6': 'UTF-8 Handling',
  '7': 'Close Handling',
  '9': 'Limits/Performance',
  '10': 'Misc (auto-fragmentation)',
  '12': 'WebSocket Compression (different payloads)',
  '13': 'WebSocket Compression (different parameters)',
};

interface CaseReport {
  behavior: string;
  behaviorClose: string;
  duration: number;
  remoteCloseCode: number | null;
  reportfile: string;
}

interface ExpectedFile {
  comment?: string;
  agent?: string;
  cases: Record<string, string>;
}

function caseKey(id: string): number[] {
  return id.split('.').map(Number);
}

function byCaseId(a: string, b: string): number {
  const x = caseKey(a);
  const y = caseKey(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? -1) - (y[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

function main(): number {
  const { values } = parseArgs({
    options: {
      report: { type: 'string', default: join(ROOT, 'reports/autobahn/index.json') },
      expected: { type: 'string', default: process.env.STRICTWS_AUTOBAHN_EXPECTED ?? join(ROOT, 'autobahn/expected.json') },
      cases: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write('Usage: scripts/autobahn-summary [--report index.json] [--expected expected.json] [--cases "1.*,2.*"]\n');
    return 0;
  }
  const reportFile = resolve(values.report!);
  if (!existsSync(reportFile)) {
    process.stderr.write(`autobahn-summary: no ${relative(process.cwd(), reportFile)}: the fuzzingclient did not run or wrote nothing\n`);
    return 1;
  }
  const index = JSON.parse(readFileSync(reportFile, 'utf8')) as Record<string, Record<string, CaseReport>>;
  const expected = JSON.parse(readFileSync(resolve(values.expected!), 'utf8')) as ExpectedFile;
  const agents = Object.keys(index);
  const agent = expected.agent && agents.includes(expected.agent) ? expected.agent : agents[0];
  if (agent === undefined || agents.length !== 1) {
    process.stderr.write(`autobahn-summary: expected one agent in ${relative(process.cwd(), reportFile)}, found ${agents.length}: ${agents.join(', ')}\n`);
    return 1;
  }
  const results = index[agent];
  const selected = values.cases ? casePatterns(values.cases) : undefined;
  const ran = Object.keys(results).sort(byCaseId);

  // Counts by behavior, overall and by section.
  const count = (ids: string[], behavior: string) => ids.filter((id) => results[id].behavior === behavior).length;
  const sectionOf = (id: string) => id.split('.')[0];
  const sections = [...new Set([...Object.keys(expected.cases), ...ran].map(sectionOf))].sort((a, b) => Number(a) - Number(b));

  // Differences from the expected file.
  const differences: string[] = [];
  const notRun: string[] = [];
  for (const id of ran) {
    const want = expected.cases[id];
    const got = results[id].behavior;
    if (want === undefined) differences.push(`${id}: ${got}, but the case is not in the expected file`);
    else if (want !== got) differences.push(`${id}: expected ${want}, got ${got} (close: ${results[id].behaviorClose}, remote close code ${results[id].remoteCloseCode})`);
  }
  for (const id of Object.keys(expected.cases).sort(byCaseId)) {
    if (results[id] !== undefined) continue;
    if (selected && !selected(id)) notRun.push(id);
    else differences.push(`${id}: expected ${expected.cases[id]}, but the run has no result for it`);
  }

  // The terminal.
  const totals = BEHAVIORS.map((b) => `${b} ${count(ran, b)}`).join(', ');
  const other = ran.filter((id) => !(BEHAVIORS as readonly string[]).includes(results[id].behavior));
  const lines: string[] = [];
  lines.push(`Autobahn fuzzingclient, agent ${agent}: ${ran.length} cases run: ${totals}${other.length ? `, other ${other.length}` : ''}${notRun.length ? `; ${notRun.length} not run (outside --cases)` : ''}`);
  const header = ['section', 'cases', ...BEHAVIORS, 'not run'];
  const rows = sections.map((s) => {
    const ids = ran.filter((id) => sectionOf(id) === s);
    return [s, String(ids.length), ...BEHAVIORS.map((b) => String(count(ids, b))), String(notRun.filter((id) => sectionOf(id) === s).length)];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  lines.push(fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt));
  const informational = ran.filter((id) => results[id].behavior === 'INFORMATIONAL');
  if (informational.length) lines.push(`INFORMATIONAL: ${informational.join(', ')}`);
  process.stdout.write(`${lines.join('\n')}\n`);

  // The markdown.
  const md: string[] = [];
  md.push(`### Autobahn|Testsuite fuzzingclient: ${agent}`, '');
  md.push(`${ran.length} cases run, ${totals}${notRun.length ? `; ${notRun.length} not run (outside the --cases subset ${values.cases})` : ''}.`, '');
  md.push(`| Section | Title | Cases | ${BEHAVIORS.join(' | ')} | Not run |`);
  md.push(`| --- | --- | ---: | ${BEHAVIORS.map(() => '---:').join(' | ')} | ---: |`);
  for (const r of rows) md.push(`| ${r[0]} | ${SECTIONS[r[0]] ?? ''} | ${r.slice(1).join(' | ')} |`);
  md.push(`| **all** | | **${ran.length}** | ${BEHAVIORS.map((b) => `**${count(ran, b)}**`).join(' | ')} | **${notRun.length}** |`, '');
  if (informational.length) md.push(`INFORMATIONAL: ${informational.join(', ')}.`, '');
  const expectedName = relative(ROOT, resolve(values.expected!));
  if (differences.length) {
    md.push(`**${differences.length} case(s) differ from \`${expectedName}\`:**`, '');
    for (const d of differences.slice(0, 100)) md.push(`- ${d}`);
    if (differences.length > 100) md.push(`- … and ${differences.length - 100} more`);
  } else {
    md.push(`Every case run matches \`${expectedName}\`.`);
  }
  const markdown = `${md.join('\n')}\n`;
  const summaryFile = join(dirname(reportFile), 'summary.md');
  writeFileSync(summaryFile, markdown);
  if (process.env.GITHUB_STEP_SUMMARY) appendFileSync(process.env.GITHUB_STEP_SUMMARY, markdown);
  process.stdout.write(`summary: ${relative(process.cwd(), summaryFile)}\n`);

  if (differences.length) {
    process.stderr.write(`\nautobahn-summary: ${differences.length} case(s) differ from ${expectedName}:\n`);
    for (const d of differences.slice(0, 40)) process.stderr.write(`  ${d}\n`);
    if (differences.length > 40) process.stderr.write(`  … and ${differences.length - 40} more (see summary.md)\n`);
    return 1;
  }
  process.stdout.write(`autobahn-summary: every case run matches ${expectedName}\n`);
  return 0;
}

process.exit(main());
