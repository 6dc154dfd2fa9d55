/**
 * Chromium and RFC 8441 (issue #13): a page loaded over HTTPS on HTTP/2 from
 * a server with a self-signed certificate made here (trusted by its SPKI
 * hash, nothing else ignored) opens a wss:// WebSocket; Chromium carries it
 * as an extended CONNECT stream on the page's connection, and it echoes.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from '../../src/server/index.js';
import { LAUNCH_ARGS } from '../support/browser.js';
import { CHROMIUM, peers, skipWithout } from '../support/peers.js';
import { type TestCert, makeCert } from '../support/tls.js';

const skip = skipWithout(peers.chromium) || skipWithout(peers.openssl);

describe.skipIf(skip)('Chromium: wss:// over HTTP/2 (RFC 8441)', () => {
  let cert: TestCert;
  let browser: Browser;
  let wss: WebSocketServer;
  let origin: string;
  const pageVersions: string[] = [];

  beforeAll(async () => {
    cert = makeCert();
    wss = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      path: '/ws',
      tls: { cert: cert.cert, key: cert.key },
      http2: true,
      handleRequest: (request) => {
        pageVersions.push(request.httpVersion);
        return { status: 200, headers: { 'Content-Type': 'text/html; charset=utf-8' }, body: '<!doctype html><title>h2</title>' };
      },
    });
    await once(wss, 'listening');
    origin = `https://127.0.0.1:${(wss.address() as AddressInfo).port}`;
    wss.on('connection', (ws: WebSocket) => ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary })));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [...LAUNCH_ARGS, `--ignore-certificate-errors-spki-list=${cert.spki}`],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await wss?.close();
    cert?.remove();
  });

  it('the page comes over h2, and its WebSocket goes over an extended CONNECT stream and echoes', async () => {
    const page = await (await browser.newContext()).newPage();
    const response = await page.goto(`${origin}/`);
    expect(response?.status()).toBe(200);
    expect(pageVersions).toContain('2.0');
    const accepted = new Promise<{ ws: WebSocket; closed: Promise<number> }>((resolve) =>
      wss.once('connection', (ws: WebSocket) => resolve({ ws, closed: new Promise((done) => ws.once('close', done)) })),
    );
    const url = `${origin.replace('https', 'wss')}/ws`;
    // A string, as in chromium.test.ts: nothing of ours is compiled into the page.
    const echoed = await page.evaluate(`new Promise((resolve, reject) => {
      const ws = new WebSocket(${JSON.stringify(url)});
      ws.onopen = () => ws.send('hello from Chromium over h2');
      ws.onmessage = (event) => { resolve(String(event.data)); ws.close(1000); };
      ws.onclose = (event) => reject(new Error('closed ' + event.code + ' before the echo'));
    })`);
    expect(echoed).toBe('hello from Chromium over h2');
    const { ws, closed } = await accepted;
    expect(ws.transport).toBe('h2');
    // The closing handshake, then END_STREAM both ways (RFC 8441 §5.1).
    expect(await closed).toBe(1000);
  });
});
