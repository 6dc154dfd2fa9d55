/**
 * Support for the runtime tests: in-process servers on port 0, a raw
 * `node:net` WebSocket client that does only what a test tells it (never
 * answers pings or closes by itself, can stop reading), and plain HTTP
 * upgrade requests for handshake outcomes.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { type IncomingMessage, type Server, type ServerResponse, createServer, request as httpRequest } from 'node:http';
import { type AddressInfo, type Socket, connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { type ServerOptions, type WebSocket, WebSocketServer } from '../../src/server/index.js';

import { OP, type ParsedFrame, frame, takeFrames } from '../support/frames.js';

export { OP };

export const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Resolve when `check` holds, polling; reject after `timeoutMs`. */
export async function waitFor(check: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(10);
  }
}

/** A standalone server on 127.0.0.1 and a free port. */
export async function listen(options: Omit<ServerOptions, 'port'> = {}): Promise<{ wss: WebSocketServer; port: number; url: string }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', ...options, port: 0 });
  await once(wss, 'listening');
  const { port } = wss.address() as AddressInfo;
  return { wss, port, url: `ws://127.0.0.1:${port}/` };
}

/**
 * An http.Server on 127.0.0.1 and a free port; `cleanups` gets what closes
 * it (its connections included).
 */
export async function httpServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  cleanups: Array<() => Promise<unknown>>,
): Promise<{ http: Server; port: number }> {
  const http = createServer(handler);
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  cleanups.push(async () => {
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  });
  return { http, port: (http.address() as AddressInfo).port };
}

/** Echo like `strictws echo`: text as text, binary as binary. */
export function echo(wss: WebSocketServer): void {
  wss.on('connection', (ws) => ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary })));
}

/** A masked client frame (RFC 6455 §5.2), with a fresh random key unless given. */
export function clientFrame(opcode: number, payload: Uint8Array | string = '', { fin = true, key = randomBytes(4) } = {}): Buffer {
  return frame({ opcode, payload, fin, mask: key });
}

/** A masked close frame; no code gives an empty body. */
export function clientClose(code?: number, reason = ''): Buffer {
  if (code === undefined) return clientFrame(OP.CLOSE);
  const body = Buffer.alloc(2 + Buffer.byteLength(reason));
  body.writeUInt16BE(code);
  body.write(reason, 2, 'utf8');
  return clientFrame(OP.CLOSE, body);
}

export type ServerFrame = ParsedFrame;

/** The close code and reason of a close frame (1005 for an empty body). */
export function closeOf(frame: ServerFrame): { code: number; reason: string } {
  if (frame.payload.length === 0) return { code: 1005, reason: '' };
  return { code: frame.payload.readUInt16BE(0), reason: frame.payload.subarray(2).toString('utf8') };
}

/** A valid opening handshake request for `path` with extra header lines. */
export function upgradeRequest(path = '/', headers: Record<string, string> = {}): string {
  const lines = [
    `GET ${path} HTTP/1.1`,
    'Host: 127.0.0.1',
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
    'Sec-WebSocket-Version: 13',
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/**
 * A WebSocket client on a bare socket. It parses the server's frames into
 * `frames` and does nothing else: no pongs, no close replies, unless told.
 */
export class RawClient<T extends Duplex = Socket> {
  readonly frames: ServerFrame[] = [];
  /** The handshake response head. */
  response = '';
  /** Set when the socket has closed. */
  closed = false;
  /** Bytes of frame data received after the handshake. */
  bytesReceived = 0;

  private buffer: Buffer = Buffer.alloc(0);
  private readonly waiters: Array<() => void> = [];

  private constructor(readonly socket: T) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  /**
   * Connect, send the handshake (and `after`, in the same write), and wait for
   * the 101. `allowHalfOpen` keeps our side open after the server's FIN.
   */
  static async connect(
    port: number,
    { path = '/', headers = {}, after, allowHalfOpen = false }: { path?: string; headers?: Record<string, string>; after?: Buffer; allowHalfOpen?: boolean } = {},
  ): Promise<RawClient> {
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen, noDelay: true });
    const client = new RawClient(socket);
    await once(socket, 'connect');
    const head = Buffer.from(upgradeRequest(path, headers), 'latin1');
    socket.write(after ? Buffer.concat([head, after]) : head);
    await client.until(() => client.response !== '' || client.closed, 10_000, '101 response');
    if (!client.response.startsWith('HTTP/1.1 101 ')) {
      socket.destroy();
      throw new Error(`handshake refused: ${client.response.split('\r\n')[0] || 'connection closed'}`);
    }
    return client;
  }

  /** A client on a transport whose handshake is already done (an HTTP/2 stream, RFC 8441). */
  static over<D extends Duplex>(transport: D, response: string): RawClient<D> {
    const client = new RawClient(transport);
    client.response = response;
    return client;
  }

  send(frame: Buffer): boolean {
    return this.socket.write(frame);
  }

  /** Wait until `check` holds, re-checked on every frame and on close. */
  async until(check: () => boolean, timeoutMs = 10_000, what = 'frames'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The first close frame received, waiting for it. */
  async closeFrame(timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
    await this.until(() => this.frames.some((f) => f.opcode === OP.CLOSE), timeoutMs, 'a close frame');
    return closeOf(this.frames.find((f) => f.opcode === OP.CLOSE)!);
  }

  /** Wait for the socket to close. */
  async socketClosed(timeoutMs = 10_000): Promise<void> {
    await this.until(() => this.closed, timeoutMs, 'the socket to close');
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    if (this.response === '') {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end === -1) return;
      this.response = this.buffer.subarray(0, end + 4).toString('latin1');
      this.buffer = this.buffer.subarray(end + 4);
      if (!this.response.startsWith('HTTP/1.1 101 ')) this.response += this.buffer.toString('utf8');
    }
    this.parseFrames();
    this.wake();
  }

  private parseFrames(): void {
    const { frames, used } = takeFrames(this.buffer);
    for (const f of frames) {
      if (f.masked) throw new Error('the server sent a masked frame');
      this.frames.push(f);
      this.bytesReceived += f.payload.length;
    }
    this.buffer = this.buffer.subarray(used);
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}

export interface HttpOutcome {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * An HTTP/1.1 GET with the given headers (by default a valid upgrade).
 * Resolves with 101 on an upgrade (the socket is then destroyed), or with
 * the status, headers and body of any other response.
 */
export function httpGet(url: string, headers?: Record<string, string>): Promise<HttpOutcome> {
  const upgrade = {
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
    'Sec-WebSocket-Version': '13',
  };
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: headers ?? upgrade, agent: false });
    req.on('upgrade', (response, socket) => {
      socket.destroy();
      resolve({ status: response.statusCode!, headers: response.headers, body: '' });
    });
    req.on('response', (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (s: string) => (body += s));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Servers and raw clients for a test file: `connected` starts a server,
 * connects a RawClient and resolves with the accepted WebSocket too;
 * `cleanup` (for afterEach) drops the clients first, as they never answer a
 * close, then closes the servers.
 */
export function connections(defaults: Omit<ServerOptions, 'port'> = { closeTimeout: 1_000 }) {
  const servers: WebSocketServer[] = [];
  const clients: RawClient[] = [];
  return {
    async connected(options: Omit<ServerOptions, 'port'> = {}, connect: Parameters<typeof RawClient.connect>[1] = {}) {
      const server = await listen({ ...defaults, ...options });
      servers.push(server.wss);
      const accepted = new Promise<WebSocket>((resolve) => server.wss.once('connection', resolve));
      const client = await RawClient.connect(server.port, connect);
      clients.push(client);
      const ws = await accepted;
      return { ...server, client, ws };
    },
    async cleanup(): Promise<void> {
      for (const client of clients.splice(0)) client.socket.destroy();
      await Promise.all(servers.splice(0).map((wss) => wss.close()));
    },
  };
}
