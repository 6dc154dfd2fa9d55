/**
 * maxConnections (issue #10 item 6): open connections plus handshakes in
 * progress are capped; past the cap a handshake gets 503 with Retry-After
 * and a 'handshakeError' (TOO_MANY_CONNECTIONS). A slot frees when a
 * connection's socket closes or a handshake ends.
 */
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { DEFAULTS, RETRY_AFTER_SECONDS, type ServerOptions, WebSocketServer } from '../../src/server/index.js';
import { httpGet, httpServer, listen, waitFor } from './support.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(mode: 'standalone' | 'attached' | 'noServer', options: Omit<ServerOptions, 'port' | 'server' | 'noServer'>) {
  let wss: WebSocketServer;
  let port: number;
  if (mode === 'standalone') {
    ({ wss, port } = await listen(options));
  } else {
    const server = await httpServer((_req, res) => res.end(), cleanups);
    port = server.port;
    wss = mode === 'attached' ? new WebSocketServer({ ...options, server: server.http }) : new WebSocketServer({ ...options, noServer: true });
    if (mode === 'noServer') {
      server.http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) =>
        wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request)),
      );
    }
  }
  cleanups.push(() => wss.close());
  const refused: string[] = [];
  wss.on('handshakeError', (error: Error & { code?: string }) => refused.push(error.code!));
  return { wss, port, refused, url: `ws://127.0.0.1:${port}/` };
}

async function open(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  cleanups.push(async () => ws.terminate());
  await once(ws, 'open');
  return ws;
}

it('the default is documented and exported', () => {
  expect(DEFAULTS.maxConnections).toBe(10_000);
  expect(RETRY_AFTER_SECONDS).toBe(5);
});

describe.each(['standalone', 'attached', 'noServer'] as const)('%s', (mode) => {
  it('past maxConnections a handshake gets 503 with Retry-After; a closed connection frees its slot', async () => {
    const { wss, url, refused } = await start(mode, { maxConnections: 2 });
    const first = await open(url);
    await open(url);
    const busy = await httpGet(url.replace('ws:', 'http:'));
    expect(busy.status).toBe(503);
    expect(busy.headers['retry-after']).toBe(String(RETRY_AFTER_SECONDS));
    expect(refused).toEqual(['TOO_MANY_CONNECTIONS']);
    expect(wss.connectionCount).toBe(2);
    first.close();
    await waitFor(() => wss.connectionCount === 1, 5_000, 'the slot to free');
    await open(url);
    expect(wss.connectionCount).toBe(2);
  });
});

it('a handshake in progress holds a slot (standalone: from the TCP accept)', async () => {
  const { wss, url, refused } = await start('standalone', { maxConnections: 1, handshakeTimeout: 60_000 });
  // A client that connects and says nothing: a handshake in progress.
  const idle = connect({ port: Number(new URL(url).port), host: '127.0.0.1' });
  idle.on('error', () => {});
  cleanups.push(async () => idle.destroy());
  await once(idle, 'connect');
  await waitFor(() => wss.connectionCount === 1, 5_000, 'the idle handshake to count');
  expect((await httpGet(url.replace('ws:', 'http:'))).status).toBe(503);
  expect(refused).toEqual(['TOO_MANY_CONNECTIONS']);
  idle.destroy();
  await waitFor(() => wss.connectionCount === 0, 5_000, 'the slot to free');
  expect((await httpGet(url.replace('ws:', 'http:'))).status).toBe(101);
});

it('a pending authenticate holds a slot (attached)', async () => {
  let release: (value: boolean) => void = () => {};
  const { url } = await start('attached', { maxConnections: 1, authenticate: () => new Promise((resolve) => (release = resolve)) });
  const pending = httpGet(url.replace('ws:', 'http:'));
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect((await httpGet(url.replace('ws:', 'http:'))).status).toBe(503);
  release(true);
  expect((await pending).status).toBe(101);
});
