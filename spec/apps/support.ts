/**
 * Test support for the apps: a JSON client on the `ws` package, a raw
 * client that stops reading, a throwaway redis-server, and Chromium.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { type AddressInfo, type Socket, connect as tcpConnect, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import WebSocket from 'ws';
import { OP, type ParsedFrame, frame, takeFrames } from '../support/frames.js';
export { launchChromium } from '../support/browser.js';

export type Json = { type: string; [field: string]: any };

/** A `ws` client that parses every message as JSON and lets a test wait for the one it wants. */
export class JsonClient {
  readonly received: Json[] = [];
  closed: { code: number; reason: string } | undefined;
  private waiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      this.received.push(isBinary ? { type: 'binary' } : (JSON.parse(data.toString()) as Json));
      this.wake();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
  }

  static async open(url: string): Promise<JsonClient> {
    const ws = new WebSocket(url);
    const client = new JsonClient(ws);
    await once(ws, 'open');
    return client;
  }

  /** Open and join the chat; resolves with the welcome. */
  static async join(url: string, name?: string): Promise<{ client: JsonClient; welcome: Json }> {
    const client = await JsonClient.open(url);
    client.send(name === undefined ? { type: 'join' } : { type: 'join', name });
    const welcome = await client.next((m) => m.type === 'welcome');
    return { client, welcome };
  }

  send(value: unknown): void {
    this.ws.send(typeof value === 'string' ? value : JSON.stringify(value));
  }

  /** The first message from `from` on (default: the start) that matches; waits for it. */
  async next(match: (m: Json) => boolean, timeoutMs = 5000, from = 0): Promise<Json> {
    let i = from;
    const scan = (): Json | undefined => {
      for (; i < this.received.length; i++) if (match(this.received[i])) return this.received[i];
      return undefined;
    };
    return this.until(scan, timeoutMs, 'a matching message');
  }

  /** Wait until `check` returns something truthy; fail early if the connection closes first. */
  async until<T>(check: () => T | undefined | false, timeoutMs = 5000, what = 'a condition'): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = check();
      if (value) return value;
      if (this.closed) throw new Error(`connection closed ${this.closed.code} while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`timed out waiting for ${what}; last messages: ${JSON.stringify(this.received.slice(-3))}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async closeAndWait(): Promise<void> {
    if (this.closed) return;
    this.ws.close(1000);
    await once(this.ws, 'close');
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

/** Frames the server sent, parsed from a byte stream; an incomplete last frame is left out. */
export function parseServerFrames(data: Buffer): ParsedFrame[] {
  return takeFrames(data).frames;
}

/**
 * A hand-made client on a raw TCP socket: handshake, send text, then read
 * only when told. Its socket is paused, so the server's frames pile up.
 */
export class RawClient {
  private chunks: Buffer[] = [];

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.chunks.push(chunk));
    socket.on('error', () => {});
  }

  static async open(url: string): Promise<RawClient> {
    const { hostname, port, pathname } = new URL(url);
    const socket = tcpConnect(Number(port), hostname);
    await once(socket, 'connect');
    const client = new RawClient(socket);
    socket.write(
      `GET ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    await client.waitFor((text) => text.includes('\r\n\r\n'));
    if (!client.text().startsWith('HTTP/1.1 101')) throw new Error(`handshake failed: ${client.text()}`);
    return client;
  }

  sendText(text: string): void {
    this.socket.write(frame({ opcode: OP.TEXT, payload: text }));
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('latin1');
  }

  /** Everything received after the 101 response. */
  frames(): Array<{ opcode: number; payload: Buffer }> {
    const data = Buffer.concat(this.chunks);
    return parseServerFrames(data.subarray(data.indexOf('\r\n\r\n') + 4));
  }

  async waitFor(check: (text: string) => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check(this.text())) {
      if (Date.now() > deadline) throw new Error('raw client: timed out');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Stop reading: the kernel buffers fill, then the server's queue for us grows. */
  stopReading(): void {
    this.socket.pause();
  }

  /** Read again, until the server closes the TCP connection. */
  async readToEnd(timeoutMs = 15_000): Promise<void> {
    this.socket.resume();
    if (this.socket.readableEnded || this.socket.destroyed) return;
    await Promise.race([
      once(this.socket, 'close'),
      new Promise((_, reject) => setTimeout(() => reject(new Error('raw client: no close')), timeoutMs)),
    ]);
  }
}

/** A free TCP port on 127.0.0.1 (free when asked). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface RedisServer {
  url: string;
  port: number;
  /** End it (SIGTERM by default; SIGKILL for a crash) and wait for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface RedisOptions {
  /** Default: a free port. */
  port?: number;
  /**
   * Keep data in an append-only file in this folder, fsynced before every
   * reply (`appendfsync always`), so that what Redis acknowledged survives a
   * kill and a restart on the same folder. Default: no persistence.
   */
  dir?: string;
}

/** A throwaway redis-server on 127.0.0.1, killed by stop(). */
export async function startRedis({ port = 0, dir }: RedisOptions = {}): Promise<RedisServer> {
  if (port === 0) port = await freePort();
  const persistence = dir === undefined ? ['--appendonly', 'no'] : ['--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always'];
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${output}`)), 10_000);
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      output += s;
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}: ${output}`));
    });
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await once(child, 'exit');
    },
  };
}

/** The page URL of a server whose URL line said ws://host:port/... */
export function pageUrl(wsUrl: string): string {
  const { host } = new URL(wsUrl);
  return `http://${host}/`;
}

const REPORTS = fileURLToPath(new URL('../../reports/screenshots/', import.meta.url));
const DOCS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));

/**
 * Screenshot `page` into reports/screenshots/ (CI artifacts). With
 * `docs` and STRICTWS_DOCS_SCREENSHOTS=1, also into docs/screenshots/ for the README.
 */
export async function screenshot(page: Page, name: string, docs = false): Promise<void> {
  mkdirSync(REPORTS, { recursive: true });
  await page.screenshot({ path: `${REPORTS}${name}.png`, fullPage: true });
  if (docs && process.env.STRICTWS_DOCS_SCREENSHOTS === '1') {
    mkdirSync(DOCS, { recursive: true });
    await page.screenshot({ path: `${DOCS}${name}.png`, fullPage: true });
  }
}
