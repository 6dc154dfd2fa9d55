/**
 * Ways to run a WebSocketServer and the handshake options (issue #3):
 * standalone, attached to an http.Server, noServer with handleUpgrade; path,
 * authenticate, origins, handleProtocols; 426 for a plain GET.
 */
import { once } from 'node:events';
import { IncomingMessage, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { WebSocketServer } from '../../src/server/index.js';
import { OP, RawClient, clientFrame, delay, echo, httpGet, httpServer as startHttp, listen } from './support.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function standalone(options: Parameters<typeof listen>[0] = {}) {
  const server = await listen(options);
  cleanups.push(() => server.wss.close());
  echo(server.wss);
  return server;
}

const httpServer = (handler: (req: IncomingMessage, res: ServerResponse) => void) => startHttp(handler, cleanups);

/** Open a ws client, send `message`, resolve with the echo. */
async function roundTrip(url: string, message = 'hello'): Promise<string> {
  const ws = new WebSocket(url);
  await once(ws, 'open');
  ws.send(message);
  const [data] = (await once(ws, 'message')) as [Buffer];
  ws.close();
  await once(ws, 'close');
  return data.toString();
}

describe('standalone server', () => {
  it('a plain GET (no Upgrade) gets 426 with a short text body', async () => {
    const { port } = await standalone();
    const response = await httpGet(`http://127.0.0.1:${port}/`, { Accept: 'text/html' });
    expect(response.status).toBe(426);
    expect(response.headers['upgrade']).toBe('websocket');
    expect(response.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(response.body.length).toBeGreaterThan(0);
    expect(response.body.length).toBeLessThan(200);
    expect(response.body).toMatch(/websocket/i);
  });

  it('frames sent in the same packet as the handshake are not lost', async () => {
    const { port } = await standalone();
    const client = await RawClient.connect(port, { after: clientFrame(OP.TEXT, 'early ✓') });
    await client.until(() => client.frames.length > 0);
    expect(client.frames[0].opcode).toBe(OP.TEXT);
    expect(client.frames[0].payload.toString()).toBe('early ✓');
    client.socket.destroy();
  });

  it('path restricts the endpoint: another path gets 404', async () => {
    const { port } = await standalone({ path: '/ws' });
    expect(await roundTrip(`ws://127.0.0.1:${port}/ws?room=1`)).toBe('hello');
    expect((await httpGet(`http://127.0.0.1:${port}/other`)).status).toBe(404);
  });
});

describe("the request a 'connection' listener gets (standalone)", () => {
  it('is an IncomingMessage of the request for a listener that declares it, or takes ...args', async () => {
    const { wss, port } = await standalone(); // its echo listener is (ws) => …: no request asked for
    const seen: unknown[] = [];
    wss.on('connection', (_ws: unknown, req: IncomingMessage) => seen.push(req));
    wss.on('connection', (...args: unknown[]) => seen.push(args[1]));
    expect(await roundTrip(`ws://127.0.0.1:${port}/room?x=1`)).toBe('hello');
    expect(seen).toHaveLength(2);
    for (const req of seen) {
      expect(req).toBeInstanceOf(IncomingMessage);
      const { method, url, headers } = req as IncomingMessage;
      expect([method, url, headers.upgrade, headers['sec-websocket-version']]).toEqual(['GET', '/room?x=1', 'websocket', '13']);
    }
    expect(seen[0]).toBe(seen[1]); // built once
  });
});

describe('attached to an http.Server', () => {
  it('leaves normal HTTP requests alone and serves WebSocket only on path', async () => {
    const { http, port } = await httpServer((req, res) => res.end(`plain http for ${req.url}`));
    const wss = new WebSocketServer({ server: http, path: '/ws' });
    cleanups.push(() => wss.close());
    echo(wss);

    // Normal requests, including a plain GET to the WebSocket path, go to the http handler.
    expect(await httpGet(`http://127.0.0.1:${port}/`, {})).toMatchObject({ status: 200, body: 'plain http for /' });
    expect(await httpGet(`http://127.0.0.1:${port}/ws`, {})).toMatchObject({ status: 200, body: 'plain http for /ws' });
    // Upgrades on path are served; on another path they get 404 (no other upgrade listener).
    expect(await roundTrip(`ws://127.0.0.1:${port}/ws`, 'attached ✓')).toBe('attached ✓');
    expect((await httpGet(`http://127.0.0.1:${port}/elsewhere`)).status).toBe(404);
    expect(wss.address()).toEqual(http.address());
  });

  it('two servers on one http.Server, each on its path', async () => {
    const { http, port } = await httpServer((_req, res) => res.end('plain'));
    const a = new WebSocketServer({ server: http, path: '/a' });
    const b = new WebSocketServer({ server: http, path: '/b' });
    cleanups.push(() => a.close(), () => b.close());
    a.on('connection', (ws) => ws.on('message', () => ws.send('from a')));
    b.on('connection', (ws) => ws.on('message', () => ws.send('from b')));
    expect(await roundTrip(`ws://127.0.0.1:${port}/a`)).toBe('from a');
    expect(await roundTrip(`ws://127.0.0.1:${port}/b`)).toBe('from b');
  });

  it('a client that resets during an async authenticate does not crash the process', async () => {
    const { http, port } = await httpServer((_req, res) => res.end());
    let called = 0;
    const wss = new WebSocketServer({
      server: http,
      authenticate: async () => {
        called++;
        await delay(300);
        return { status: 403, body: 'no' };
      },
    });
    cleanups.push(() => wss.close());
    const client = connect({ port, host: '127.0.0.1' });
    await once(client, 'connect');
    client.write(
      'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    await delay(100);
    client.resetAndDestroy();
    await delay(400); // the hook answers to a reset socket; an unhandled 'error' would fail the run
    expect(called).toBe(1);
  });
});

describe('noServer with handleUpgrade', () => {
  it('the caller routes upgrades; the server completes them, with the handshake head', async () => {
    const wss = new WebSocketServer({ noServer: true });
    cleanups.push(() => wss.close());
    echo(wss);
    const upgrades: string[] = [];
    const { http, port } = await httpServer((_req, res) => res.end('plain'));
    http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      upgrades.push(request.url!);
      if (request.url !== '/chat') {
        socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
        return;
      }
      wss.handleUpgrade(request, socket, head, (ws, req) => wss.emit('connection', ws, req));
    });
    expect(wss.address()).toBeNull();
    expect(await roundTrip(`ws://127.0.0.1:${port}/chat`, 'routed ✓')).toBe('routed ✓');
    expect((await httpGet(`http://127.0.0.1:${port}/nope`)).status).toBe(404);
    // A frame in the same packet as the request arrives as `head`.
    const client = await RawClient.connect(port, { path: '/chat', after: clientFrame(OP.TEXT, 'in head') });
    await client.until(() => client.frames.length > 0);
    expect(client.frames[0].payload.toString()).toBe('in head');
    expect(wss.clients.size).toBe(1);
    client.socket.destroy();
    expect(upgrades).toEqual(['/chat', '/nope', '/chat']);
  });
});

describe('authenticate', () => {
  it('async: may reject with any status, body and headers; false gives 401; true accepts', async () => {
    const seen: string[] = [];
    const { port } = await standalone({
      authenticate: async (request) => {
        await delay(10);
        seen.push(request.url!);
        const auth = request.headers.authorization;
        if (auth === 'Bearer good') return true;
        if (auth === 'Bearer expired') {
          return { status: 419, body: 'token expired, log in again', headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' } };
        }
        return false;
      },
    });
    const upgrade = (authorization?: string) =>
      httpGet(`http://127.0.0.1:${port}/x?y=1`, {
        Upgrade: 'websocket',
        Connection: 'Upgrade',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
        'Sec-WebSocket-Version': '13',
        ...(authorization ? { Authorization: authorization } : {}),
      });
    const expired = await upgrade('Bearer expired');
    expect(expired.status).toBe(419);
    expect(expired.body).toBe('token expired, log in again\n');
    expect(expired.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    expect((await upgrade()).status).toBe(401);
    expect((await upgrade('Bearer good')).status).toBe(101);
    // The hook gets the request as node:http would give it.
    expect(seen).toEqual(['/x?y=1', '/x?y=1', '/x?y=1']);
  });

  it('a hook that throws gives 500 and a handshakeError event', async () => {
    const { wss, port } = await standalone({
      authenticate: () => {
        throw new Error('database down');
      },
    });
    const errors: Error[] = [];
    wss.on('handshakeError', (error: Error) => errors.push(error));
    expect((await httpGet(`http://127.0.0.1:${port}/`)).status).toBe(500);
    expect(errors.map((e) => e.message)).toEqual(['database down']);
  });
});

describe('origins', () => {
  it('an allowed Origin is accepted, another gets 403, none (a non-browser client) is accepted', async () => {
    const { port } = await standalone({ origins: ['https://app.example'] });
    const withOrigin = (origin?: string) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`, origin ? { origin } : {});
      return new Promise<number>((resolve) => {
        ws.once('open', () => {
          ws.terminate();
          resolve(101);
        });
        ws.once('unexpected-response', (_req, res) => {
          resolve(res.statusCode!);
          res.resume();
        });
        ws.once('error', () => {});
      });
    };
    expect(await withOrigin('https://app.example')).toBe(101);
    expect(await withOrigin('https://evil.example')).toBe(403);
    expect(await withOrigin()).toBe(101);
  });
});

describe('handleProtocols', () => {
  it('the chosen subprotocol is echoed in the handshake and set on both sides', async () => {
    const offers: string[][] = [];
    const { wss, url } = await standalone({
      handleProtocols: (offered) => {
        // ws's form: a Set, in the client's order.
        expect(offered).toBeInstanceOf(Set);
        offers.push([...offered]);
        return offered.has('chat.v2') ? 'chat.v2' : false;
      },
    });
    const serverSide = new Promise<string>((resolve) => wss.once('connection', (ws) => resolve(ws.protocol)));
    const ws = new WebSocket(url, ['chat.v1', 'chat.v2']);
    await once(ws, 'open');
    expect(ws.protocol).toBe('chat.v2');
    expect(await serverSide).toBe('chat.v2');
    expect(offers).toEqual([['chat.v1', 'chat.v2']]);
    ws.close();
    await once(ws, 'close');

    // Choosing none: no Sec-WebSocket-Protocol in the 101.
    const none = await httpGet(url.replace('ws:', 'http:'), {
      Upgrade: 'websocket',
      Connection: 'Upgrade',
      'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
      'Sec-WebSocket-Version': '13',
      'Sec-WebSocket-Protocol': 'other',
    });
    expect(none.status).toBe(101);
    expect(none.headers['sec-websocket-protocol']).toBeUndefined();
  });

  it('choosing a protocol the client did not offer gives 500', async () => {
    const { port } = await standalone({ handleProtocols: () => 'not-offered' });
    const response = await httpGet(`http://127.0.0.1:${port}/`, {
      Upgrade: 'websocket',
      Connection: 'Upgrade',
      'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
      'Sec-WebSocket-Version': '13',
      'Sec-WebSocket-Protocol': 'a, b',
    });
    expect(response.status).toBe(500);
  });
});
