/**
 * WebSockets over HTTP/2 (RFC 8441) against HTTP/1.1, both over TLS, on the
 * real `strictws echo --tls-cert --tls-key` (dist/) in its own process:
 *
 *   1. echo msg/s: C WebSockets, closed loop (one 64-byte text message in
 *      flight each), for D seconds: C TLS connections vs C streams on one h2 connection;
 *   2. handshake time: N WebSockets opened (50 at a time) as N TLS
 *      connections vs N extended CONNECT streams on one h2 connection.
 *
 * The same raw client code runs on both transports (a TLS socket after the
 * 101, or an h2 stream after the 200). Results are for docs/performance.md.
 *
 *   npx tsx bench/h2.ts [--connections 32] [--seconds 5] [--handshakes 1000]
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { type ClientHttp2Session, connect as h2connect } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { parseArgs } from 'node:util';
import { clientUpgrade } from './lib/upgrade.js';

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '32' },
    seconds: { type: 'string', default: '5' },
    handshakes: { type: 'string', default: '1000' },
  },
});
const CONNECTIONS = Number(values.connections);
const SECONDS = Number(values.seconds);
const HANDSHAKES = Number(values.handshakes);
const PAYLOAD = Buffer.alloc(64, 'x');

/** A masked text frame of PAYLOAD (RFC 6455 §5.2; under 126 bytes). */
function textFrame(): Buffer {
  const mask = randomBytes(4);
  const out = Buffer.alloc(6 + PAYLOAD.length);
  out[0] = 0x81;
  out[1] = 0x80 | PAYLOAD.length;
  mask.copy(out, 2);
  for (let i = 0; i < PAYLOAD.length; i++) out[6 + i] = PAYLOAD[i] ^ mask[i & 3];
  return out;
}

/** Count the server's (unmasked, short) frames as they arrive; call `onFrame` per frame. */
function countFrames(transport: Duplex, onFrame: () => void): void {
  let pending: Buffer = Buffer.alloc(0);
  transport.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let pos = 0;
    while (pending.length - pos >= 2 && pending.length - pos >= 2 + (pending[pos + 1] & 0x7f)) {
      pos += 2 + (pending[pos + 1] & 0x7f);
      onFrame();
    }
    pending = pending.subarray(pos);
  });
}

async function startServer(dir: string): Promise<{ child: ChildProcess; port: number }> {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'pipe' });
  const child = spawn(process.execPath, ['bin/strictws.js', 'echo', '--port', '0', '--log-level', 'error', '--tls-cert', cert, '--tls-key', key], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const match = /wss:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return { child, port };
}

/** An RFC 6455 WebSocket over its own TLS connection (ALPN http/1.1). */
async function h1WebSocket(port: number): Promise<Duplex> {
  const socket = tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
  socket.setNoDelay(true);
  await once(socket, 'secureConnect');
  const { rest } = await clientUpgrade(socket);
  if (rest.length > 0) throw new Error('frames with the 101: not expected in this bench');
  return socket;
}

/** An RFC 8441 WebSocket: one extended CONNECT stream on `session`. */
async function h2WebSocket(session: ClientHttp2Session): Promise<Duplex> {
  const stream = session.request(
    { ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'https', ':path': '/', 'sec-websocket-version': '13' },
    { endStream: false },
  );
  const [headers] = await once(stream, 'response');
  if (headers[':status'] !== 200) throw new Error(`status ${headers[':status']}`);
  return stream;
}

async function h2Session(port: number): Promise<ClientHttp2Session> {
  const session = h2connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false, peerMaxConcurrentStreams: 10_000 });
  await once(session, 'remoteSettings');
  return session;
}

/** Closed-loop echo on every transport for SECONDS: messages per second. */
async function echoRate(transports: Duplex[]): Promise<number> {
  let count = 0;
  let running = true;
  for (const transport of transports) {
    countFrames(transport, () => {
      count++;
      if (running) transport.write(textFrame());
    });
  }
  for (const transport of transports) transport.write(textFrame());
  await new Promise((resolve) => setTimeout(resolve, 1000)); // warm-up
  const start = count;
  const started = process.hrtime.bigint();
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
  const done = count - start;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  running = false;
  return done / seconds;
}

/** Open `n` WebSockets with `open`, 50 at a time: milliseconds. */
async function openMany(n: number, open: () => Promise<Duplex>): Promise<{ ms: number; opened: Duplex[] }> {
  const opened: Duplex[] = [];
  const started = process.hrtime.bigint();
  let next = 0;
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      while (next < n) {
        next++;
        opened.push(await open());
      }
    }),
  );
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, opened };
}

const dir = mkdtempSync(join(tmpdir(), 'strictws-bench-h2-'));
const { child, port } = await startServer(dir);
try {
  const h1 = await openMany(CONNECTIONS, () => h1WebSocket(port));
  const h1Rate = await echoRate(h1.opened);
  for (const socket of h1.opened) socket.destroy();

  const session = await h2Session(port);
  const h2 = await openMany(CONNECTIONS, () => h2WebSocket(session));
  const h2Rate = await echoRate(h2.opened);

  const h1Open = await openMany(HANDSHAKES, () => h1WebSocket(port));
  for (const socket of h1Open.opened) socket.destroy();
  const h2Session2 = await h2Session(port);
  const h2Open = await openMany(HANDSHAKES, () => h2WebSocket(h2Session2));

  const line = (name: string, value: string) => console.log(`${name.padEnd(52)} ${value}`);
  line(`echo, ${CONNECTIONS} WebSockets, 64 B, HTTP/1.1 over TLS`, `${Math.round(h1Rate)} msg/s`);
  line(`echo, ${CONNECTIONS} WebSockets, 64 B, HTTP/2 (one connection)`, `${Math.round(h2Rate)} msg/s`);
  line('  ratio h2 / h1.1', (h2Rate / h1Rate).toFixed(2));
  line(`open ${HANDSHAKES} WebSockets, ${HANDSHAKES} TLS connections`, `${Math.round(h1Open.ms)} ms`);
  line(`open ${HANDSHAKES} WebSockets, one h2 connection`, `${Math.round(h2Open.ms)} ms`);
  line('  ratio h1.1 / h2', (h1Open.ms / h2Open.ms).toFixed(2));
} finally {
  child.kill();
  rmSync(dir, { recursive: true, force: true });
  // Node 20's http2 client can spin when it tears down sessions whose streams the
  // server reset (docs/http2.md): leave without closing them.
  process.exit(0);
}
