// What a connection costs to open and close, measured in the server and not by the clock: the
// server's CPU time per connection (median of 3 storms, from /proc), bytes allocated per connection
// (V8's sampling heap profiler, collected objects included) and, with --cpu-prof, where the server's
// CPU time goes during a storm. The load is wsload --storm (each
// connection opens, echoes one message, and closes) against bench/servers/handshake-echo.mjs, the same
// echo handler on strictws's and on ws's library API.
//
//   npx tsx bench/handshake.ts [--impl strictws,ws] [--conns 2000] [--warmup 500] [--concurrency 64]
//                              [--cpu-prof] [--top 12] [--stack 1]
//
// --stack N names each allocation site with up to N frames: the site and its callers.
//
// Allocation counts hardly move with machine load, unlike handshakes per second.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { buildC, runWsload } from './lib/proc.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WSLOAD = join(ROOT, 'bench/.build/wsload');
const SERVER = join(ROOT, 'bench/servers/handshake-echo.mjs');

const { values } = parseArgs({
  options: {
    impl: { type: 'string', default: 'strictws,ws' },
    conns: { type: 'string', default: '2000' },
    warmup: { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '64' },
    'cpu-prof': { type: 'boolean', default: false },
    top: { type: 'string', default: '12' },
    stack: { type: 'string', default: '1' },
  },
});
const conns = Number(values.conns);
const top = Number(values.top);

interface Server {
  child: ChildProcess;
  port: number;
  /** the next JSON line the server prints */
  next: () => Promise<Record<string, unknown>>;
}

async function startServer(impl: string, nodeFlags: string[]): Promise<Server> {
  const child = spawn('node', [...nodeFlags, SERVER, '--impl', impl, '--stack', values.stack], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const first = await lines.next();
  const port = Number(/listening on ws:\/\/[^:]+:(\d+)/.exec(String(first.value))?.[1]);
  if (!port) throw new Error(`${impl}: no "listening on" line (got ${String(first.value)})`);
  const next = async () => {
    const line = await lines.next();
    if (line.done) throw new Error(`${impl}: server exited`);
    return JSON.parse(line.value) as Record<string, unknown>;
  };
  return { child, port, next };
}

async function storm(port: number, n: number, pid = 0): Promise<Record<string, unknown>> {
  const argv = [WSLOAD, '--port', String(port), '--storm', String(n), '--connect-concurrency', values.concurrency];
  const [cmd, ...args] = [...argv, '--sources', '4', '--connect-timeout', '120', '--pid', String(pid), '--json'];
  const json = await runWsload([cmd, ...args], 300_000);
  if (json.errors !== 0 || json.open !== n) throw new Error(`storm had errors: ${JSON.stringify(json)}`);
  return json;
}

async function allocation(impl: string): Promise<void> {
  const server = await startServer(impl, []);
  try {
    await storm(server.port, Number(values.warmup)); // JIT and pools warm
    const cpu: number[] = [];
    for (let i = 0; i < 3; i++) {
      await sleep(500);
      cpu.push(Number((await storm(server.port, conns, server.child.pid)).server_cpu_us_per_conn));
    }
    const median = cpu.sort((a, b) => a - b)[1];
    process.stdout.write(`\n${impl}: ${median} µs of server CPU per connection (median of ${cpu.join(', ')})\n`);
    await sleep(500);
    server.child.stdin!.write('start\n');
    await server.next();
    await storm(server.port, conns);
    await sleep(500); // the last 'close' events
    server.child.stdin!.write('stop\n');
    const { bytes, top: frames } = (await server.next()) as { bytes: number; top: { fn: string; bytes: number }[] };
    process.stdout.write(
      `\n${impl}: ${(bytes / conns / 1024).toFixed(2)} KiB allocated per connection (open, one echo, close), ` +
        `${conns} connections\n\n| bytes/conn | allocated in |\n| ---: | --- |\n` +
        frames
          .slice(0, top)
          .map((f) => `| ${Math.round(f.bytes / conns)} | \`${f.fn}\` |`)
          .join('\n') +
        '\n',
    );
  } finally {
    server.child.kill('SIGKILL');
  }
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
}

async function cpuProfile(impl: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'strictws-cpuprof-'));
  try {
    const server = await startServer(impl, ['--cpu-prof', '--cpu-prof-dir', dir]);
    await storm(server.port, conns);
    server.child.stdin!.write('exit\n');
    await new Promise((resolve) => server.child.once('exit', resolve));
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error('no .cpuprofile written');
    const { nodes, samples, startTime, endTime } = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
      nodes: ProfileNode[];
      samples: number[];
      startTime: number;
      endTime: number;
    };
    const usPerSample = (endTime - startTime) / samples.length;
    const self = new Map<string, number>();
    let busy = 0;
    for (const { callFrame, hitCount } of nodes) {
      if (callFrame.functionName === '(idle)') continue;
      const where = callFrame.url ? ` ${callFrame.url.replace(/^.*\/(dist|node_modules)\//, '$1/').replace(/^node:/, '')}` : '';
      const key = `${callFrame.functionName || '(anonymous)'}${where}`;
      self.set(key, (self.get(key) ?? 0) + hitCount);
      busy += hitCount;
    }
    const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, top);
    process.stdout.write(
      `\n${impl}: CPU profile of a ${conns}-connection storm (start-up included): ` +
        `${((busy * usPerSample) / conns).toFixed(0)} µs busy per connection; self time, % of busy samples\n\n` +
        '| % | function |\n| ---: | --- |\n' +
        rows.map(([fn, hits]) => `| ${((hits / busy) * 100).toFixed(1)} | \`${fn}\` |`).join('\n') +
        '\n',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  buildC(join(ROOT, 'bench/wsload/wsload.c'), WSLOAD, ['-lz']);
  for (const impl of values.impl.split(',')) {
    await allocation(impl);
    if (values['cpu-prof']) await cpuProfile(impl);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
