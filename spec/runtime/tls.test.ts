/**
 * wss:// in the library (issue #13): the standalone server's `tls` option,
 * attaching to an https.Server, and the options that are refused.
 */
import { once } from 'node:events';
import { createServer as createHttpsServer, get as httpsGet } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { WebSocketServer } from '../../src/server/index.js';
import { peers, skipWithout } from '../support/peers.js';
import { type TestCert, makeCert, wssEcho } from '../support/tls.js';
import { echo, listen } from './support.js';

const skip = skipWithout(peers.openssl);
let cert: TestCert;
beforeAll(() => {
  if (!skip) cert = makeCert();
});
afterAll(() => cert?.remove());

describe.skipIf(skip)('the standalone server with `tls`', () => {
  it('serves wss:// (HTTP/1.1 only without `http2`) and the page over https', async () => {
    const { wss, port } = await listen({
      tls: { cert: cert.cert, key: cert.key },
      handleRequest: () => ({ status: 200, body: 'page' }),
    });
    echo(wss);
    try {
      const accepted = new Promise<{ transport: string }>((resolve) => wss.once('connection', resolve));
      expect(await wssEcho(`wss://127.0.0.1:${port}/`, 'secure')).toBe('secure');
      expect((await accepted).transport).toBe('http/1.1');
      const page = await new Promise<string>((resolve, reject) =>
        httpsGet(`https://127.0.0.1:${port}/`, { rejectUnauthorized: false }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (s: string) => (body += s));
          res.on('end', () => resolve(body));
        }).on('error', reject),
      );
      expect(page).toBe('page');
      // Plain ws:// to that port gets no handshake: TLS is really on.
      const plain = new WebSocket(`ws://127.0.0.1:${port}/`);
      const failed = new Promise<Error>((resolve) => plain.once('error', resolve));
      expect((await failed).message).toMatch(/socket hang up|Unexpected server response/);
    } finally {
      await wss.close();
    }
  });

  it('a wrong key is refused at construction, with OpenSSL’s reason', () => {
    const other = makeCert();
    try {
      expect(() => new WebSocketServer({ port: 0, tls: { cert: cert.cert, key: other.key } })).toThrow(/key values mismatch/);
    } finally {
      other.remove();
    }
  });
});

describe('options that are refused', () => {
  it('tls and http2 belong to the standalone server', () => {
    expect(() => new WebSocketServer({ noServer: true, tls: {} })).toThrow(/standalone server/);
    expect(() => new WebSocketServer({ noServer: true, http2: true })).toThrow(/standalone server/);
    expect(() => new WebSocketServer({ port: 0, http2: 'yes' as never })).toThrow(/http2 must be a boolean, got string/);
  });

  it('ALPN is the server’s own', () => {
    expect(() => new WebSocketServer({ port: 0, tls: { ALPNProtocols: ['h2'] } as object })).toThrow(/ALPN/);
    expect(() => new WebSocketServer({ port: 0, tls: 'cert' as never })).toThrow(/tls must be an object, got string/);
  });
});

describe.skipIf(skip)('attached to an https.Server', () => {
  it('upgrades wss:// requests; the https server still answers its own requests', async () => {
    const server = createHttpsServer({ cert: cert.cert, key: cert.key }, (_req, res) => res.end('from https'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const wss = new WebSocketServer({ server, path: '/ws' });
    echo(wss);
    try {
      const { port } = server.address() as AddressInfo;
      expect(await wssEcho(`wss://127.0.0.1:${port}/ws`, 'attached')).toBe('attached');
    } finally {
      await wss.close();
      server.close();
    }
  });
});
