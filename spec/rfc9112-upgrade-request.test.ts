/**
 * RFC 9112 (HTTP/1.1) and RFC 9110 rules that apply to the upgrade request
 * itself: message framing (§6.3), Host (§3.2), the absolute-form target
 * (§3.2.2), empty lines before the request line (§2.2), and no content in
 * the answer to HEAD (RFC 9110 §9.3.2). In the protocol core, then in each
 * of the three server modes (standalone, {server}, noServer).
 */
import { once } from 'node:events';
import type { IncomingMessage, Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import {
  HandshakeError,
  HandshakeFailures,
  RequestReader,
  buildErrorResponse,
  isValidHost,
  parseRequestLine,
  parseTarget,
  rejectResponse,
  validateUpgrade,
} from '../src/protocol/index.js';
import { WebSocketServer } from '../src/server/index.js';
import { httpServer } from './runtime/support.js';
import { type HeaderList, handshake, handshakeRequest, parseResponse, readRequest, validHeaders, withHeader } from './helpers.js';

function rejection(bytes: Uint8Array, policy?: Parameters<typeof handshake>[1]): HandshakeError {
  const outcome = handshake(bytes, policy);
  if (!('error' in outcome)) throw new Error('request was accepted');
  return outcome.error;
}

const withFields = (...fields: HeaderList) => handshakeRequest({ headers: [...validHeaders(), ...fields] });

describe('RFC 9112 §3: the request line, scanned', () => {
  it('splits method, target and version', () => {
    expect(parseRequestLine('GET /a?b HTTP/1.1')).toEqual({ method: 'GET', target: '/a?b', httpVersion: '1.1' });
    expect(parseRequestLine('GET http://x/ws HTTP/1.1')?.target).toBe('http://x/ws');
  });

  it.each([
    ['no spaces', 'GET'],
    ['one space', 'GET /'],
    ['an empty method', ' / HTTP/1.1'],
    ['an empty target', 'GET  HTTP/1.1'],
    ['a third space', 'GET /a b HTTP/1.1'],
    ['a tab in the target', 'GET /a\tb HTTP/1.1'],
    ['DEL in the target', 'GET /a\x7f HTTP/1.1'],
    ['a lower-case protocol', 'GET / http/1.1'],
    ['a two-digit version', 'GET / HTTP/1.10'],
    ['a version without a dot', 'GET / HTTP/1x1'],
    ['a version that is not a digit', 'GET / HTTP/a.1'],
  ])('undefined for %s', (_, line) => {
    expect(parseRequestLine(line)).toBeUndefined();
  });
});

describe('RFC 9112 §3.2: request targets', () => {
  it('origin-form: the path is the target up to the query', () => {
    expect(parseTarget('/chat?room=1')).toEqual({ path: '/chat', authority: undefined });
    expect(parseTarget('/')).toEqual({ path: '/', authority: undefined });
  });

  it('absolute-form (§3.2.2): the path after the authority, "/" when empty', () => {
    expect(parseTarget('http://example.com/ws?x=1')).toEqual({ path: '/ws', authority: 'example.com' });
    expect(parseTarget('HTTPS://example.com:8443')).toEqual({ path: '/', authority: 'example.com:8443' });
    expect(parseTarget('ws://[::1]:80/a/b')).toEqual({ path: '/a/b', authority: '[::1]:80' });
    expect(parseTarget('http://x?q')).toEqual({ path: '/', authority: 'x' });
  });

  it.each([
    ['asterisk-form', '*'],
    ['authority-form', 'example.com:443'],
    ['a relative path', 'chat'],
    ['a scheme without "//"', 'http:/x/ws'],
    ['an empty scheme', '://x/ws'],
    ['a scheme starting with a digit', '1http://x/ws'],
    ['a scheme with "_"', 'h_p://x/ws'],
    ['userinfo (RFC 9110 §4.2.4)', 'http://user@x/ws'],
    ['an empty authority', 'http:///ws'],
  ])('undefined for %s', (_, target) => {
    expect(parseTarget(target)).toBeUndefined();
  });
});

describe('RFC 9112 §3.2 / RFC 3986 §3.2.2: Host values', () => {
  it.each([
    'example.com',
    'example.com:8080',
    'example.com:',
    '127.0.0.1:80',
    'localhost:65535',
    'ex%41mple.com',
    "a-b_c~d!$&'()*+,;=",
    '[::1]',
    '[::1]:9000',
    '[2001:db8::1.2.3.4]',
    '[v1.fe80::a+en1]',
  ])('accepts %s', (host) => {
    expect(isValidHost(host)).toBe(true);
  });

  it.each([
    ['spaces', 'a b c'],
    ['an empty value', ''],
    ['a port alone', ':80'],
    ['a non-digit port', 'example.com:http'],
    ['a port over 65535', 'example.com:65536'],
    ['a six-digit port', 'example.com:000080'],
    ['two colons', 'a:1:2'],
    ['userinfo', 'user@example.com'],
    ['a slash', 'example.com/x'],
    ['a bad pct-encoding', 'ex%4gmple.com'],
    ['a cut pct-encoding', 'example%4'],
    ['obs-text', 'ex\xe9mple.com'],
    ['an unclosed bracket', '[::1'],
    ['text after the bracket', '[::1]x'],
    ['not IPv6 in brackets', '[example.com]'],
    ['a zone identifier', '[fe80::1%eth0]'],
    ['an empty IP literal', '[]'],
    ['IPvFuture without a version', '[v.x]'],
    ['IPvFuture without an address', '[v1.]'],
    ['IPvFuture with a bad version', '[vg.x]'],
    ['IPvFuture with a bad character', '[v1.a/b]'],
  ])('refuses %s', (_, host) => {
    expect(isValidHost(host)).toBe(false);
  });

  it('400 INVALID_HOST for "Host: a b c"; one Host still required (MISSING_HOST)', () => {
    const error = rejection(handshakeRequest({ headers: withHeader(validHeaders(), 'Host', 'a b c') }));
    expect([error.status, error.code]).toEqual([400, 'INVALID_HOST']);
    expect(rejection(handshakeRequest({ headers: withHeader(validHeaders(), 'Host', 'a', 'a') })).code).toBe('MISSING_HOST');
    expect(handshake(handshakeRequest({ headers: withHeader(validHeaders(), 'Host', '[::1]:9') })).status).toBe(101);
  });
});

describe('RFC 9112 §3.2.2: an absolute-form target is accepted', () => {
  it('the path match uses its path, and its authority is the host', () => {
    const outcome = handshake(handshakeRequest({ target: 'http://other.example/chat?room=1' }), { path: '/chat' });
    if (!('upgrade' in outcome)) throw new Error(`rejected with ${outcome.status}`);
    expect(outcome.upgrade).toMatchObject({ target: 'http://other.example/chat?room=1', path: '/chat', host: 'other.example' });
    expect(handshake(handshakeRequest({ target: 'http://x/other' }), { path: '/chat' }).status).toBe(404);
  });

  it('400 INVALID_TARGET for a target in neither form', () => {
    for (const target of ['*', 'example.com:80', 'http://u@x/chat']) {
      const error = rejection(handshakeRequest({ target }));
      expect([error.status, error.code]).toEqual([400, 'INVALID_TARGET']);
    }
  });
});

describe('RFC 9112 §6.3: message framing of the upgrade request', () => {
  it.each<[string, HeaderList]>([
    ['Content-Length with Transfer-Encoding', [['Content-Length', '0'], ['Transfer-Encoding', 'chunked']]],
    ['two different Content-Length values', [['Content-Length', '0'], ['Content-Length', '5']]],
    ['two equal Content-Length fields', [['Content-Length', '0'], ['Content-Length', '0']]],
    ['a Content-Length list', [['Content-Length', '0, 0']]],
    ['a Content-Length that is not a number', [['Content-Length', 'abc']]],
    ['a negative Content-Length', [['Content-Length', '-1']]],
    ['an empty Content-Length', [['Content-Length', '']]],
    ['a Content-Length in hex', [['Content-Length', '0x0']]],
  ])('400 INVALID_MESSAGE_LENGTH for %s, whatever the method', (_, fields) => {
    for (const method of ['GET', 'POST']) {
      const error = rejection(handshakeRequest({ method, headers: [...validHeaders(), ...fields] }));
      expect([error.status, error.code]).toEqual([400, 'INVALID_MESSAGE_LENGTH']);
    }
  });

  it.each<[string, HeaderList]>([
    ['Content-Length: 5', [['Content-Length', '5']]],
    ['Transfer-Encoding: chunked', [['Transfer-Encoding', 'chunked']]],
    ['Transfer-Encoding: gzip', [['Transfer-Encoding', 'gzip']]],
  ])('400 UNEXPECTED_CONTENT for a GET announcing content (%s): it would be read as frames', (_, fields) => {
    const error = rejection(withFields(...fields));
    expect([error.status, error.code]).toEqual([400, 'UNEXPECTED_CONTENT']);
  });

  it('accepts Content-Length: 0 (and 000): no content', () => {
    expect(handshake(withFields(['Content-Length', '0'])).status).toBe(101);
    expect(handshake(withFields(['Content-Length', '000'])).status).toBe(101);
  });

  it('maps the new codes to 400', () => {
    for (const code of ['INVALID_HOST', 'INVALID_TARGET', 'INVALID_MESSAGE_LENGTH', 'UNEXPECTED_CONTENT'] as const) {
      expect(HandshakeFailures[code]).toBe(400);
    }
  });
});

describe('RFC 9110 §9.3.2: no content in an answer to HEAD', () => {
  it('validateUpgrade marks the error of a HEAD; its answer has GET\'s head and no content', () => {
    const get = rejection(handshakeRequest({ method: 'GET', headers: withHeader(validHeaders(), 'Upgrade') }));
    const head = rejection(handshakeRequest({ method: 'HEAD' }));
    expect([head.status, head.code, head.headRequest, get.headRequest]).toEqual([405, 'METHOD_NOT_ALLOWED', true, false]);
    const bytes = rejectResponse(head);
    expect(bytes.toString('latin1').endsWith('\r\n\r\n')).toBe(true);
    const withBody = parseResponse(buildErrorResponse(405, head.message, head.headers));
    const parsed = parseResponse(bytes);
    expect(parsed.body).toBe('');
    expect(parsed.headers.get('allow')).toBe('GET');
    // The same Content-Length as a GET would get.
    expect(parsed.headers.get('content-length')).toBe(withBody.headers.get('content-length'));
  });

  it('every rejection of a HEAD is bodyless, framing errors included', () => {
    const error = rejection(handshakeRequest({ method: 'HEAD', headers: [...validHeaders(), ['Content-Length', 'x']] }));
    expect([error.code, error.headRequest]).toEqual(['INVALID_MESSAGE_LENGTH', true]);
    expect(parseResponse(rejectResponse(error)).body).toBe('');
  });

  it('the request reader marks errors after a HEAD request line, not before', () => {
    const reader = new RequestReader();
    let error: unknown;
    try {
      reader.push(Buffer.from('HEAD / HTTP/1.1\r\nBad Name: 1\r\n\r\n'));
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'MALFORMED_REQUEST', headRequest: true });
    expect(() => new RequestReader().push(Buffer.from('HEAD  / HTTP/1.1\r\n'))).toThrow(
      expect.objectContaining({ headRequest: false }),
    );
  });

  it('HandshakeError carries headRequest (default false); validateUpgrade sets it for a HEAD', () => {
    expect(new HandshakeError('NOT_FOUND', 'x', {}, true).headRequest).toBe(true);
    expect(new HandshakeError('NOT_FOUND', 'x').headRequest).toBe(false);
    const { request } = readRequest(handshakeRequest({ method: 'HEAD' }));
    expect(() => validateUpgrade(request)).toThrow(expect.objectContaining({ headRequest: true, status: 405 }));
  });
});

// The same rules through the runtime, in each mode the head is checked.

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type Mode = 'standalone' | 'server' | 'noServer';

function startHttp(): Promise<{ http: Server; port: number }> {
  return httpServer((_req, res) => res.end('plain'), cleanups);
}

/** A server in `mode` with path /ws; returns its port. */
async function serve(mode: Mode): Promise<number> {
  if (mode === 'standalone') {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', path: '/ws' });
    cleanups.push(() => wss.close());
    await once(wss, 'listening');
    return (wss.address() as AddressInfo).port;
  }
  const { http, port } = await startHttp();
  if (mode === 'server') {
    const wss = new WebSocketServer({ server: http, path: '/ws' });
    cleanups.push(() => wss.close());
  } else {
    const wss = new WebSocketServer({ noServer: true, path: '/ws' });
    cleanups.push(() => wss.close());
    http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      wss.handleUpgrade(request, socket, head, (ws) => ws.close());
    });
  }
  return port;
}

/** Send `request`, read until the server closes, or until its 101 head is complete. */
async function exchange(port: number, request: string): Promise<{ status: number; head: string; body: Buffer }> {
  const socket = connect({ port, host: '127.0.0.1' });
  await once(socket, 'connect');
  socket.write(request, 'latin1');
  let bytes = Buffer.alloc(0);
  socket.on('error', () => {});
  await new Promise<void>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      bytes = Buffer.concat([bytes, chunk]);
      if (bytes.toString('latin1').startsWith('HTTP/1.1 101 ') && bytes.includes('\r\n\r\n')) resolve();
    });
    socket.once('close', () => resolve());
  });
  socket.destroy();
  const end = bytes.indexOf('\r\n\r\n');
  const head = bytes.subarray(0, end).toString('latin1');
  return { status: Number(head.split(' ')[1]), head, body: bytes.subarray(end + 4) };
}

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
function upgrade({ line = 'GET /ws HTTP/1.1', host = 'Host: 127.0.0.1', extra = [] as string[], before = '' } = {}): string {
  const fields = [host, 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${KEY}`, 'Sec-WebSocket-Version: 13', ...extra];
  return `${before}${line}\r\n${fields.filter(Boolean).join('\r\n')}\r\n\r\n`;
}

describe.each<Mode>(['standalone', 'server', 'noServer'])('the HTTP/1.1 rules in %s mode', (mode) => {
  it('400 for Content-Length with Transfer-Encoding, two Content-Lengths, an invalid one, or content', async () => {
    const port = await serve(mode);
    for (const extra of [
      ['Content-Length: 4', 'Transfer-Encoding: chunked'],
      ['Content-Length: 0', 'Content-Length: 4'],
      ['Content-Length: x'],
      ['Content-Length: 4'],
    ]) {
      const { status } = await exchange(port, upgrade({ extra }) + '\x81\x00');
      expect([extra, status]).toEqual([extra, 400]);
    }
    expect((await exchange(port, upgrade({ extra: ['Content-Length: 0'] }))).status).toBe(101);
  });

  it('400 for an invalid Host or none', async () => {
    const port = await serve(mode);
    expect((await exchange(port, upgrade({ host: 'Host: a b c' }))).status).toBe(400);
    expect((await exchange(port, upgrade({ host: '' }))).status).toBe(400);
  });

  it('101 for an absolute-form target whose path is served, 404 for another path', async () => {
    const port = await serve(mode);
    expect((await exchange(port, upgrade({ line: 'GET http://x/ws HTTP/1.1' }))).status).toBe(101);
    expect((await exchange(port, upgrade({ line: 'GET http://x/other HTTP/1.1' }))).status).toBe(404);
  });

  it('ignores an empty line before the request line', async () => {
    const port = await serve(mode);
    expect((await exchange(port, upgrade({ before: '\r\n' }))).status).toBe(101);
  });

  it('answers a HEAD upgrade with 405, a Content-Length and no content', async () => {
    const port = await serve(mode);
    const { status, head, body } = await exchange(port, upgrade({ line: 'HEAD /ws HTTP/1.1' }));
    expect(status).toBe(405);
    expect(head).toMatch(/\r\ncontent-length: [1-9]/i);
    expect(body.length).toBe(0);
  });
});

describe('standalone: a HEAD without Upgrade to a path that is not a page', () => {
  it('405 with no content', async () => {
    const port = await serve('standalone');
    const { status, body } = await exchange(port, 'HEAD /nothing-here HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect([status, body.length]).toEqual([405, 0]);
  });
});

describe('{server} mode with two WebSocket servers on one http.Server', () => {
  it('routes an absolute-form target by its path', async () => {
    const { http, port } = await startHttp();
    for (const path of ['/a', '/b']) {
      const wss = new WebSocketServer({ server: http, path });
      cleanups.push(() => wss.close());
    }
    // Only /b's server can answer 101: /a's would answer 404.
    expect((await exchange(port, upgrade({ line: 'GET http://x/b?q HTTP/1.1' }))).status).toBe(101);
  });
});
