/**
 * The commands as users run them: `strictws echo` still a drop-in echo
 * server with a page on GET /, and the HTTP side and flags of chat and vote.
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { BIN, type RunningServer, startCli } from '../support/cli.js';
import { freePort, pageUrl } from './support.js';

/** Send raw bytes, return the whole response. */
async function rawHttp(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.write(request);
  let response = '';
  socket.setEncoding('latin1').on('data', (s: string) => (response += s));
  await once(socket, 'close');
  return response;
}

async function echoOnce(url: string, data: string | Buffer): Promise<{ data: Buffer; isBinary: boolean }> {
  const ws = new WebSocket(url);
  await once(ws, 'open');
  ws.send(data);
  const [reply, isBinary] = (await once(ws, 'message')) as [Buffer, boolean];
  ws.close();
  await once(ws, 'close');
  return { data: reply, isBinary };
}

function run(...args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 15_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('strictws echo with its page', () => {
  let echo: RunningServer;
  beforeAll(async () => {
    echo = await startCli('echo');
  });
  afterAll(async () => {
    await echo?.stop();
  });

  it('prints the URL line and serves the page on GET /, with a strict CSP', async () => {
    expect(echo.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/$/);
    const response = await fetch(pageUrl(echo.url));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toMatch(/default-src 'none'; script-src 'sha256-[^']+'; style-src 'sha256-[^']+'; connect-src 'self'/);
    const html = await response.text();
    expect(html).toContain('<title>strictws echo</title>');
    expect(html).toContain('const WS_PATH = "/";');
    expect((await fetch(`${pageUrl(echo.url)}?from=test`)).status).toBe(200);
    const head = await fetch(pageUrl(echo.url), { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('echoes text as text and binary as binary, on any path', async () => {
    expect(await echoOnce(echo.url, 'héllo')).toEqual({ data: Buffer.from('héllo'), isBinary: false });
    expect(await echoOnce(`${echo.url}any/path?q=1`, Buffer.from([0, 1, 255]))).toEqual({
      data: Buffer.from([0, 1, 255]),
      isBinary: true,
    });
  });

  it('other plain HTTP requests get what a WebSocket-only server answers', async () => {
    const other = await fetch(`${pageUrl(echo.url)}favicon.ico`);
    expect(other.status).toBe(426);
    expect(other.headers.get('upgrade')).toBe('websocket');
    expect((await fetch(pageUrl(echo.url), { method: 'POST', body: 'x' })).status).toBe(405);
    const { host } = new URL(echo.url);
    // Upgrade without Connection: Upgrade is a bad handshake, not a page request.
    expect(await rawHttp(echo.url, `GET / HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: close\r\n\r\n`)).toMatch(/^HTTP\/1\.1 400 /);
    expect(await rawHttp(echo.url, `GET /x HTTP/1.0\r\nHost: ${host}\r\n\r\n`)).toMatch(/^HTTP\/1\.1 505 /);
    const badVersion = await rawHttp(
      echo.url,
      `GET / HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n`,
    );
    expect(badVersion).toMatch(/^HTTP\/1\.1 426 /);
    expect(badVersion).toMatch(/\r\nSec-WebSocket-Version: 13\r\n/);
  });

  it('keeps the standalone server\'s caps and closes the connection after a refusal', async () => {
    const { host } = new URL(echo.url);
    const upgrade = `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n`;
    // rawHttp resolves when the server closes the connection.
    const plain = await rawHttp(echo.url, `GET /elsewhere HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    expect(plain).toMatch(/^HTTP\/1\.1 426 /);
    expect(plain).toMatch(/\r\nConnection: Upgrade, close\r\n/);
    for (const request of [`GET /${'a'.repeat(9000)} HTTP/1.1\r\nHost: ${host}\r\n`, `GET /${'a'.repeat(9000)} HTTP/1.1\r\nHost: ${host}\r\n${upgrade}`]) {
      expect(await rawHttp(echo.url, `${request}\r\n`)).toMatch(/^HTTP\/1\.1 414 /);
    }
    const fields = Array.from({ length: 101 }, (_, i) => `X-Field-${i}: ${i}\r\n`).join('');
    expect(await rawHttp(echo.url, `GET / HTTP/1.1\r\nHost: ${host}\r\n${fields}\r\n`)).toMatch(/^HTTP\/1\.1 431 /);
    expect(await rawHttp(echo.url, `GET / HTTP/1.1\r\nHost: ${host}\r\n${upgrade}${fields}\r\n`)).toMatch(/^HTTP\/1\.1 431 /);
  });

  it('logs connections and shuts down gracefully with 1001 on SIGTERM', async () => {
    const server = await startCli('echo');
    const ws = new WebSocket(server.url);
    await once(ws, 'open');
    const closed = once(ws, 'close');
    expect(await server.stop('SIGTERM')).toBe(0);
    const [code, reason] = (await closed) as [number, Buffer];
    expect(code).toBe(1001);
    expect(reason.toString()).toBe('server shutting down');
    expect(server.log()).toMatch(/info {2}#\d+ open from 127\.0\.0\.1/);
    expect(server.log()).toMatch(/SIGTERM: closing 1 connection\(s\)/);
  });

  it('with --path, WebSocket only there, and the page connects there', async () => {
    const server = await startCli('echo', ['--path', '/ws']);
    try {
      expect(server.url).toMatch(/\/ws$/);
      expect(await echoOnce(server.url, 'on /ws')).toEqual({ data: Buffer.from('on /ws'), isBinary: false });
      const refused = new WebSocket(server.url.replace(/\/ws$/, '/elsewhere'));
      const [, response] = (await once(refused, 'unexpected-response')) as [unknown, { statusCode: number }];
      expect(response.statusCode).toBe(404);
      refused.on('error', () => {});
      refused.terminate();
      expect(await (await fetch(pageUrl(server.url))).text()).toContain('const WS_PATH = "/ws";');
    } finally {
      await server.stop();
    }
  });
});

describe('strictws chat and vote on the command line', () => {
  it('serve their pages on GET /', async () => {
    const [chat, vote] = await Promise.all([startCli('chat'), startCli('vote')]);
    try {
      expect(chat.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/$/);
      expect(await (await fetch(pageUrl(chat.url))).text()).toContain('<title>strictws chat</title>');
      expect(await (await fetch(pageUrl(vote.url))).text()).toContain('<title>strictws vote</title>');
      expect(chat.log()).toContain('state in memory (one process)');
      expect(chat.log()).toContain(`page at ${pageUrl(chat.url)}`);
    } finally {
      await Promise.all([chat.stop(), vote.stop()]);
    }
  });

  it('are listed in --help', () => {
    const { code, stdout } = run('--help');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^ {2}chat {5}/m);
    expect(stdout).toMatch(/^ {2}vote {5}/m);
    expect(stdout).toContain('--redis <url>');
  });

  it('refuse bad flags with a usage error (exit 2)', () => {
    for (const [args, message] of [
      [['chat', '--history', 'many'], '--history must be an integer from 0 to 1000'],
      [['chat', '--history', '1001'], '--history must be an integer from 0 to 1000'],
      [['chat', '--redis', 'localhost:6379'], '--redis must be a URL'],
      [['vote', '--options', 'a,,b'], '--options: empty option'],
      [['vote', '--options', 'a,b,a'], '--options: option "a" is given twice'],
      [['vote', '--history', '5'], 'Unknown option'],
      [['echo', '--message-timeout', '0'], '--message-timeout must be an integer from 1 to 2147483647'],
      [['chat', '--message-timeout', '1.5'], '--message-timeout must be an integer'],
      [['vote', '--message-timeout', 'soon'], '--message-timeout must be an integer'],
    ] as const) {
      const { code, stderr } = run(...args);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr).toContain(message);
    }
  });

  it('fail clearly (exit 1) when Redis cannot be reached', async () => {
    const port = await freePort();
    const { code, stderr } = run('chat', '--port', '0', '--redis', `redis://127.0.0.1:${port}`);
    expect(code).toBe(1);
    expect(stderr).toContain(`strictws: cannot connect to Redis at redis://127.0.0.1:${port}`);
  });
});
