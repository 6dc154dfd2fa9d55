/**
 * WebSockets over HTTP/2 (RFC 8441, issue #13) on a standalone server with
 * `tls` and `http2`: ALPN h2 and http/1.1 on one port, each WebSocket one
 * stream running the same WebSocket class, driven by the node:http2 client
 * of spec/support/h2.ts.
 */
import { once } from 'node:events';
import type { ClientHttp2Session } from 'node:http2';
import { constants } from 'node:http2';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ServerOptions, WebSocketServer, WebSocket as ServerSocket } from '../../src/server/index.js';
import { bodyOf, extendedConnect, h2Session, h2WebSocket } from '../support/h2.js';
import { peers, skipWithout } from '../support/peers.js';
import { type TestCert, makeCert } from '../support/tls.js';
import { OP, clientClose, clientFrame, closeOf, echo, listen, waitFor } from './support.js';

const skip = skipWithout(peers.openssl);
let cert: TestCert;
beforeAll(() => {
  if (!skip) cert = makeCert();
});
afterAll(() => cert?.remove());

const servers: WebSocketServer[] = [];
const sessions: ClientHttp2Session[] = [];
// The server shuts down first: it resets what is left after closeTimeout, then
// the sessions close. Node 20's client spins if it closes a stream after the
// server reset another one on the same session (docs/http2.md), so it doesn't.
afterEach(async () => {
  await Promise.all(servers.splice(0).map((wss) => wss.close()));
  for (const session of sessions.splice(0)) session.destroy();
});

/** A TLS server offering h2 and http/1.1, echoing; and an h2 session to it. */
async function start(options: Omit<ServerOptions, 'port'> = {}) {
  const server = await listen({ tls: { cert: cert.cert, key: cert.key }, http2: true, closeTimeout: 300, ...options });
  servers.push(server.wss);
  echo(server.wss);
  const origin = `https://127.0.0.1:${server.port}`;
  const session = await h2Session(origin);
  sessions.push(session);
  return { ...server, origin, session };
}

function nextConnection(wss: WebSocketServer): Promise<ServerSocket> {
  return new Promise((resolve) => wss.once('connection', resolve));
}

const text = (s: string) => clientFrame(OP.TEXT, s);
const WS_OPEN = 1;

describe.skipIf(skip)('RFC 8441 over TLS: extended CONNECT on an h2 connection', () => {
  it('ALPN offers h2 and http/1.1 on one port', async () => {
    const { port } = await start();
    for (const offer of [['h2', 'http/1.1'], ['http/1.1']]) {
      const socket = tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false, ALPNProtocols: offer });
      await once(socket, 'secureConnect');
      expect(socket.alpnProtocol).toBe(offer[0]);
      socket.destroy();
    }
  });

  it('the server sends SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 8441 §3)', async () => {
    const { session } = await start();
    expect(session.remoteSettings.enableConnectProtocol).toBe(true);
  });

  it('a 200 opens the WebSocket, without Sec-WebSocket-Accept; it echoes, and says it is on h2', async () => {
    const { wss, session } = await start();
    const accepted = nextConnection(wss);
    const client = await h2WebSocket(session, '/chat?room=1');
    const ws = await accepted;
    expect(client.headers[':status']).toBe(200);
    expect(client.headers['sec-websocket-accept']).toBeUndefined();
    expect(ws.transport).toBe('h2');
    expect(ws.remoteAddress).toBe('127.0.0.1');
    client.send(text('hello over h2'));
    await client.until(() => client.frames.length === 1);
    expect(client.frames[0].payload.toString()).toBe('hello over h2');
  });

  it('the same port still takes an RFC 6455 upgrade over TLS (http/1.1 by ALPN)', async () => {
    const { wss, port } = await start();
    const accepted = nextConnection(wss);
    const ws = new WebSocket(`wss://127.0.0.1:${port}/`, { rejectUnauthorized: false });
    await once(ws, 'open');
    expect((await accepted).transport).toBe('http/1.1');
    ws.send('over 1.1');
    const [data] = await once(ws, 'message');
    expect(String(data)).toBe('over 1.1');
    ws.close();
  });

  it('a message larger than the stream and connection windows goes both ways', async () => {
    const { session } = await start();
    const client = await h2WebSocket(session);
    // Default windows are 65,535 bytes: 1 MiB needs many WINDOW_UPDATEs each way.
    const big = Buffer.alloc(1024 * 1024, 'x');
    client.send(clientFrame(OP.BINARY, big));
    await client.until(() => client.frames.length === 1, 20_000);
    expect(client.frames[0].payload.equals(big)).toBe(true);
  });

  it('100 WebSockets on one connection, each its own stream, echo independently', async () => {
    const { wss, session } = await start();
    const clients = await Promise.all(Array.from({ length: 100 }, (_, i) => h2WebSocket(session, `/n/${i}`)));
    expect(wss.clients.size).toBe(100);
    expect([...wss.clients].every((ws) => ws.transport === 'h2')).toBe(true);
    clients.forEach((client, i) => client.send(text(`#${i}`)));
    await Promise.all(clients.map((client) => client.until(() => client.frames.length === 1)));
    expect(clients.map((client) => client.frames[0].payload.toString())).toEqual(clients.map((_, i) => `#${i}`));
  });

  it('the closing handshake ends the stream with END_STREAM, and the connection stays', async () => {
    const { wss, session } = await start();
    const accepted = nextConnection(wss);
    const client = await h2WebSocket(session);
    const ws = await accepted;
    const closed = once(ws, 'close');
    client.send(clientClose(1000, 'bye'));
    await client.until(() => client.frames.some((f) => f.opcode === OP.CLOSE));
    expect(closeOf(client.frames.at(-1)!)).toEqual({ code: 1000, reason: 'bye' });
    // The server's END_STREAM: the stream's readable side ends (a reset would not).
    await once(client.socket, 'end');
    client.socket.end();
    expect(await closed).toEqual([1000, 'bye']);
    expect(client.socket.rstCode).toBe(constants.NGHTTP2_NO_ERROR);
    expect(session.closed || session.destroyed).toBe(false);
    const again = await h2WebSocket(session);
    again.send(text('still here'));
    await again.until(() => again.frames.length === 1);
  });

  it('an unmasked frame fails the WebSocket with 1002 (RFC 6455 §5.1), on its stream only', async () => {
    const { wss, session } = await start();
    const accepted = nextConnection(wss);
    const bad = await h2WebSocket(session);
    const ws = await accepted;
    const errors: Array<Error & { code?: string }> = [];
    ws.on('error', (error: Error) => errors.push(error));
    const good = await h2WebSocket(session);
    bad.send(Buffer.from([0x81, 0x02, 0x68, 0x69]));
    expect(await bad.closeFrame()).toEqual({ code: 1002, reason: '' });
    expect(errors[0]?.code).toBe('UNMASKED_FRAME');
    good.send(text('unharmed'));
    await good.until(() => good.frames.length === 1);
    expect(good.frames[0].payload.toString()).toBe('unharmed');
  });

  it('a stream reset by the client closes that WebSocket (1006) and leaves the others unharmed', async () => {
    const { wss, session } = await start();
    const accepted = nextConnection(wss);
    const reset = await h2WebSocket(session);
    const ws = await accepted;
    const others = await Promise.all([h2WebSocket(session), h2WebSocket(session)]);
    const closed = once(ws, 'close');
    reset.socket.close(constants.NGHTTP2_CANCEL);
    expect((await closed)[0]).toBe(1006);
    expect(wss.clients.size).toBe(2);
    for (const other of others) other.send(text('fine'));
    await Promise.all(others.map((other) => other.until(() => other.frames.length === 1)));
  });

  it('terminate() resets only its stream, with RST_STREAM CANCEL', async () => {
    const { wss, session } = await start();
    const accepted = nextConnection(wss);
    const client = await h2WebSocket(session);
    const other = await h2WebSocket(session);
    (await accepted).terminate();
    await client.socketClosed();
    expect(client.socket.rstCode).toBe(constants.NGHTTP2_CANCEL);
    other.send(text('alive'));
    await other.until(() => other.frames.length === 1);
  });
});

describe.skipIf(skip)('RFC 8441 §5: the handshake keeps RFC 6455 negotiation and the server hooks', () => {
  it('subprotocol (handleProtocols gets the request) and permessage-deflate are negotiated as over HTTP/1.1', async () => {
    let seen: { offered: readonly string[]; url?: string; host?: string } | undefined;
    const { wss, session } = await start({
      perMessageDeflate: true,
      handleProtocols: (offered, request) => {
        seen = { offered: [...offered], url: request.url, host: request.headers.host };
        return [...offered][1];
      },
    });
    const accepted = nextConnection(wss);
    const client = await h2WebSocket(session, '/p', {
      'sec-websocket-protocol': 'one, two',
      'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits',
    });
    const ws = await accepted;
    expect(client.headers['sec-websocket-protocol']).toBe('two');
    expect(client.headers['sec-websocket-extensions']).toBe('permessage-deflate');
    expect([ws.protocol, ws.extensions]).toEqual(['two', 'permessage-deflate']);
    expect(seen?.offered).toEqual(['one', 'two']);
    expect(seen?.url).toBe('/p');
    expect(seen?.host).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('authenticate: false gives 401, a status of its own is sent, and an accepted one gets 200', async () => {
    const { session } = await start({
      authenticate: (request) => {
        if (request.headers.authorization === 'Bearer ok') return true;
        if (request.headers.authorization === 'Bearer teapot') return { status: 418, headers: { 'X-Why': 'tea' } };
        return false;
      },
    });
    expect((await extendedConnect(session)).status).toBe(401);
    const teapot = await extendedConnect(session, '/', { authorization: 'Bearer teapot' });
    expect([teapot.status, teapot.headers['x-why']]).toEqual([418, 'tea']);
    expect((await extendedConnect(session, '/', { authorization: 'Bearer ok' })).status).toBe(200);
  });

  it('an async authenticate that never answers gets 408 after handshakeTimeout', async () => {
    const { session } = await start({
      handshakeTimeout: 200,
      authenticate: (request) => (request.url === '/slow' ? new Promise<boolean>(() => {}) : true),
    });
    expect((await extendedConnect(session, '/slow')).status).toBe(408);
    expect((await extendedConnect(session)).status).toBe(200);
  });

  it('origins: another Origin gets 403', async () => {
    const { session } = await start({ origins: ['https://good.example'] });
    expect((await extendedConnect(session, '/', { origin: 'https://evil.example' })).status).toBe(403);
    expect((await extendedConnect(session, '/', { origin: 'https://good.example' })).status).toBe(200);
  });

  it('path: another path gets 404', async () => {
    const { session } = await start({ path: '/ws' });
    const { stream, status } = await extendedConnect(session, '/other');
    expect(status).toBe(404);
    expect(await bodyOf(stream)).toMatch(/no WebSocket endpoint at \/other/);
    expect((await extendedConnect(session, '/ws?x=1')).status).toBe(200);
  });

  it('a wrong sec-websocket-version gets 426 naming 13', async () => {
    const { session } = await start();
    const { status, headers } = await extendedConnect(session, '/', { 'sec-websocket-version': '8' });
    expect([status, headers['sec-websocket-version']]).toEqual([426, '13']);
    expect((await extendedConnect(session, '/', { 'sec-websocket-version': undefined })).status).toBe(426);
    expect((await extendedConnect(session)).status).toBe(200);
  });

  it('a :protocol other than websocket gets 400', async () => {
    const { session } = await start();
    expect((await extendedConnect(session, '/', { ':protocol': 'webtransport' })).status).toBe(400);
    expect((await extendedConnect(session)).status).toBe(200);
  });

  it('a malformed Sec-WebSocket-Protocol or -Extensions gets 400', async () => {
    const { session } = await start();
    expect((await extendedConnect(session, '/', { 'sec-websocket-protocol': 'a b' })).status).toBe(400);
    expect((await extendedConnect(session, '/', { 'sec-websocket-extensions': ';;' })).status).toBe(400);
    expect((await extendedConnect(session)).status).toBe(200);
  });

  it('a GET over h2 goes to handleRequest (the page), or gets 405 naming CONNECT', async () => {
    const { session: bare } = await start();
    const plain = bare.request({ ':path': '/' });
    const [response] = await once(plain, 'response');
    expect([response[':status'], response.allow]).toEqual([405, 'CONNECT']);
    plain.resume();

    const { session } = await start({ handleRequest: () => ({ status: 200, headers: { 'Content-Type': 'text/html', Connection: 'close' }, body: '<p>hi</p>' }) });
    const page = session.request({ ':path': '/' });
    const [pageResponse] = await once(page, 'response');
    expect([pageResponse[':status'], pageResponse['content-type']]).toEqual([200, 'text/html']);
    expect(await bodyOf(page)).toBe('<p>hi</p>');
  });
});

describe.skipIf(skip)('the HTTP/1.1 handshake steps, on an h2 stream', () => {
  it('maxConnections counts h2 WebSockets and HTTP/1.1 ones together: 503 with Retry-After on either', async () => {
    const { wss, port, session } = await start({ maxConnections: 2 });
    const first = await h2WebSocket(session);
    const second = await h2WebSocket(session);
    expect(wss.connectionCount).toBe(2);
    const refused = await extendedConnect(session);
    expect([refused.status, refused.headers['retry-after']]).toEqual([503, '5']);
    const overHttp1 = new WebSocket(`wss://127.0.0.1:${port}/`, { rejectUnauthorized: false });
    const [, response] = await once(overHttp1, 'unexpected-response');
    expect(response.statusCode).toBe(503);
    overHttp1.on('error', () => {});
    first.socket.close(constants.NGHTTP2_CANCEL);
    await waitFor(() => wss.connectionCount === 1, 10_000, 'the reset WebSocket to leave the count');
    expect((await extendedConnect(session)).status).toBe(200);
    second.socket.close(constants.NGHTTP2_CANCEL);
  });

  it("a hook that throws gets 500 on its stream; 'headers' is HTTP/1.1's and is not emitted for an h2 WebSocket", async () => {
    const headers: string[][] = [];
    const { wss, port, session } = await start({
      handleProtocols: (offered) => {
        if (offered.has('bad')) throw new Error('no');
        return false;
      },
    });
    wss.on('headers', (lines: string[]) => headers.push(lines));
    const errors: unknown[] = [];
    wss.on('handshakeError', (error) => errors.push(error));
    expect((await extendedConnect(session, '/', { 'sec-websocket-protocol': 'bad' })).status).toBe(500);
    expect(errors).toEqual([new Error('no')]);
    await h2WebSocket(session);
    expect(headers).toEqual([]);
    const ws = new WebSocket(`wss://127.0.0.1:${port}/`, { rejectUnauthorized: false });
    await once(ws, 'open');
    expect(headers[0]?.[0]).toBe('HTTP/1.1 101 Switching Protocols');
    ws.close();
  });
});

describe.skipIf(skip)('h2 WebSockets and the runtime: backpressure, heartbeat, shutdown', () => {
  it('a client that stops reading: flow control fills the queue, send() returns false, then 1008 past maxBufferedAmount', async () => {
    const { wss, session } = await start({ highWaterMark: 64 * 1024, maxBufferedAmount: 1024 * 1024 });
    const accepted = nextConnection(wss);
    const client = await h2WebSocket(session);
    const ws = await accepted;
    client.socket.pause();
    const errors: Array<Error & { code?: string }> = [];
    ws.on('error', (error: Error) => errors.push(error));
    const chunk = Buffer.alloc(16 * 1024, 1);
    let first = -1;
    for (let i = 0; i < 200 && ws.readyState === WS_OPEN; i++) {
      if (!ws.send(chunk) && first < 0) first = i;
      await new Promise((resolve) => setImmediate(resolve));
    }
    // The stream window (64 KiB) and our highWaterMark: false well before 1 MiB is queued.
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThan(64);
    await waitFor(() => errors.length > 0);
    expect(errors[0].code).toBe('SEND_BUFFER_LIMIT');
  });

  it('send() over the high-water mark returns false and a drain follows once the client reads', async () => {
    const { wss, session } = await start({ highWaterMark: 64 * 1024 });
    const accepted = nextConnection(wss);
    const client = await h2WebSocket(session);
    const ws = await accepted;
    client.socket.pause();
    expect(ws.send(Buffer.alloc(256 * 1024))).toBe(false);
    const drained = once(ws, 'drain');
    client.socket.resume();
    await drained;
    expect(ws.bufferedAmount).toBeLessThan(64 * 1024);
  });

  it('heartbeat: a silent h2 client is reset, the others on its connection stay', async () => {
    const { wss, session } = await start({ heartbeat: { interval: 200, timeout: 200 } });
    const accepted = nextConnection(wss);
    const silent = await h2WebSocket(session);
    await accepted;
    const lively = await h2WebSocket(session);
    // The lively one answers every ping, as a real client would.
    const answered = new Set<number>();
    const answer = setInterval(() => {
      lively.frames.forEach((f, i) => {
        if (f.opcode === OP.PING && !answered.has(i)) {
          answered.add(i);
          lively.send(clientFrame(OP.PONG, f.payload));
        }
      });
    }, 20);
    try {
      await silent.socketClosed();
      expect(silent.socket.rstCode).toBe(constants.NGHTTP2_CANCEL);
      expect(lively.closed).toBe(false);
      expect(wss.clients.size).toBe(1);
    } finally {
      clearInterval(answer);
    }
  });

  it('a connection with no stream gets GOAWAY after handshakeTimeout; one with an idle WebSocket stays', async () => {
    const { wss, origin, session: idle } = await start({ handshakeTimeout: 300, heartbeat: false });
    const busy = await h2Session(origin);
    sessions.push(busy);
    const client = await h2WebSocket(busy);
    await once(idle, 'goaway');
    await once(idle, 'close');
    // Past the timeout again with no traffic: the WebSocket's connection is still there.
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(busy.closed || busy.destroyed).toBe(false);
    expect(client.closed).toBe(false);
    expect(wss.clients.size).toBe(1);
  });

  it('graceful shutdown: 1001 on every h2 WebSocket, then GOAWAY, and close() resolves', async () => {
    const { wss, session } = await start({ closeTimeout: 2_000 });
    servers.splice(servers.indexOf(wss), 1);
    const clients = await Promise.all([h2WebSocket(session), h2WebSocket(session)]);
    const goaway = once(session, 'goaway');
    const closing = wss.close();
    for (const client of clients) {
      expect(await client.closeFrame()).toEqual({ code: 1001, reason: 'server shutting down' });
      client.send(clientClose(1001));
      client.socket.end();
    }
    await goaway;
    await closing;
    expect(wss.clients.size).toBe(0);
  });
});
