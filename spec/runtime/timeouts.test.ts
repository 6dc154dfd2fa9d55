/**
 * Timers of the runtime (issue #3): a slowloris handshake is answered 408 and
 * closed after `handshakeTimeout`; a peer that ignores our close frame is
 * destroyed after `closeTimeout`; a peer that stops answering pings is
 * terminated by the heartbeat. Timeouts are small and bounds generous: the
 * assertions are about what happens, not about milliseconds.
 */
import { connect } from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { WebSocketServer, WebSocket as ServerSocket } from '../../src/server/index.js';
import { OP, RawClient, clientClose, delay, listen, upgradeRequest, waitFor } from './support.js';

const servers: WebSocketServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((wss) => wss.close()));
});

async function start(options: Parameters<typeof listen>[0]) {
  const server = await listen(options);
  servers.push(server.wss);
  return server;
}

/** The next 'connection', with what its 'error' and 'close' events report. */
function nextConnection(wss: WebSocketServer) {
  return new Promise<{ ws: ServerSocket; errors: Array<Error & { code?: string }>; closed: Promise<[number, string]> }>(
    (resolve) => {
      wss.once('connection', (ws: ServerSocket) => {
        const errors: Array<Error & { code?: string }> = [];
        ws.on('error', (error: Error) => errors.push(error));
        // Not events.once: it would reject on 'error'.
        const closed = new Promise<[number, string]>((done) => ws.once('close', (code, reason) => done([code, reason])));
        resolve({ ws, errors, closed });
      });
    },
  );
}

describe('handshakeTimeout: a slowloris handshake', () => {
  it('gets 408 and is closed after handshakeTimeout, and is never upgraded', async () => {
    const { wss, port } = await start({ handshakeTimeout: 300, closeTimeout: 300 });
    const connections: unknown[] = [];
    wss.on('connection', (ws) => connections.push(ws));
    const handshakeErrors: Error[] = [];
    wss.on('handshakeError', (error: Error) => handshakeErrors.push(error));

    // An attacker that trickles the head a byte at a time and keeps its side open.
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    await once(socket, 'connect');
    const started = Date.now();
    let response = '';
    let ended = 0;
    let closed = 0;
    socket.setEncoding('latin1').on('data', (s: string) => (response += s));
    socket.on('end', () => (ended = Date.now() - started));
    socket.on('close', () => (closed = Date.now() - started));
    socket.on('error', () => {});
    const request = upgradeRequest('/');
    let sent = 0;
    const trickle = setInterval(() => {
      if (!socket.destroyed) socket.write(sent < request.length ? request[sent++] : 'x');
    }, 10);
    try {
      await waitFor(() => ended > 0, 5_000, 'the server to end the connection');
      expect(response).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
      expect(response).toContain('\r\nConnection: close\r\n');
      // Answered at the timeout (300 ms), not before, and well before the default 10 s.
      expect(ended).toBeGreaterThanOrEqual(250);
      expect(ended).toBeLessThan(3_000);
      expect(handshakeErrors.map((e) => e.message)).toEqual(['handshake timed out']);

      // The rest of a valid request arrives after the 408: it must not be read as a handshake.
      socket.write(request.slice(sent));
      sent = request.length;
      // We keep sending: once the server has destroyed its socket (closeTimeout
      // after the 408, as our side stays open) our next write meets a reset.
      await waitFor(() => closed > 0, 5_000, 'the server to destroy the socket');
      expect(connections).toEqual([]);
      expect(wss.clients.size).toBe(0);
    } finally {
      clearInterval(trickle);
      socket.destroy();
    }
  });

  it('a handshake completed in time is not affected', async () => {
    const { wss, port } = await start({ handshakeTimeout: 300 });
    const connected = nextConnection(wss);
    const client = await RawClient.connect(port);
    const { ws } = await connected;
    await delay(500); // past handshakeTimeout
    expect(ws.readyState).toBe(1);
    expect(client.closed).toBe(false);
    client.socket.destroy();
  });

  it('an authenticate hook slower than handshakeTimeout: 408, and no connection afterwards', async () => {
    const { wss, port } = await start({
      handshakeTimeout: 200,
      // Longer than the hook: the refused socket is still there when it answers.
      closeTimeout: 2_000,
      authenticate: () => delay(600).then(() => true),
    });
    const connections: unknown[] = [];
    wss.on('connection', (ws) => connections.push(ws));
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    let response = '';
    socket.setEncoding('latin1').on('data', (s: string) => (response += s));
    socket.on('error', () => {});
    socket.write(upgradeRequest('/'));
    await waitFor(() => response !== '', 5_000, 'a response');
    expect(response).toMatch(/^HTTP\/1\.1 408 /);
    await delay(700); // the hook has resolved by now
    expect(connections).toEqual([]);
    expect(response).not.toContain('101 Switching Protocols');
    socket.destroy();
  });
});

describe('closeTimeout: a peer that ignores our close frame', () => {
  it('is destroyed after closeTimeout; close reports 1006', async () => {
    const { wss, port } = await start({ closeTimeout: 300 });
    const connected = nextConnection(wss);
    const client = await RawClient.connect(port);
    const { ws, closed } = await connected;
    const started = Date.now();
    ws.close(4000, 'bye');
    expect(ws.readyState).toBe(2); // CLOSING
    expect(await client.closeFrame()).toEqual({ code: 4000, reason: 'bye' });
    // The client neither answers nor closes its side.
    const [code, reason] = await closed;
    const elapsed = Date.now() - started;
    expect(code).toBe(1006);
    expect(reason).toBe('');
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(5_000);
    expect(ws.readyState).toBe(3); // CLOSED
    await client.socketClosed();
  });

  it('a peer that answers is closed cleanly well before closeTimeout', async () => {
    const { wss, port } = await start({ closeTimeout: 5_000 });
    const connected = nextConnection(wss);
    const client = await RawClient.connect(port);
    const { ws, closed } = await connected;
    const started = Date.now();
    ws.close(4000, 'bye');
    await client.closeFrame();
    client.send(clientClose(4000, 'bye'));
    expect(await closed).toEqual([4000, 'bye']);
    expect(Date.now() - started).toBeLessThan(4_000);
    // RFC 6455 §7.1.1: the server closes the TCP connection first.
    await client.socketClosed();
  });
});

describe('heartbeat: a peer that stops answering pings', () => {
  it('is terminated with HEARTBEAT_TIMEOUT, while a peer that answers stays', async () => {
    const { wss, port, url } = await start({ heartbeat: { interval: 200, timeout: 200 } });

    // A live peer: the ws client answers pings by itself.
    const liveConnected = nextConnection(wss);
    const live = new WebSocket(url);
    await once(live, 'open');
    const liveServer = await liveConnected;

    // A silent peer: completes the handshake, then never sends a byte.
    const silentConnected = nextConnection(wss);
    const silent = await RawClient.connect(port);
    const { ws, errors, closed } = await silentConnected;
    const started = Date.now();

    const [code] = await closed;
    const elapsed = Date.now() - started;
    expect(code).toBe(1006);
    expect(errors.map((e) => e.code)).toEqual(['HEARTBEAT_TIMEOUT']);
    // At least one ping went out before it was dropped, and it took interval + timeout or so.
    expect(silent.frames.some((f) => f.opcode === OP.PING)).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(150);
    expect(elapsed).toBeLessThan(5_000);
    await silent.socketClosed();
    expect(ws.readyState).toBe(3);

    // The live peer has been pinged several times by now and is still open.
    await delay(600);
    expect(live.readyState).toBe(WebSocket.OPEN);
    expect(liveServer.ws.readyState).toBe(1);
    expect(liveServer.errors).toEqual([]);
    expect(wss.clients.size).toBe(1);
    live.close();
    await once(live, 'close');
  });

  it('with a timeout longer than the interval, live peers stay and a silent one still goes', async () => {
    // A 1 ms interval makes every round's check meet a fresh ping.
    const { wss, port, url } = await start({ heartbeat: { interval: 1, timeout: 100 } });
    const errors: string[] = [];
    wss.on('connection', (ws) => ws.on('error', (error: Error & { code?: string }) => errors.push(error.code!)));
    const live = await Promise.all(
      Array.from({ length: 3 }, async () => {
        const ws = new WebSocket(url);
        await once(ws, 'open');
        return ws;
      }),
    );
    const silent = await RawClient.connect(port);
    await silent.socketClosed(5_000);
    await delay(700); // several more rounds
    expect(live.map((ws) => ws.readyState)).toEqual([WebSocket.OPEN, WebSocket.OPEN, WebSocket.OPEN]);
    expect(errors).toEqual(['HEARTBEAT_TIMEOUT']);
    for (const ws of live) ws.close();
  });

  it('heartbeat: false sends no pings', async () => {
    const { port } = await start({ heartbeat: false });
    const client = await RawClient.connect(port);
    await delay(400);
    expect(client.frames).toEqual([]);
    expect(client.closed).toBe(false);
    client.socket.destroy();
  });
});
