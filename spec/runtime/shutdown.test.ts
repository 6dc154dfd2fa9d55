/**
 * Graceful shutdown (issue #3): wss.close() stops accepting, sends 1001 to
 * every client, waits for their closing handshakes up to closeTimeout,
 * destroys the rest, and resolves. The CLI does the same on SIGTERM.
 */
import { once } from 'node:events';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { WebSocket as UndiciWebSocket } from 'undici';
import WebSocket from 'ws';
import { startCli } from '../support/cli.js';
import { WebSocketServer } from '../../src/server/index.js';
import { RawClient, delay, echo, listen } from './support.js';

function wsClosed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

describe('graceful shutdown', () => {
  it('wss.close() delivers 1001 to every client, destroys a peer that does not answer, and resolves', async () => {
    const { wss, port, url } = await listen({ closeTimeout: 500 });
    echo(wss);
    const serverCloses: number[] = [];
    wss.on('connection', (ws) => ws.on('close', (code: number) => serverCloses.push(code)));

    const wsClients = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const ws = new WebSocket(url);
        await once(ws, 'open');
        return ws;
      }),
    );
    const undici = new UndiciWebSocket(url);
    await new Promise((resolve) => undici.addEventListener('open', resolve, { once: true }));
    // A peer that receives our close frame and never answers it.
    const deaf = await RawClient.connect(port);
    expect(wss.clients.size).toBe(6);

    const seen = [
      ...wsClients.map(wsClosed),
      new Promise<{ code: number; reason: string }>((resolve) =>
        undici.addEventListener('close', (e) => resolve({ code: e.code, reason: e.reason }), { once: true }),
      ),
    ];
    let closeEvent = false;
    wss.once('close', () => (closeEvent = true));
    const started = Date.now();
    await wss.close();
    const elapsed = Date.now() - started;

    for (const close of await Promise.all(seen)) expect(close).toEqual({ code: 1001, reason: 'server shutting down' });
    expect(await deaf.closeFrame()).toEqual({ code: 1001, reason: 'server shutting down' });
    await deaf.socketClosed();
    expect(closeEvent).toBe(true);
    expect(wss.clients.size).toBe(0);
    // Five answered at once; the deaf one was destroyed after closeTimeout (500 ms).
    expect(serverCloses.sort()).toEqual([1001, 1001, 1001, 1001, 1001, 1006]);
    expect(elapsed).toBeGreaterThanOrEqual(400);
    expect(elapsed).toBeLessThan(5_000);

    // It no longer accepts.
    const refused = connect({ port, host: '127.0.0.1' });
    const [error] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
    expect(error.code).toBe('ECONNREFUSED');
    // Closing twice is the same promise.
    await wss.close();
  });

  it('with no clients, wss.close() resolves at once', async () => {
    const { wss } = await listen();
    const started = Date.now();
    await wss.close();
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("wss.close() before 'listening' still stops the server", async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await wss.close();
    await delay(200);
    expect(wss.address()).toBeNull(); // it did not go on to listen
  });

  it('strictws echo on SIGTERM sends 1001 to every client and exits 0', async () => {
    const server = await startCli('echo');
    const clients = await Promise.all(
      Array.from({ length: 3 }, async () => {
        const ws = new WebSocket(server.url);
        await once(ws, 'open');
        return ws;
      }),
    );
    const closes = Promise.all(clients.map(wsClosed));
    expect(await server.stop('SIGTERM')).toBe(0);
    for (const close of await closes) expect(close).toEqual({ code: 1001, reason: 'server shutting down' });
    expect(server.log()).toContain('SIGTERM: closing 3 connection(s)');
  });
});
