/** `strictws conform --serve`: the fuzzing server for WebSocket clients (src/conform/serve.ts), with reports per agent. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type ConformRun, type Gate, compare, describeDifference, fmtMs, readExpected, renderHtml, renderJunit, summaryTable, writeAutobahnJson, writeExpected } from '../conform/index.js';
import { agentSlug, startFuzzingServer } from '../conform/serve.js';
import { UsageError, parse, port, transport } from './args.js';

export const SERVE_USAGE = `Usage: strictws conform --serve [options]

A fuzzing server for WebSocket clients, like Autobahn|Testsuite's fuzzingserver:
Autobahn's cases of sections 1-10, 12 and 13 run from the server's seat, under
Autobahn's ids and verdict classes. It speaks Autobahn's HTTP paths, so client
drivers written for Autobahn work unchanged (each is a WebSocket connection):

  /getCaseCount                 the number of cases, as a text message
  /getCaseInfo?case=N           {"id", "description"} of case N (1-based)
  /runCase?case=N&agent=A       case N runs on this connection; echo every message
  /getCaseStatus?case=N&agent=A {"behavior"} of A's last run of case N
  /updateReports?agent=A        writes A's reports to <out>/<A>/, then closes

Options:
  -p, --port <n>            port to listen on (default 9001, as Autobahn; 0 picks a free one)
  -H, --host <addr>         address to listen on (default 127.0.0.1)
      --tls-cert <file>     serve wss:// with this PEM certificate (chain)...
      --tls-key <file>      ...and this PEM private key (the cases run over HTTP/1.1)
      --cases <patterns>    only these cases (Autobahn's rules); case numbers count only these
      --exclude <patterns>  leave these cases out
      --out <dir>           reports, one directory per agent: index.html, index.json
                            (Autobahn's shape), one JSON per case, junit.xml
                            (default reports/clients)
      --junit-non-strict    in junit.xml, NON-STRICT cases are failures too
      --expected <file>     gate each agent on this file; "{agent}" in it is replaced
                            by the agent's name, e.g. expected/{agent}.json. The gate also
                            fails when the client did not run every selected case
      --update              rewrite the --expected file(s) from the runs instead
      --timeout <s>         limit per case in seconds (default 20; cases that move much
                            data keep their longer limits)
      --once                exit after the first /updateReports: status 0 when its gate
                            holds (without --expected: no case FAILED), 1 otherwise
  -q, --quiet               no progress lines
  -h, --help                show this help

Without --once the server runs until SIGINT or SIGTERM; each /updateReports prints
the agent's summary and gate on stderr.
`;

const flags = {
  serve: { type: 'boolean', default: false },
  port: { type: 'string', short: 'p', default: '9001' },
  host: { type: 'string', short: 'H', default: '127.0.0.1' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  cases: { type: 'string' },
  exclude: { type: 'string' },
  out: { type: 'string', default: 'reports/clients' },
  'junit-non-strict': { type: 'boolean', default: false },
  expected: { type: 'string' },
  update: { type: 'boolean', default: false },
  timeout: { type: 'string' },
  once: { type: 'boolean', default: false },
  quiet: { type: 'boolean', short: 'q', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof flags }>>['values'];

/** Write an agent's reports and apply its gate; returns the problems (empty when the gate holds). */
function report(run: ConformRun, values: Values): string[] {
  const slug = agentSlug(run.agent);
  const problems: string[] = [];
  let gate: Gate | undefined;
  if (values.expected) {
    const file = resolve(values.expected.replaceAll('{agent}', slug));
    const previous = readExpected(file);
    const differences = compare(previous, run.results, run.allIds, run.selected);
    if (values.update) {
      mkdirSync(dirname(file), { recursive: true });
      writeExpected(file, previous, run.results, run.allIds, run.agent);
    }
    gate = { file: relative(process.cwd(), file) || file, differences, updated: values.update, missing: previous === undefined };
    if (!gate.updated) {
      if (gate.missing) problems.push(`no expected verdicts at ${gate.file}; rerun with --update to create them`);
      else for (const d of differences) problems.push(describeDifference(d));
    }
  } else {
    for (const r of run.results) if (r.behavior === 'FAILED') problems.push(`${r.id}: FAILED — ${r.reason ?? ''}`);
  }
  const ran = new Set(run.results.map((r) => r.id));
  const notRun = run.allIds.filter((id) => run.selected(id) && !ran.has(id));
  if (notRun.length && !values.update) problems.push(`the client ran ${ran.size} of ${ran.size + notRun.length} cases; not run: ${notRun.slice(0, 10).join(', ')}${notRun.length > 10 ? ', …' : ''}`);
  const dir = resolve(values.out, slug);
  writeAutobahnJson(run, dir);
  writeFileSync(join(dir, 'index.html'), renderHtml(run, gate));
  writeFileSync(join(dir, 'junit.xml'), renderJunit(run, values['junit-non-strict']));
  process.stderr.write(`agent "${run.agent}": ${run.results.length} cases\n${summaryTable(run)}\nreports: ${relative(process.cwd(), dir) || '.'}/index.html, index.json, junit.xml\n`);
  if (gate?.updated) process.stderr.write(`expected verdicts written to ${gate.file}\n`);
  for (const p of problems.slice(0, 40)) process.stderr.write(`  ${p}\n`);
  if (problems.length > 40) process.stderr.write(`  … and ${problems.length - 40} more (all in the reports)\n`);
  if (!problems.length && !gate?.updated) process.stderr.write(gate ? `every verdict matches ${gate.file}\n` : 'no case FAILED\n');
  return problems;
}

export async function conformServe(argv: string[]): Promise<void> {
  const { values, positionals } = parse(() => parseArgs({ args: argv, options: flags, strict: true, allowPositionals: true }));
  if (values.help) {
    process.stdout.write(SERVE_USAGE);
    return;
  }
  if (positionals.length) throw new UsageError(`conform --serve tests the clients that connect to it; it takes no URL, got "${positionals[0]}"`);
  if (values.update && !values.expected) throw new UsageError('--update needs --expected <file> (the file to rewrite)');
  const timeout = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeout !== undefined && !(/^\d+(\.\d+)?$/.test(values.timeout!) && timeout > 0)) throw new UsageError(`--timeout must be a positive number, got "${values.timeout}"`);

  // The same checks as echo/chat/vote: a bad certificate or key is a usage error, now.
  const { tls } = transport(values);

  let finish: (problems: string[]) => void = () => {};
  const finished = new Promise<string[]>((resolve) => (finish = resolve));
  const server = await startFuzzingServer({
    port: port(values.port),
    host: values.host,
    tls,
    cases: values.cases,
    exclude: values.exclude,
    timeoutMs: timeout === undefined ? undefined : timeout * 1000,
    onResult(agent, r, n, total) {
      if (values.quiet) return;
      const close = r.behaviorClose !== 'OK' && r.behaviorClose !== r.behavior ? ` (close ${r.behaviorClose})` : '';
      const why = r.behavior === 'FAILED' || r.behavior === 'NON-STRICT' ? ` — ${r.reason}` : '';
      process.stderr.write(`[${agent}] [${n}/${total}] ${r.id} ${r.behavior}${close} (${fmtMs(r.durationMs)})${why}\n`);
    },
    onReports(run) {
      const problems = report(run, values);
      if (values.once) finish(problems);
    },
  }).catch((error: Error) => {
    if (error instanceof RangeError) throw new UsageError(error.message);
    throw error;
  });
  process.stdout.write(`strictws conform --serve: ${server.cases.length} cases, listening on ${server.url}\n`);
  const stop = () => finish([]);
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const problems = await finished;
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  // Let the /updateReports connection close before the server goes.
  await new Promise((r) => setTimeout(r, 100));
  await server.close();
  if (problems.length) throw new Error(`${problems.length} problem${problems.length > 1 ? 's' : ''} with the client's run (listed above)`);
}
