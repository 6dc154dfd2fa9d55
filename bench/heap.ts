// What an idle connection costs, by constructor: starts an echo server with --heapsnapshot-signal,
// takes a heap snapshot with no clients and one with N idle clients (each after a full GC, as
// heap snapshots are), and prints the difference per connection, plus the VmRSS difference.
//
//   npx tsx bench/heap.ts [--server strictws|ws|raw] [--conns 2000] [--warmup 500] [--top 30] [--keep]
//
// --warmup N clients connect and leave before the first snapshot, so that code compiled for the
// handshake (JIT) and pools filled by the first connections are not counted per connection.
// "raw" is bench/servers/raw-echo.mjs (a bare net.Socket per client, no handshake): the floor.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { freePort } from './lib/proc.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HOST = '127.0.0.1';

const { values } = parseArgs({
  options: {
    server: { type: 'string', default: 'strictws' },
    conns: { type: 'string', default: '2000' },
    warmup: { type: 'string', default: '500' },
    top: { type: 'string', default: '30' },
    /** keep the snapshots (their folder is printed) */
    keep: { type: 'boolean', default: false },
  },
});
const conns = Number(values.conns);

function serverArgv(port: number): string[] {
  const p = String(port);
  switch (values.server) {
    case 'strictws':
      return ['bin/strictws.js', 'echo', '--port', p, '--host', HOST, '--log-level', 'warn'];
    case 'ws':
      return ['bench/servers/ws-echo.mjs', '--port', p, '--host', HOST, '--no-bufferutil'];
    case 'raw':
      return ['bench/servers/raw-echo.mjs', '--port', p, '--host', HOST];
    default:
      throw new Error(`unknown server ${values.server}`);
  }
}

interface Totals {
  bySelf: Map<string, { size: number; count: number }>;
  total: number;
}

/** Self sizes summed by node type and constructor/name. */
function summarize(file: string): Totals {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  const fields = snap.snapshot.meta.node_fields;
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const types = snap.snapshot.meta.node_types[0];
  const bySelf = new Map<string, { size: number; count: number }>();
  let total = 0;
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt]];
    const size = snap.nodes[i + sizeAt];
    let name = snap.strings[snap.nodes[i + nameAt]];
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string') name = '(string)';
    else if (type === 'code') name = '(code)';
    else if (name.length > 60) name = name.slice(0, 57) + '…';
    const key = `${type}: ${name}`;
    const entry = bySelf.get(key) ?? { size: 0, count: 0 };
    entry.size += size;
    entry.count++;
    bySelf.set(key, entry);
    total += size;
  }
  return { bySelf, total };
}

function rssKiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line?.split(/\s+/)[1]);
}

async function snapshot(pid: number, dir: string): Promise<string> {
  const before = new Set(readdirSync(dir));
  process.kill(pid, 'SIGUSR2');
  for (let waited = 0; waited < 120_000; waited += 200) {
    await sleep(200);
    const fresh = readdirSync(dir).filter((f) => !before.has(f) && f.endsWith('.heapsnapshot'));
    if (fresh.length) {
      // Written when its size stops changing.
      const file = join(dir, fresh[0]);
      let last = -1;
      for (;;) {
        await sleep(1000);
        const size = statSync(file).size;
        if (size === last && size > 0) return file;
        last = size;
      }
    }
  }
  throw new Error('no heap snapshot');
}

async function openClients(port: number, n: number, handshake: boolean): Promise<Socket[]> {
  const sockets: Socket[] = [];
  const request =
    'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
  for (let i = 0; i < n; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, n - i) }, async () => {
        const socket = connect(port, HOST);
        socket.on('error', () => {});
        await once(socket, 'connect');
        if (handshake) {
          socket.write(request);
          const [data] = (await once(socket, 'data')) as [Buffer];
          if (!data.toString('latin1').startsWith('HTTP/1.1 101')) throw new Error('handshake refused');
        }
        sockets.push(socket);
      }),
    );
  }
  return sockets;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'strictws-heap-'));
  const port = await freePort(HOST);
  // The script runs from the repository; its snapshots land in `dir`.
  const [script, ...args] = serverArgv(port);
  const child = spawn('node', ['--heapsnapshot-signal=SIGUSR2', join(ROOT, script), ...args], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => /listening on/.test(d.toString()) && resolve());
      child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
    });
    const warm = await openClients(port, Number(values.warmup), values.server !== 'raw');
    warm.forEach((s) => s.destroy());
    await sleep(1000);
    const file0 = await snapshot(child.pid!, dir);
    const rss0 = rssKiB(child.pid!);
    const sockets = await openClients(port, conns, values.server !== 'raw');
    await sleep(1000);
    const rss1 = rssKiB(child.pid!);
    const file1 = await snapshot(child.pid!, dir);
    const rss2 = rssKiB(child.pid!);
    const a = summarize(file0);
    const b = summarize(file1);
    const rows = [...b.bySelf]
      .map(([key, v]) => {
        const was = a.bySelf.get(key) ?? { size: 0, count: 0 };
        return { key, bytes: (v.size - was.size) / conns, count: (v.count - was.count) / conns };
      })
      .filter((r) => Math.abs(r.bytes) >= 1)
      .sort((x, y) => y.bytes - x.bytes)
      .slice(0, Number(values.top));
    process.stdout.write(
      `${values.server}: ${conns} idle connections\n` +
        `VmRSS delta ${((rss1 - rss0) / conns).toFixed(2)} KiB/conn before the second snapshot's full GC, ` +
        `${((rss2 - rss0) / conns).toFixed(2)} after it\n` +
        `live V8 heap delta ${((b.total - a.total) / conns / 1024).toFixed(2)} KiB/conn\n\n` +
        '| bytes/conn | objects/conn | type: constructor |\n| ---: | ---: | --- |\n' +
        rows.map((r) => `| ${r.bytes.toFixed(0)} | ${r.count.toFixed(2)} | ${r.key} |`).join('\n') +
        '\n',
    );
    sockets.forEach((s) => s.destroy());
  } finally {
    child.kill('SIGKILL');
    if (values.keep) process.stdout.write(`snapshots kept in ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
