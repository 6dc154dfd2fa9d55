/** `strictws conform <ws://host:port/path>`: the conformance suite against any WebSocket server (wss://, HTTP/2 too). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type ConformRun, type Difference, TargetError, compare, describeDifference, fmtMs, readExpected, renderHtml, renderJunit, runConformance, summaryTable, writeAutobahnJson, writeExpected } from '../conform/index.js';
import { UsageError, parse } from './args.js';
import { conformServe } from './conform-serve.js';

export const CONFORM_USAGE = `Usage: strictws conform <ws://host:port/path | wss://host:port/path> [options]

Runs the conformance suite against a WebSocket server: the Autobahn|Testsuite
fuzzingclient cases of sections 1-10, 12 and 13 under their own ids and verdict
classes, and our own lettered families (docs/conformance.md).

To test a WebSocket client instead, run the fuzzing server:
strictws conform --serve [--port 9001] (see strictws conform --serve --help).

Options:
      --cases <patterns>    only these cases, e.g. "1.*,6.4.*,H.2.1" (Autobahn's rules:
                            a pattern with * matches from the start, others are exact ids)
      --exclude <patterns>  leave these cases out (same rules)
      --out <dir>           reports: index.html, index.json (Autobahn's shape), one JSON
                            per case (default reports/conform)
      --junit <file>        also write JUnit XML (FAILED cases are failures)
      --junit-non-strict    in the JUnit XML, NON-STRICT cases are failures too
      --expected <file>     gate: exit 1 when any verdict differs from this file
      --update              rewrite the --expected file from this run instead
      --concurrency <n>     cases run side by side (default 8)
      --timeout <s>         limit per case in seconds (default 20; cases that move much
                            data keep their longer limits)
      --agent <name>        the name results are filed under (default "server")
      --insecure            wss:// only: accept a certificate that does not verify (self-signed);
                            without it such a server is refused before any case runs
      --http2               each WebSocket is an RFC 8441 extended CONNECT stream: h2c with
                            prior knowledge for ws://, h2 by ALPN for wss://. Cases about the
                            HTTP/1.1 upgrade (H.*) are UNIMPLEMENTED, not run; the E family
                            (the extended CONNECT handshake) is added
  -q, --quiet               no progress lines, only the summary
  -h, --help                show this help

Exit status: 0 when the gate holds (or, without --expected, when no case FAILED),
1 otherwise, 2 on a usage error or when the run cannot start with these options (an
untrusted certificate without --insecure; with --http2, a server that does not speak
HTTP/2 or does not allow extended CONNECT).
`;

const flags = {
  cases: { type: 'string' },
  exclude: { type: 'string' },
  out: { type: 'string', default: 'reports/conform' },
  junit: { type: 'string' },
  'junit-non-strict': { type: 'boolean', default: false },
  expected: { type: 'string' },
  update: { type: 'boolean', default: false },
  concurrency: { type: 'string', default: '8' },
  timeout: { type: 'string' },
  agent: { type: 'string', default: 'server' },
  insecure: { type: 'boolean', default: false },
  http2: { type: 'boolean', default: false },
  quiet: { type: 'boolean', short: 'q', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

const SHOWN_DIFFERENCES = 40;

function positive(flag: string, value: string, integer: boolean): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${flag} must be a positive ${integer ? 'integer' : 'number'}, got "${value}"`);
  }
  return n;
}

function url(value: string | undefined): string {
  if (value === undefined) throw new UsageError('conform needs the URL of the server to test, e.g. ws://127.0.0.1:9001/');
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new UsageError(`"${value}" is not a URL; expected ws://host:port/path or wss://host:port/path`);
  }
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new UsageError(`only ws:// and wss:// URLs can be tested, got "${value}"`);
  return u.href;
}

export async function conform(argv: string[]): Promise<void> {
  if (argv.includes('--serve')) return conformServe(argv);
  const { values, positionals } = parse(() => parseArgs({ args: argv, options: flags, strict: true, allowPositionals: true }));
  if (values.help) {
    process.stdout.write(CONFORM_USAGE);
    return;
  }
  if (positionals.length > 1) throw new UsageError(`conform tests one server, got ${positionals.length} URLs`);
  const target = url(positionals[0]);
  if (values.insecure && !target.startsWith('wss:')) throw new UsageError('--insecure applies to wss:// URLs (it accepts their certificate)');
  if (values.update && !values.expected) throw new UsageError('--update needs --expected <file> (the file to rewrite)');
  if (values['junit-non-strict'] && !values.junit) throw new UsageError('--junit-non-strict needs --junit <file>');
  const concurrency = positive('concurrency', values.concurrency, true);
  const timeoutMs = values.timeout === undefined ? undefined : positive('timeout', values.timeout, false) * 1000;
  const agent = values.agent;
  if (!/^[\w.-]+$/.test(agent)) throw new UsageError(`--agent must be letters, digits, ".", "_" or "-", got "${agent}"`);

  const tty = process.stderr.isTTY === true;
  let run: ConformRun;
  try {
    run = await runConformance({
      url: target,
      cases: values.cases,
      exclude: values.exclude,
      concurrency,
      timeoutMs,
      agent,
      insecure: values.insecure,
      http2: values.http2,
      onResult(r, done, total) {
        if (values.quiet) return;
        const line = `[${String(done).padStart(String(total).length)}/${total}] ${r.id} ${r.behavior}${r.behaviorClose !== 'OK' && r.behaviorClose !== r.behavior ? ` (close ${r.behaviorClose})` : ''} (${fmtMs(r.durationMs)})`;
        if (r.behavior === 'FAILED' || r.behavior === 'NON-STRICT') process.stderr.write(`${tty ? '\r\x1b[K' : ''}${line} — ${r.reason}\n`);
        else if (tty) process.stderr.write(`\r\x1b[K${line}`);
        else process.stderr.write(`${line}\n`);
      },
    });
  } catch (error) {
    if (error instanceof RangeError) throw new UsageError(error.message);
    // Options that cannot test this server (a certificate, HTTP/2): exit 2, as a usage error.
    if (error instanceof TargetError && error.code !== 'UNREACHABLE') throw new UsageError(error.message, false);
    throw error;
  }
  if (tty && !values.quiet) process.stderr.write('\r\x1b[K');

  let differences: Difference[] = [];
  let gate;
  if (values.expected) {
    const file = resolve(values.expected);
    const previous = readExpected(file);
    differences = compare(previous, run.results, run.allIds, run.selected);
    if (values.update) {
      mkdirSync(dirname(file), { recursive: true });
      writeExpected(file, previous, run.results, run.allIds, agent);
    }
    gate = { file: relative(process.cwd(), file) || file, differences, updated: values.update, missing: previous === undefined };
  }

  const out = resolve(values.out);
  writeAutobahnJson(run, out);
  writeFileSync(join(out, 'index.html'), renderHtml(run, gate));
  if (values.junit) {
    mkdirSync(dirname(resolve(values.junit)), { recursive: true });
    writeFileSync(values.junit, renderJunit(run, values['junit-non-strict']));
  }

  process.stderr.write(`${summaryTable(run)}\n`);
  const where = relative(process.cwd(), out) || '.';
  process.stderr.write(`reports: ${where}/index.html, ${where}/index.json${values.junit ? `, ${values.junit}` : ''}\n`);
  if (!gate) {
    const failed = run.results.filter((r) => r.behavior === 'FAILED');
    if (failed.length) throw new Error(`${failed.length} case${failed.length > 1 ? 's' : ''} FAILED: ${failed.slice(0, 10).map((r) => r.id).join(', ')}${failed.length > 10 ? ', …' : ''}`);
    return;
  }
  if (gate.updated) {
    process.stderr.write(`expected verdicts written to ${gate.file}${differences.length ? ` (${differences.length} changed)` : ' (no change)'}\n`);
    return;
  }
  if (gate.missing) throw new Error(`no expected verdicts at ${gate.file}; run with --update to create them from this run`);
  if (differences.length) {
    process.stderr.write(`${differences.length} verdict(s) differ from ${gate.file}:\n`);
    for (const d of differences.slice(0, SHOWN_DIFFERENCES)) process.stderr.write(`  ${describeDifference(d)}\n`);
    if (differences.length > SHOWN_DIFFERENCES) process.stderr.write(`  … and ${differences.length - SHOWN_DIFFERENCES} more (all in the reports)\n`);
    throw new Error(`${differences.length} verdict(s) differ from ${gate.file}; if the change is intended, rerun with --update and commit the file`);
  }
  process.stderr.write(`every verdict matches ${gate.file}\n`);
}
