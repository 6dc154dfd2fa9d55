/**
 * npm run conformance: drive a strictws echo server through the raw-socket
 * conformance cases, write reports/conformance/index.{json,html}, print a
 * summary, and fail when any verdict differs from the committed expected file.
 *
 *   tsx scripts/conformance/run.ts [--url ws://host:port/path] [--cases "6.*,H.2.1"]
 *                                  [--update] [--expected file] [--out dir] [--concurrency n]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { casePatterns } from '../lib/case-patterns.js';
import { type RunningServer, startCli } from '../../spec/support/cli.js';
import { type Case, type CaseResult, Context, Mismatch, type Family, type ServerName } from './case.js';
import { type Target, targetFromUrl } from './client.js';
import { type Difference, compare, describeDifference, readExpected, writeExpected } from './expected.js';
import { FAMILIES } from './families/index.js';
import { type FamilySummary, type Report, renderHtml, summaryTable } from './report.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const USAGE = `Usage: npm run conformance -- [options]

  --url <ws://host:port/path>  test a running server instead of starting "strictws echo --port 0"
                               (which is then tested at ws://127.0.0.1:<port>/conformance)
  --deflate-url <ws://...>     with --url: the server with permessage-deflate for families 12 and 13
                               (default: --url; without --url, "strictws echo --deflate" is started)
  --cases <patterns>           only these cases, e.g. "1.*,6.3.*,H.2.1" (* matches anything)
  --update                     rewrite the expected file with this run's verdicts
  --expected <file>            expected verdicts (default autobahn/conformance.expected.json)
  --out <dir>                  report directory (default reports/conformance)
  --concurrency <n>            cases run side by side (default 8)
  -h, --help                   show this help
`;

const DEFAULT_CASE_TIMEOUT = 20_000;
/** The resource name the cases use on the server this run starts. */
const RESOURCE = '/conformance';
/** Differences listed one per line before the rest are summarised. */
const SHOWN_DIFFERENCES = 40;

function fmtMs(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

/** A counting semaphore. */
class Gate {
  private waiting: (() => void)[] = [];
  constructor(private free: number) {}
  async take(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  give(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

async function runCase(c: Case, family: Family, targets: Record<ServerName, Target>, serverGone: () => string | undefined): Promise<CaseResult> {
  const ctx = new Context(targets[family.server ?? 'plain'], targets);
  const started = performance.now();
  const limit = c.timeoutMs ?? DEFAULT_CASE_TIMEOUT;
  let timer: NodeJS.Timeout | undefined;
  let verdict: 'OK' | 'FAILED' = 'OK';
  let reason: string | undefined;
  try {
    await Promise.race([
      c.run(ctx),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Mismatch(`the case did not finish within ${fmtMs(limit)}`)), limit);
      }),
    ]);
  } catch (error) {
    verdict = 'FAILED';
    reason = error instanceof Mismatch ? error.message : `client error: ${(error as Error).message}`;
    const gone = serverGone();
    if (gone) reason += ` (${gone})`;
  } finally {
    clearTimeout(timer);
    ctx.cleanup();
  }
  const durationMs = Math.round((performance.now() - started) * 10) / 10;
  const observation = [...ctx.notes, ...(reason ? [`FAILED: ${reason}`] : [])].join('; ');
  return {
    id: c.id,
    family: family.id,
    description: c.description,
    expectation: c.expectation,
    observation: observation || '(nothing observed)',
    verdict,
    reason,
    durationMs,
    wire: ctx.conns.map((conn) => conn.log),
  };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      'deflate-url': { type: 'string' },
      cases: { type: 'string' },
      update: { type: 'boolean', default: false },
      expected: { type: 'string', default: join(ROOT, 'autobahn/conformance.expected.json') },
      out: { type: 'string', default: join(ROOT, 'reports/conformance') },
      concurrency: { type: 'string', default: '8' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`--concurrency must be a positive integer, got ${values.concurrency}`);
  const select = values.cases ? casePatterns(values.cases) : undefined;
  const ran = (id: string) => !select || select(id);

  const all = FAMILIES.flatMap((family) => family.cases.map((c) => ({ family, c })));
  const ids = all.map(({ c }) => c.id);
  const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
  if (duplicate) throw new Error(`duplicate case id ${duplicate}`);
  const selected = all.filter(({ c }) => ran(c.id));
  if (selected.length === 0) throw new Error(`no case matches --cases ${values.cases}`);

  let server: RunningServer | undefined;
  let deflateServer: RunningServer | undefined;
  let url = values.url;
  let deflateUrl = values['deflate-url'] ?? values.url;
  let serverExit: string | undefined;
  const watch = (s: RunningServer, name: string) =>
    s.process.once('exit', (code, signal) => {
      serverExit = `${name} exited with ${signal ?? code}: ${s.log().trim().split('\n').slice(-3).join(' | ')}`;
    });
  if (!url) {
    // Our own echo servers on free ports, as `strictws echo` runs for users: as it
    // starts by default, and with permessage-deflate for families 12 and 13.
    [server, deflateServer] = await Promise.all([startCli('echo', ['--log-level', 'error']), startCli('echo', ['--deflate', '--log-level', 'error'])]);
    // GET / on strictws echo serves its try-it page (docs/apps.md); the cases use a
    // resource name that is only a WebSocket endpoint, so a plain GET there gets 426.
    url = new URL(RESOURCE, server.url).href;
    deflateUrl = new URL(RESOURCE, deflateServer.url).href;
    watch(server, 'the server');
    watch(deflateServer, 'the --deflate server');
  }
  const targets: Record<ServerName, Target> = { plain: targetFromUrl(url), deflate: targetFromUrl(deflateUrl!) };
  const tty = process.stderr.isTTY === true;
  process.stderr.write(
    `conformance: ${selected.length} cases against ${url}${deflateUrl !== url ? ` and ${deflateUrl} (permessage-deflate)` : ''}${server ? ' (strictws echo and strictws echo --deflate started for this run)' : ''}\n`,
  );

  const started = performance.now();
  const results = new Map<string, CaseResult>();
  let done = 0;
  const width = String(selected.length).length;
  const progress = (r: CaseResult) => {
    done++;
    const line = `[${String(done).padStart(width)}/${selected.length}] ${r.id} ${r.verdict} (${fmtMs(r.durationMs)})`;
    if (r.verdict === 'FAILED') process.stderr.write(`${tty ? '\r\x1b[K' : ''}${line} — ${r.reason}\n`);
    else if (tty) process.stderr.write(`\r\x1b[K${line}`);
    else process.stderr.write(`${line}\n`);
  };

  const pool = new Gate(concurrency);
  const heavy = new Gate(1);
  const run = async ({ family, c }: { family: Family; c: Case }) => {
    const r = await runCase(c, family, targets, () => serverExit);
    results.set(c.id, r);
    progress(r);
  };
  // Timer-bound cases start first and wait side by side, outside the pool.
  const slow = selected.filter(({ c }) => c.slow).map(run);
  const rest = selected
    .filter(({ c }) => !c.slow)
    .map(async (item) => {
      if (item.c.heavy) await heavy.take();
      await pool.take();
      try {
        await run(item);
      } finally {
        pool.give();
        if (item.c.heavy) heavy.give();
      }
    });
  await Promise.all([...slow, ...rest]);
  if (tty) process.stderr.write('\r\x1b[K');
  const durationMs = Math.round(performance.now() - started);
  await Promise.all([server?.stop(), deflateServer?.stop()]);

  const ordered = selected.map(({ c }) => results.get(c.id)!);
  const families: FamilySummary[] = FAMILIES.map((f) => {
    const rs = ordered.filter((r) => r.family === f.id);
    return {
      id: f.id,
      title: f.title,
      summary: f.summary,
      cases: rs.length,
      ok: rs.filter((r) => r.verdict === 'OK').length,
      failed: rs.filter((r) => r.verdict === 'FAILED').length,
      durationMs: Math.round(rs.reduce((s, r) => s + r.durationMs, 0)),
    };
  }).filter((f) => f.cases > 0);

  const expectedFile = resolve(values.expected!);
  const previous = readExpected(expectedFile);
  let differences: Difference[] = compare(previous, ordered, ids, ran);
  let updated = false;
  if (values.update) {
    writeExpected(expectedFile, previous, ordered, ids);
    updated = true;
  }

  const report: Report = {
    tool: 'strictws conformance (scripts/conformance)',
    generated: new Date().toISOString(),
    server: {
      url,
      deflateUrl,
      startedByRun: server !== undefined,
      command: server ? 'strictws echo --port 0 --log-level error; strictws echo --port 0 --deflate --log-level error' : undefined,
    },
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    durationMs,
    selection: values.cases ?? null,
    totals: {
      cases: ordered.length,
      ok: ordered.filter((r) => r.verdict === 'OK').length,
      failed: ordered.filter((r) => r.verdict === 'FAILED').length,
    },
    families,
    expected: {
      file: relative(ROOT, expectedFile),
      differences,
      updated,
      missing: previous === undefined,
    },
    cases: ordered,
  };
  const out = resolve(values.out!);
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'index.json'), `${JSON.stringify(report, null, 1)}\n`);
  writeFileSync(join(out, 'index.html'), renderHtml(report));

  process.stderr.write(`\n${summaryTable(report)}\n`);
  process.stderr.write(`reports: ${relative(process.cwd(), join(out, 'index.html')) || '.'} and index.json\n`);
  if (updated) {
    process.stderr.write(`expected verdicts written to ${relative(process.cwd(), expectedFile)}${differences.length ? ` (${differences.length} changed)` : ' (no change)'}\n`);
    differences = [];
  }
  if (differences.length && !previous) {
    process.stderr.write(`\nconformance: no expected verdicts at ${relative(process.cwd(), expectedFile)}; run with --update to create them from this run.\n`);
    return 1;
  }
  if (differences.length) {
    process.stderr.write(`\nconformance: ${differences.length} verdict(s) differ from ${relative(process.cwd(), expectedFile)}:\n`);
    for (const d of differences.slice(0, SHOWN_DIFFERENCES)) process.stderr.write(`  ${describeDifference(d)}\n`);
    if (differences.length > SHOWN_DIFFERENCES) process.stderr.write(`  … and ${differences.length - SHOWN_DIFFERENCES} more (all in index.json and index.html)\n`);
    process.stderr.write('If the change is intended, run `npm run conformance -- --update` and commit the expected file.\n');
    return 1;
  }
  if (!updated) {
    const known = ordered.filter((r) => r.verdict === 'FAILED').length;
    process.stderr.write(`conformance: every verdict matches ${relative(process.cwd(), expectedFile)}${known ? ` (including ${known} expected FAILED)` : ''}\n`);
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`conformance: ${error.message}\n`);
    process.exit(2);
  },
);
