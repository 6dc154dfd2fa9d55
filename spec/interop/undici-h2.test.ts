/**
 * undici's WebSocket over HTTP/2 (RFC 8441, issue #13): with an Agent that
 * allows h2, undici opens a wss:// WebSocket as an extended CONNECT stream.
 * It sends Sec-WebSocket-Key there too and checks the Accept it gets back,
 * which RFC 8441 §5 does not use: the server answers one to a client that
 * sent a key (docs/http2.md). After the closing handshake undici 7.30.2 does
 * not end its side of the stream: the server resets it after closeTimeout.
 */
import { once } from 'node:events';
import { Agent, WebSocket as UndiciWebSocket } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebSocketServer, WebSocket } from '../../src/server/index.js';
import { peers, skipWithout } from '../support/peers.js';
import { type TestCert, makeCert } from '../support/tls.js';
import { echo, listen } from '../runtime/support.js';

const skip = skipWithout(peers.openssl);

describe.skipIf(skip)('undici WebSocket over HTTP/2', () => {
  let cert: TestCert;
  let wss: WebSocketServer;
  let port: number;
  beforeAll(async () => {
    cert = makeCert();
    ({ wss, port } = await listen({ tls: { cert: cert.cert, key: cert.key }, http2: true, perMessageDeflate: true, closeTimeout: 1000 }));
    echo(wss);
  });
  afterAll(async () => {
    await wss?.close();
    cert?.remove();
  });

  it('opens on an h2 stream, negotiates permessage-deflate, echoes and closes cleanly', async () => {
    const dispatcher = new Agent({ allowH2: true, connect: { rejectUnauthorized: false } });
    const accepted = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
    const ws = new UndiciWebSocket(`wss://127.0.0.1:${port}/`, { dispatcher });
    await new Promise((resolve, reject) => {
      ws.addEventListener('open', resolve, { once: true });
      ws.addEventListener('error', () => reject(new Error('undici failed the handshake')), { once: true });
    });
    const server = await accepted;
    expect(server.transport).toBe('h2');
    expect(ws.extensions).toBe('permessage-deflate');
    const closed = once(server, 'close');
    const reply = new Promise<string>((resolve) => ws.addEventListener('message', (event) => resolve(String(event.data)), { once: true }));
    ws.send('hello from undici over h2');
    expect(await reply).toBe('hello from undici over h2');
    const started = Date.now();
    ws.close(1000, 'done');
    expect(await closed).toEqual([1000, 'done']);
    // Bounded by closeTimeout (1 s), not 10 s.
    expect(Date.now() - started).toBeLessThan(5_000);
    await dispatcher.close();
  });
});
