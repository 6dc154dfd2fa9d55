/**
 * A handshake that always answers (issue #11 item 2), in all three modes:
 * `authenticate` may return a malformed result, throw, reject or never
 * settle; each gets a defined HTTP answer (500, or 408 at handshakeTimeout),
 * one 'handshakeError' event, and never an unhandled rejection. Also: several
 * attached servers leave no path unanswered, and a socket can be given to
 * handleUpgrade once.
 */
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type ServerOptions, WebSocketServer } from '../../src/server/index.js';
import { delay, httpGet, httpServer as startHttp, listen, upgradeRequest } from './support.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const rejections: unknown[] = [];
const onRejection = (reason: unknown) => rejections.push(reason);
beforeAll(() => void process.on('unhandledRejection', onRejection));
afterAll(() => void process.off('unhandledRejection', onRejection));

const httpServer = () => startHttp((_req, res) => res.end('plain'), cleanups);

type Mode = 'standalone' | 'attached' | 'noServer';
const MODES: Mode[] = ['standalone', 'attached', 'noServer'];

/** A server in `mode` on a free port, with what its 'handshakeError' events reported. */
async function start(mode: Mode, options: Omit<ServerOptions, 'port' | 'server' | 'noServer'>) {
  let wss: WebSocketServer;
  let port: number;
  if (mode === 'standalone') {
    ({ wss, port } = await listen(options));
  } else {
    const server = await httpServer();
    port = server.port;
    if (mode === 'attached') {
      wss = new WebSocketServer({ ...options, server: server.http });
    } else {
      wss = new WebSocketServer({ ...options, noServer: true });
      server.http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) =>
        wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request)),
      );
    }
  }
  cleanups.push(() => wss.close());
  const errors: Array<Error & { code?: string }> = [];
  wss.on('handshakeError', (error: Error) => errors.push(error));
  return { wss, port, errors, url: `http://127.0.0.1:${port}/` };
}

// The error's code: INVALID_HOOK_RESULT for a malformed result; the hook's own error has none.
const BROKEN: Array<[string, () => unknown, RegExp, string | undefined]> = [
  ['resolves to null', async () => null, /authenticate returned null/, 'INVALID_HOOK_RESULT'],
  ['returns a number', () => 42, /authenticate returned 42/, 'INVALID_HOOK_RESULT'],
  ['returns { status: "x" }', () => ({ status: 'x' }), /authenticate returned \{ status: 'x' \}/, 'INVALID_HOOK_RESULT'],
  ['returns status 200', () => ({ status: 200 }), /400-599/, 'INVALID_HOOK_RESULT'],
  ['throws', () => {
    throw new Error('database down');
  }, /database down/, undefined],
  ['rejects', () => Promise.reject(new Error('token service down')), /token service down/, undefined],
  ['rejects with undefined', () => Promise.reject(undefined), /^$/, undefined],
];

describe.each(MODES)('%s: authenticate', (mode) => {
  it.each(BROKEN)('that %s: 500, one handshakeError, no unhandled rejection', async (_name, authenticate, message, code) => {
    const before = rejections.length;
    const { url, errors } = await start(mode, { authenticate: authenticate as ServerOptions['authenticate'], handshakeTimeout: 400 });
    expect((await httpGet(url)).status).toBe(500);
    // Past handshakeTimeout: the refused handshake's timer is gone, so no 408 event follows.
    await delay(700);
    expect(errors).toHaveLength(1);
    expect(String((errors[0] as Error | undefined)?.message ?? '')).toMatch(message);
    expect((errors[0] as { code?: string } | undefined)?.code).toBe(code);
    expect(rejections.length).toBe(before);
  });

  it('that never settles: 408 at handshakeTimeout, one handshakeError, and no connection later', async () => {
    const { wss, url, errors } = await start(mode, { authenticate: () => new Promise(() => {}), handshakeTimeout: 300 });
    const connections: unknown[] = [];
    wss.on('connection', (ws) => connections.push(ws));
    const started = Date.now();
    expect((await httpGet(url)).status).toBe(408);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    await delay(400);
    expect(errors.map((e) => e.code)).toEqual(['HANDSHAKE_TIMEOUT']);
    expect(connections).toEqual([]);
  });

  it('that settles after the 408: nothing more happens', async () => {
    const { wss, url, errors } = await start(mode, { authenticate: () => delay(600).then(() => true), handshakeTimeout: 200 });
    const connections: unknown[] = [];
    wss.on('connection', (ws) => connections.push(ws));
    expect((await httpGet(url)).status).toBe(408);
    await delay(700);
    expect(errors.map((e) => e.code)).toEqual(['HANDSHAKE_TIMEOUT']);
    expect(connections).toEqual([]);
  });

  it('a refused handshake (404) clears its timer: one event, no 408 later', async () => {
    const { port, errors } = await start(mode, { path: '/ws', handshakeTimeout: 200, closeTimeout: 2_000 });
    // A client that keeps its side open after the answer, so only the timer could speak again.
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    socket.on('error', () => {});
    cleanups.push(async () => socket.destroy());
    await once(socket, 'connect');
    let response = '';
    socket.setEncoding('latin1').on('data', (s: string) => (response += s));
    socket.write(upgradeRequest('/other'));
    await delay(600);
    expect(response).toMatch(/^HTTP\/1\.1 404 /);
    expect(response).not.toContain(' 408 ');
    expect(errors.map((e) => e.code)).toEqual(['NOT_FOUND']);
  });
});

describe('several servers attached to one http.Server', () => {
  it('a path no server claims gets 404, not silence; the claimed paths still connect', async () => {
    const { http, port } = await httpServer();
    const a = new WebSocketServer({ server: http, path: '/a' });
    const b = new WebSocketServer({ server: http, path: '/b' });
    cleanups.push(() => a.close(), () => b.close());
    const seen: string[] = [];
    a.on('connection', () => seen.push('a'));
    b.on('connection', () => seen.push('b'));
    const refused: string[] = [];
    for (const wss of [a, b]) wss.on('handshakeError', (error: Error & { code?: string }) => refused.push(error.code!));
    const outcome = await Promise.race([httpGet(`http://127.0.0.1:${port}/c`), delay(3_000).then(() => 'hung')]);
    expect(outcome).toMatchObject({ status: 404 });
    expect(refused).toEqual(['NOT_FOUND']);
    expect((await httpGet(`http://127.0.0.1:${port}/a`)).status).toBe(101);
    expect((await httpGet(`http://127.0.0.1:${port}/b?x=1`)).status).toBe(101);
    await delay(50);
    expect(seen).toEqual(['a', 'b']);
  });

  it('a server without path takes what no path claims; one with the path takes its own', async () => {
    const { http, port } = await httpServer();
    const any = new WebSocketServer({ server: http });
    const chat = new WebSocketServer({ server: http, path: '/chat' });
    cleanups.push(() => any.close(), () => chat.close());
    const seen: string[] = [];
    any.on('connection', (_ws, req: IncomingMessage) => seen.push(`any ${req.url}`));
    chat.on('connection', (_ws, req: IncomingMessage) => seen.push(`chat ${req.url}`));
    expect((await httpGet(`http://127.0.0.1:${port}/chat`)).status).toBe(101);
    expect((await httpGet(`http://127.0.0.1:${port}/other`)).status).toBe(101);
    await delay(50);
    expect(seen).toEqual(['chat /chat', 'any /other']);
  });

  it("another 'upgrade' listener keeps the paths no strictws server claims", async () => {
    const { http, port } = await httpServer();
    const a = new WebSocketServer({ server: http, path: '/a' });
    cleanups.push(() => a.close());
    http.on('upgrade', (request: IncomingMessage, socket: Duplex) => {
      if (request.url === '/mine') socket.end('HTTP/1.1 418 I\'m a Teapot\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    });
    expect((await httpGet(`http://127.0.0.1:${port}/mine`)).status).toBe(418);
  });
});

describe('handleUpgrade', () => {
  it('a second call with the same socket throws, as in ws', async () => {
    const { http, port } = await httpServer();
    const wss = new WebSocketServer({ noServer: true });
    const other = new WebSocketServer({ noServer: true });
    cleanups.push(() => wss.close(), () => other.close());
    const thrown: string[] = [];
    http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      wss.handleUpgrade(request, socket, head, () => {});
      for (const server of [wss, other]) {
        try {
          server.handleUpgrade(request, socket, head, () => {});
        } catch (error) {
          thrown.push((error as Error).message);
        }
      }
    });
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    await once(ws, 'open');
    ws.terminate();
    expect(thrown).toHaveLength(2);
    expect(thrown[0]).toMatch(/more than once with the same socket/);
  });
});
