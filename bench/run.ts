// Benchmark harness: echo, idle, connection-storm, fan-out and permessage-deflate cases under the C load
// generator bench/wsload/wsload.c, server pinned to CPU 0 and the load generator to CPU 1, a fresh server
// process per measurement. Builds wsload (gcc, zlib) and the C echo server (bench/servers/echo.c) first.
//
//   npx tsx bench/run.ts [--servers strictws,ws,ws-bufferutil,raw,c-echo]
//                        [--cases small,medium,64k,large,idle,idle10k,storm5k,storm10k,fanout1k,fanout1k-rate,...]
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
import { CASES, C_ECHO, DEFAULT_CASES, HOST, METRICS, SERVERS, runsCase, type Case, type Server } from './matrix.js';
import * as proc from './lib/proc.js';
import { renderMarkdown, type Sample } from './lib/report.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WSLOAD_SRC = join(ROOT, 'bench/wsload/wsload.c');
const WSLOAD = join(ROOT, 'bench/.build/wsload');
const C_ECHO_SRC = join(ROOT, 'bench/servers/echo.c');
const RESULTS = join(ROOT, 'bench/results');
const SERVER_CPU = 0;
const CLIENT_CPU = 1;
const CONNECT_SLACK_S = 40; // wsload's connect timeout (20 s) + close timeout + margin
/** storms and fan-outs open thousands of connections on a loaded machine: wsload's connect timeout */
const MANY_CONNECT_TIMEOUT_S = 90;
/** source addresses 127.0.0.1-4 for the many-connection cases, so ephemeral ports never run out */
const SOURCES = 4;

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
  const many = ['--sources', String(SOURCES), '--connect-timeout', String(MANY_CONNECT_TIMEOUT_S)];
  const timed = ['--duration', String(o.duration), '--warmup', String(o.warmup)];
  const { load } = c;
  switch (load.kind) {
    case 'idle':
      return [...common, '--idle', String(load.conns), '--hold', String(o.duration), ...many];
    case 'storm':
      return [...common, '--storm', String(load.conns), '--connect-concurrency', String(load.concurrency), ...many];
    case 'fanout':
      return [
        ...common,
        ...['--fanout', String(load.conns), '--slow', String(load.slow), '--size', String(load.size)],
        ...['--inflight', String(load.inflight), ...(load.rate ? ['--rate', String(load.rate)] : [])],
        ...['--duration', String(measuredSeconds(c, o)), '--warmup', String(o.warmup), ...many],
      ];
    case 'echo':
      return [
        ...common,
        ...['--size', String(load.size), '--conns', String(load.conns), '--inflight', String(load.inflight)],
        ...['--opcode', load.opcode, ...timed],
        ...(s.raw ? ['--raw'] : []),
        ...(load.deflate ? ['--deflate'] : []),
      ];
  }
}

/** How long a case is measured: --duration, or longer where the case needs more messages. */
function measuredSeconds(c: Case, o: Options): number {
  return c.load.kind === 'fanout' ? Math.max(o.duration, c.load.minDuration ?? 0) : o.duration;
}

/** Metrics and error counters from one wsload --json object. */
function fromWsload(json: Record<string, unknown>): Pick<Sample, 'metrics' | 'errors'> {
  const num = (key: string) => {
    const v = json[key];
    return typeof v === 'number' && v >= 0 ? v : undefined; // wsload prints -1 for "unknown"
  };
  /** server CPU µs per operation, from its CPU share over the measurement and the operation rate */
  const perOp = (rate: number | undefined) => {
    const cpu = num('server_cpu_pct');
    return cpu !== undefined && rate ? (cpu / 100 / rate) * 1e6 : undefined;
  };
  const cpu = { serverCpuPct: num('server_cpu_pct'), clientCpuPct: num('client_cpu_pct') };
  const metrics: Sample['metrics'] =
    json.mode === 'idle'
      ? { kibPerConn: num('kib_per_conn') }
      : json.mode === 'storm'
        ? {
            handshakesPerS: num('handshakes_per_s'),
            allEchoedS: num('echo_s'),
            p50Us: num('hs_p50_us'),
            p99Us: num('hs_p99_us'),
            serverCpuUsPerOp: num('server_cpu_us_per_conn'),
            kibPerConn: num('kib_per_conn'),
            ...cpu,
          }
        : json.mode === 'fanout'
          ? {
              deliveredPerS: num('delivered_per_s'),
              msgsPerS: num('published_per_s'),
              // no message reached every subscriber within the measurement: no latency to report
              ...(json.published ? { p50Us: num('lat_p50_us'), p99Us: num('lat_p99_us') } : {}),
              ...(num('rate') ? { keptUpPct: num('kept_up_pct') } : {}),
              serverCpuUsPerOp: perOp(num('delivered_per_s')),
              ...cpu,
            }
          : {
              msgsPerS: num('msgs_per_s'),
              mbPerS: num('mb_per_s'),
              p50Us: num('lat_p50_us'),
              p99Us: num('lat_p99_us'),
              serverCpuUsPerOp: perOp(num('msgs_per_s')),
              ...(json.deflate ? { kibPerConn: num('kib_per_conn') } : {}),
              ...cpu,
            };
  const errors = Object.entries(json)
    .filter(([key, value]) => key.startsWith('err_') && value !== 0)
    .map(([key, value]) => `${key}=${String(value)}`);
  if (num('errors') && errors.length === 0) errors.push(`errors=${String(json.errors)}`);
  if ((json.mode === 'echo' || json.mode === 'raw' || json.mode === 'fanout') && !json.messages)
    errors.push('no messages echoed');
  if (json.mode === 'storm' && json.open !== json.conns) errors.push(`only ${String(json.open)} of ${String(json.conns)} opened`);
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
    const command = c.load.kind === 'fanout' && s.broadcast ? s.broadcast(port) : s.command(port);
    const argv = proc.pinned(SERVER_CPU, [...command, ...deflate]);
    server = await proc.startServer([...serverWrap, ...argv], ROOT);
  } catch (err) {
    fail((err as Error).message);
    return sample;
  }
  try {
    const files = proc.openFileLimit(server.pid);
    if (files < c.load.conns + 64) fail(`server open-file limit ${files} is too low for ${c.load.conns} connections`);
    const many = c.load.kind !== 'echo';
    const seconds = o.warmup + measuredSeconds(c, o) + CONNECT_SLACK_S + (many ? MANY_CONNECT_TIMEOUT_S : 0);
    const argv = proc.pinned(CLIENT_CPU, [WSLOAD, ...wsloadArgs(c, s, port, server.pid, o)]);
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
  proc.buildC(WSLOAD_SRC, WSLOAD, ['-lz']);
  if (o.servers.some((s) => s.id === 'c-echo')) proc.buildC(C_ECHO_SRC, join(ROOT, C_ECHO));

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
  const loadAt: string[] = [];
  for (let run = 1; run <= o.runs; run++)
    for (const [i, { c, s }] of plan.entries()) {
      process.stderr.write(`[run ${run}/${o.runs} · ${i + 1}/${plan.length}] ${c.id} · ${s.label} … `);
      const load = loadavg()[0];
      const sample = await measure(s, c, run, o, serverWrap);
      sample.loadavg = load;
      process.stderr.write(`${describe(sample, c)} (load ${load.toFixed(1)})\n`);
      samples.push(sample);
      await sleep(300); // let closed sockets and the CPUs settle
    }

  loadAt.push(`${startLoad.toFixed(2)} at start, ${loadavg()[0].toFixed(2)} at the end`);
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}`;
  const setup = [
    `${new Date().toISOString()}, node ${process.version}, ${machine}, 1-min load average ${loadAt.join('')} ` +
      '(each sample\'s is in latest.json)',
    `${o.runs} run(s) per cell, ${o.warmup} s warmup + ${o.duration} s measured (idle: ${o.duration} s hold); ` +
      'a fresh server process per measurement',
    `server pinned with taskset -c ${SERVER_CPU}, wsload with taskset -c ${CLIENT_CPU}; closed-loop echo, ` +
      'every message length/opcode-checked, every 8th byte-checked (deflate: every echo inflated and compared)',
    'storm: connects with 256 in flight from 127.0.0.1-4, each echoes one 16 B message once open; ' +
      'fan-out: every subscriber checks every message\'s sequence number and length, every 8th its bytes; ' +
      'saturation cases keep 4 messages undelivered, open-loop (-rate) cases publish on a fixed schedule and ' +
      'time each message from its scheduled publication to its last subscriber\'s receipt',
    'server CPU µs/op = server CPU time per echoed message, per handshake (storm) or per delivered message (fan-out)',
    `open-file limit ${ourFiles}; wsload built from bench/wsload/wsload.c`,
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
