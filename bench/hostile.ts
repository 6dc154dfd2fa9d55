// A hostile client that measures what attackers cost the server in memory (docs/security.md).
// It starts the real CLI (`strictws <app> --port 0 ...`), reads the server's VmRSS from
// /proc/<pid>/status, opens N connections that each run one worst-case attack and never read,
// waits for the RSS to settle, and prints the growth per connection.
//
//   npx tsx bench/hostile.ts --app echo  --attack fragments [--conns 20]
//   npx tsx bench/hostile.ts --app chat  --attack fragments
//   npx tsx bench/hostile.ts --app echo  --attack inflate --deflate [--messages 4]
//
// Attacks:
//   fragments  an unfinished text message of 1-byte fragments, as many as the server takes
//              (min(maxPayload, maxFragments) - 1), never finished: what fragment bookkeeping costs.
//              With --deflate the message is marked compressed (RSV1): its pieces wait uninflated.
//   inflate    (--deflate) --messages compressed messages in one TCP write, each inflating to
//              maxPayload bytes of text; the client never reads what is echoed back.
//   head       not memory but time: --conns requests with a 16,000-byte run of spaces inside a
//              header value (the head just under the 16 KiB cap), one connection each, one after
//              another, and as many plain heads of the same size; prints the median time to the answer.
//
// Needs dist/ (npm run build). Run it on an idle machine: RSS also counts whatever the GC has not
// returned yet, so the figures are upper bounds, and they vary from run to run.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { type Socket, connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { constants, deflateRawSync } from 'node:zlib';

const BIN = fileURLToPath(new URL('../bin/strictws.js', import.meta.url));
const HOST = '127.0.0.1';
const MiB = 1024 * 1024;

const { values } = parseArgs({
  options: {
    app: { type: 'string', default: 'echo' },
    attack: { type: 'string', default: 'fragments' },
    deflate: { type: 'boolean', default: false },
    conns: { type: 'string', default: '20' },
    messages: { type: 'string', default: '4' },
    /** passed on as --max-payload; default: the app's own default */
    'max-payload': { type: 'string' },
    /** the server's maxFragments (not a CLI flag: the library default) */
    'max-fragments': { type: 'string', default: '131072' },
    /** how long to wait for the RSS to settle (s) */
    settle: { type: 'string', default: '20' },
  },
});

const APP_MAX_PAYLOAD: Record<string, number> = { echo: 16 * MiB, chat: 64 * 1024, vote: 64 * 1024 };
const maxPayload = values['max-payload'] ? parseSize(values['max-payload']) : APP_MAX_PAYLOAD[values.app!];
const conns = Number(values.conns);

function parseSize(text: string): number {
  const match = /^(\d+)(k|m|mib|kib)?$/i.exec(text);
  if (!match) throw new Error(`bad size ${text}`);
  const unit = (match[2] ?? '').toLowerCase();
  return Number(match[1]) * (unit.startsWith('k') ? 1024 : unit.startsWith('m') ? MiB : 1);
}

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!kb) throw new Error(`no VmRSS for ${pid}`);
  return Number(kb[1]) * 1024;
}

async function startServer(): Promise<{ child: ChildProcess; port: number }> {
  const args = [BIN, values.app!, '--port', '0', '--host', HOST, '--log-level', 'warn'];
  if (values.deflate) args.push('--deflate');
  if (values['max-payload']) args.push('--max-payload', values['max-payload']);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const match = /listening on ws:\/\/[^\s]*:(\d+)\//.exec(out);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`strictws exited with ${code}`)));
  });
  return { child, port };
}

/** A client frame with a zero masking key (the server cannot tell; it saves the client work). */
function clientFrame(opcode: number, payload: Buffer, { fin = true, rsv1 = false } = {}): Buffer {
  const first = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  const n = payload.length;
  const head = n < 126 ? Buffer.from([first, 0x80 | n]) : n < 65536 ? Buffer.from([first, 0xfe, n >> 8, n & 0xff]) : Buffer.from([first, 0xff, 0, 0, 0, 0, 0, 0, 0, 0]);
  if (n >= 65536) head.writeUInt32BE(n, 6);
  return Buffer.concat([head, Buffer.alloc(4), payload]);
}

async function open(port: number): Promise<Socket> {
  const socket = connect({ port, host: HOST, noDelay: true });
  await once(socket, 'connect');
  const extensions = values.deflate ? 'Sec-WebSocket-Extensions: permessage-deflate\r\n' : '';
  socket.write(
    `GET / HTTP/1.1\r\nHost: ${HOST}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n${extensions}\r\n`,
  );
  const [chunk] = (await once(socket, 'data')) as [Buffer];
  const head = chunk.toString('latin1');
  if (!head.startsWith('HTTP/1.1 101 ')) throw new Error(`handshake refused: ${head.split('\r\n')[0]}`);
  if (values.deflate && !/sec-websocket-extensions: permessage-deflate/i.test(head)) throw new Error('permessage-deflate not agreed');
  // Never read again: what the server sends back stays queued on its side.
  socket.pause();
  return socket;
}

/** The fragments attack: one text frame of 1 byte, then 1-byte continuations, never FIN. */
function fragmentsAttack(): { bytes: Buffer; description: string } {
  const count = Math.min(maxPayload, Number(values['max-fragments'])) - 1;
  const first = clientFrame(0x1, Buffer.from('a'), { fin: false, rsv1: values.deflate });
  const next = clientFrame(0x0, Buffer.from('a'), { fin: false });
  const bytes = Buffer.alloc(first.length + next.length * (count - 1));
  first.copy(bytes, 0);
  for (let at = first.length; at < bytes.length; at += next.length) next.copy(bytes, at);
  const kind = values.deflate ? 'compressed (RSV1) ' : '';
  return { bytes, description: `an unfinished ${kind}text message of ${count} one-byte fragments (${bytes.length} bytes on the wire)` };
}

/** The inflate attack: `messages` compressed text messages that each inflate to maxPayload bytes, in one write. */
function inflateAttack(): { bytes: Buffer; description: string } {
  if (!values.deflate) throw new Error('--attack inflate needs --deflate');
  const messages = Number(values.messages);
  // RFC 7692 §7.2.1: a raw deflate stream ended by a sync flush, without its final 00 00 ff ff.
  const compressed = deflateRawSync(Buffer.alloc(maxPayload, 'a'), { finishFlush: constants.Z_SYNC_FLUSH }).subarray(0, -4);
  const one = clientFrame(0x1, compressed, { rsv1: true });
  const bytes = Buffer.concat(Array.from({ length: messages }, () => one));
  return { bytes, description: `${messages} compressed messages in one write, each ${compressed.length} bytes inflating to ${maxPayload}` };
}

async function settle(pid: number, seconds: number): Promise<{ rss: number; peak: number }> {
  let peak = 0;
  let last = rssOf(pid);
  let stableSince = Date.now();
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    await sleep(250);
    const rss = rssOf(pid);
    peak = Math.max(peak, rss);
    if (Math.abs(rss - last) > MiB) stableSince = Date.now();
    last = rss;
    if (Date.now() - stableSince > 3000) break;
  }
  return { rss: last, peak };
}

/** The time from writing `head` on a new connection to the first byte of the answer. */
async function answerTime(port: number, head: string): Promise<number> {
  const socket = connect({ port, host: HOST, noDelay: true });
  await once(socket, 'connect');
  const started = performance.now();
  socket.write(head, 'latin1');
  await once(socket, 'data');
  const ms = performance.now() - started;
  socket.destroy();
  return ms;
}

async function headAttack(port: number): Promise<void> {
  const fields = `Host: ${HOST}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n`;
  const head = (value: string) => `GET / HTTP/1.1\r\n${fields}Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nX: ${value}\r\n\r\n`;
  const run = 16_000;
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1];
  const times = { hostile: [] as number[], plain: [] as number[] };
  for (let i = 0; i < conns; i++) {
    times.plain.push(await answerTime(port, head(`a${'b'.repeat(run)}b`)));
    times.hostile.push(await answerTime(port, head(`a${' '.repeat(run)}b`)));
  }
  console.log(`strictws ${values.app}, node ${process.version}: ${conns} heads of ${head('x'.repeat(run + 2)).length} bytes each way`);
  console.log(`median time to the answer: ${median(times.hostile).toFixed(1)} ms with ${run} spaces inside a value, ${median(times.plain).toFixed(1)} ms without`);
}

async function main(): Promise<void> {
  if (values.attack === 'head') {
    const { child, port } = await startServer();
    try {
      await headAttack(port);
    } finally {
      child.kill('SIGKILL');
    }
    return;
  }
  const attack = values.attack === 'inflate' ? inflateAttack() : fragmentsAttack();
  const { child, port } = await startServer();
  const pid = child.pid!;
  try {
    const sockets: Socket[] = [];
    for (let i = 0; i < conns; i++) sockets.push(await open(port));
    const base = await settle(pid, 5);
    for (const socket of sockets) socket.write(attack.bytes);
    const after = await settle(pid, Number(values.settle));
    const alive = sockets.filter((s) => !s.destroyed && !s.readableEnded).length;
    const growth = after.rss - base.rss;
    const peakGrowth = after.peak - base.rss;
    const fmt = (n: number) => `${(n / MiB).toFixed(1)} MiB`;
    console.log(`strictws ${values.app}${values.deflate ? ' --deflate' : ''}, maxPayload ${maxPayload}, node ${process.version}`);
    console.log(`attack: ${attack.description}`);
    console.log(`${conns} connections (${alive} still open at the end), idle RSS ${fmt(base.rss)} with them open`);
    console.log(`RSS growth: ${fmt(growth)} settled (${fmt(growth / conns)} per connection), peak ${fmt(peakGrowth)} (${fmt(peakGrowth / conns)} per connection)`);
    if (peakGrowth > 0) console.log(`at that peak, 1 GiB holds about ${Math.floor((1024 * MiB) / (peakGrowth / conns))} such connections`);
    for (const socket of sockets) socket.destroy();
  } finally {
    child.kill('SIGKILL');
  }
}

await main();
