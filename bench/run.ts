// Benchmark harness: echo servers under wsload (/work/shared/tools/wsload.c), or bench/deflate-load.mjs
// for permessage-deflate cases, server pinned to CPU 0 and the load generator to CPU 1, a fresh server
// process per measurement.
//
//   npx tsx bench/run.ts [--servers strictws,ws,ws-bufferutil,raw]
//                        [--cases small,medium,64k,large,idle,deflate4k]
//                        [--runs 3] [--duration 5] [--warmup 1]
//
// Progress goes to stderr, the markdown report to stdout and bench/results/latest.md, every sample with
// the load generator's raw JSON to bench/results/latest.json. Exits 1 if any run had errors.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { CASES, DEFAULT_CASES, HOST, METRICS, SERVERS, runsCase, type Case, type Server } from './matrix.js';
import * as proc from './lib/proc.js';
import { renderMarkdown, type Sample } from './lib/report.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WSLOAD_SRC = process.env.WSLOAD_SRC ?? '/work/shared/tools/wsload.c';
const WSLOAD = join(ROOT, 'bench/.build/wsload');
const DEFLATE_LOAD = join(ROOT, 'bench/deflate-load.mjs');
const RESULTS = join(ROOT, 'bench/results');
const SERVER_CPU = 0;
const CLIENT_CPU = 1;
const CONNECT_SLACK_S = 40; // wsload's connect timeout (20 s) + close timeout + margin

interface Options {
  servers: Server[];
  cases: Case[];
  runs: number;
  duration: number;
  warmup: number;
}

function pick<T extends { id: string }>(all: T[], list: string, what: string): T[] {
  return list.split(',').map((id) => {
    const found = all.find((x) => x.id === id.trim());
    if (!found) throw new Error(`unknown ${what} "${id}"; choose from ${all.map((x) => x.id).join(', ')}`);
    return found;
  });
}

function numberAtLeast(value: string, name: string, min: number): number {
  const n = Number(value);
  if (!(n >= min)) throw new Error(`--${name} must be a number ≥ ${min}, got "${value}"`);
  return n;
}

const USAGE = `usage: npx tsx bench/run.ts [--servers ${SERVERS.map((s) => s.id).join(',')}]
         [--cases ${CASES.map((c) => c.id).join(',')}] [--runs 3] [--duration 5] [--warmup 1]
defaults: every server, cases ${DEFAULT_CASES.join(',')}`;

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      servers: { type: 'string', default: SERVERS.map((s) => s.id).join(',') },
      cases: { type: 'string', default: DEFAULT_CASES.join(',') },
      runs: { type: 'string', default: '3' },
      duration: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '1' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    process.exit(0);
  }
  return {
    servers: pick(SERVERS, values.servers, 'server'),
    cases: pick(CASES, values.cases, 'case'),
    runs: Math.round(numberAtLeast(values.runs, 'runs', 1)),
    duration: numberAtLeast(values.duration, 'duration', 0.1),
    warmup: numberAtLeast(values.warmup, 'warmup', 0),
  };
}

function wsloadArgs(c: Case, s: Server, port: number, pid: number, o: Options): string[] {
  const common = ['--host', HOST, '--port', String(port), '--pid', String(pid), '--json'];
  const { load } = c;
  if (load.kind === 'idle') return [...common, '--idle', String(load.conns), '--hold', String(o.duration)];
  return [
    ...common,
    ...['--size', String(load.size), '--conns', String(load.conns), '--inflight', String(load.inflight)],
    ...['--opcode', load.opcode, '--duration', String(o.duration), '--warmup', String(o.warmup)],
    ...(s.raw ? ['--raw'] : []),
  ];
}

/** The load generator's argv: wsload, or deflate-load.mjs (same flags and JSON) for deflate cases. */
function loadArgv(c: Case, s: Server, port: number, pid: number, o: Options): string[] {
  const loader = c.load.kind === 'echo' && c.load.deflate ? ['node', DEFLATE_LOAD] : [WSLOAD];
  return proc.pinned(CLIENT_CPU, [...loader, ...wsloadArgs(c, s, port, pid, o)]);
}

/** Metrics and error counters from one wsload (or deflate-load.mjs) --json object. */
function fromWsload(json: Record<string, unknown>): Pick<Sample, 'metrics' | 'errors'> {
  const num = (key: string) => {
    const v = json[key];
    return typeof v === 'number' && v >= 0 ? v : undefined; // wsload prints -1 for "unknown"
  };
  const metrics =
    json.mode === 'idle'
      ? { kibPerConn: num('kib_per_conn') }
      : {
          msgsPerS: num('msgs_per_s'),
          mbPerS: num('mb_per_s'),
          p50Us: num('lat_p50_us'),
          p99Us: num('lat_p99_us'),
          serverCpuPct: num('server_cpu_pct'),
          clientCpuPct: num('client_cpu_pct'),
        };
  const errors = Object.entries(json)
    .filter(([key, value]) => key.startsWith('err_') && value !== 0)
    .map(([key, value]) => `${key}=${String(value)}`);
  if (num('errors') && errors.length === 0) errors.push(`errors=${String(json.errors)}`);
  if (json.mode !== 'idle' && !json.messages) errors.push('no messages echoed');
  return { metrics, errors };
}

async function measure(s: Server, c: Case, run: number, o: Options, serverWrap: string[]): Promise<Sample> {
  const sample: Sample = { server: s.id, case: c.id, run, metrics: {}, errors: [] };
  // An error's first line is the summary; anything after it (process output) goes to the log.
  const fail = (message: string) => {
    const [summary, ...rest] = message.trim().split('\n');
    sample.errors.push(summary);
    if (rest.length) sample.log = [sample.log, ...rest].filter(Boolean).join('\n');
  };
  const port = await proc.freePort(HOST);
  let server: proc.RunningServer;
  try {
    const deflate = c.load.kind === 'echo' && c.load.deflate ? (s.deflate ?? []) : [];
    const argv = proc.pinned(SERVER_CPU, [...s.command(port), ...deflate]);
    server = await proc.startServer([...serverWrap, ...argv], ROOT);
  } catch (err) {
    fail((err as Error).message);
    return sample;
  }
  try {
    const files = proc.openFileLimit(server.pid);
    if (c.load.kind === 'idle' && files < c.load.conns + 64)
      fail(`server open-file limit ${files} is too low for ${c.load.conns} connections`);
    const seconds = (c.load.kind === 'idle' ? 0 : o.warmup) + o.duration + CONNECT_SLACK_S;
    const argv = loadArgv(c, s, port, server.pid, o);
    sample.command = argv.join(' ');
    sample.wsload = await proc.runWsload(argv, seconds * 1000);
    const { metrics, errors } = fromWsload(sample.wsload);
    sample.metrics = metrics;
    errors.forEach(fail);
  } catch (err) {
    fail((err as Error).message);
  }
  const status = server.exitStatus();
  if (status !== undefined) {
    fail(`server exited (${status}) during the run\n${server.output()}`);
    delete sample.metrics.serverCpuPct; // wsload could not read its /proc/PID/stat at the end
  }
  await server.stop();
  return sample;
}

function describe(sample: Sample, c: Case): string {
  const figures = c.headlines.flatMap(({ metric }) => {
    const v = sample.metrics[metric];
    return v === undefined ? [] : [`${Math.round(v).toLocaleString('en-US')} ${METRICS[metric].label}`];
  });
  const errors = sample.errors.length ? `\n!!! ERRORS: ${sample.errors.join('; ')}` : '';
  const log = sample.log ? `\n${sample.log.replace(/^/gm, '    ')}` : '';
  return figures.join(', ') + errors + log;
}

async function main(): Promise<void> {
  const o = parseOptions();
  proc.killChildrenOnExit();
  proc.buildWsload(WSLOAD_SRC, WSLOAD);

  const skipped: string[] = [];
  const servers = o.servers.filter((s) => {
    if (!s.requires || existsSync(join(ROOT, s.requires))) return true;
    skipped.push(`${s.label}: ${s.requires} does not exist yet`);
    return false;
  });
  const cases = o.cases.filter((c) => {
    if (c.unsupported) skipped.push(`${c.id} (${c.title}): ${c.unsupported}`);
    return !c.unsupported;
  });
  skipped.forEach((line) => process.stderr.write(`SKIPPED ${line}\n`));

  // Node raises its own soft limit to the hard one; if even that is short for the idle case, try
  // raising it in a shell (works only with privilege). measure() checks the server's actual limit.
  const needFiles = Math.max(0, ...cases.map((c) => c.load.conns)) + 64;
  const ourFiles = proc.openFileLimit('self');
  const serverWrap = ourFiles >= needFiles ? [] : ['sh', '-c', `ulimit -n ${needFiles} 2>/dev/null; exec "$@"`, 'sh'];
  if (serverWrap.length)
    process.stderr.write(`open-file limit is ${ourFiles}; trying ulimit -n ${needFiles} for servers\n`);

  const plan = cases.flatMap((c) => servers.filter((s) => runsCase(s, c)).map((s) => ({ c, s })));
  const samples: Sample[] = [];
  const startLoad = loadavg()[0];
  for (let run = 1; run <= o.runs; run++)
    for (const [i, { c, s }] of plan.entries()) {
      process.stderr.write(`[run ${run}/${o.runs} · ${i + 1}/${plan.length}] ${c.id} · ${s.label} … `);
      const sample = await measure(s, c, run, o, serverWrap);
      process.stderr.write(describe(sample, c) + '\n');
      samples.push(sample);
      await sleep(300); // let closed sockets and the CPUs settle
    }

  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}`;
  const setup = [
    `${new Date().toISOString()}, node ${process.version}, ${machine}, load average ${startLoad.toFixed(2)} at start`,
    `${o.runs} run(s) per cell, ${o.warmup} s warmup + ${o.duration} s measured (idle: ${o.duration} s hold); ` +
      'a fresh server process per measurement',
    `server pinned with taskset -c ${SERVER_CPU}, wsload with taskset -c ${CLIENT_CPU}; closed-loop echo, ` +
      'every message length/opcode-checked, every 8th byte-checked',
    ...(cases.some((c) => c.load.kind === 'echo' && c.load.deflate)
      ? [
          'deflate cases: bench/deflate-load.mjs instead of wsload (ws client, perMessageDeflate threshold 0, ' +
            'extension checked on every connection, every echo byte-checked), same pinning',
        ]
      : []),
    `open-file limit ${ourFiles}; wsload built from ${WSLOAD_SRC}`,
  ];
  const report = renderMarkdown({ title: 'strictws benchmark', setup, servers, cases, samples, skipped });
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, 'latest.md'), report);
  const options = { ...o, servers: servers.map((s) => s.id), cases: cases.map((c) => c.id) };
  writeFileSync(join(RESULTS, 'latest.json'), JSON.stringify({ setup, options, skipped, samples }, null, 2) + '\n');
  process.stdout.write(report);
  const failed = samples.filter((s) => s.errors.length).length;
  if (failed) process.stderr.write(`\n!!! ${failed} measurement(s) had ERRORS — see the ⚠ section of the report\n`);
  process.exitCode = failed ? 1 : 0;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 2;
});
