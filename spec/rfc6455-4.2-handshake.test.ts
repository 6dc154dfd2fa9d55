/**
 * RFC 6455 §1.3, §4.1, §4.2.1, §4.2.2: validating the client's opening
 * handshake and building the server's answer.
 */
import { describe, expect, it } from 'vitest';
import {
  HandshakeError,
  HandshakeFailures,
  WEBSOCKET_GUID,
  acceptKey,
  buildAcceptResponse,
  buildErrorResponse,
  listElements,
  rejectResponse,
  selectProtocol,
  validateUpgrade,
} from '../src/protocol/index.js';
import {
  type HeaderList,
  SAMPLE_ACCEPT,
  SAMPLE_KEY,
  expectedAccept,
  handshake,
  handshakeRequest,
  parseResponse,
  readRequest,
  validHeaders,
  withHeader,
} from './helpers.js';

/** The status a request gets: 101 if accepted. */
function statusOf(...args: Parameters<typeof handshake>): number {
  return handshake(...args).status;
}

function rejection(...args: Parameters<typeof handshake>): HandshakeError {
  const outcome = handshake(...args);
  if (!('error' in outcome)) throw new Error('request was accepted');
  return outcome.error;
}

describe('RFC 6455 §1.3: Sec-WebSocket-Accept', () => {
  it('answers the sample nonce dGhlIHNhbXBsZSBub25jZQ== with s3pPLMBiTxaQ9kYGzzhZRbK+xOo=', () => {
    expect(acceptKey(SAMPLE_KEY)).toBe(SAMPLE_ACCEPT);
  });

  it('hashes the key with the GUID 258EAFA5-E914-47DA-95CA-C5AB0DC85B11', () => {
    expect(WEBSOCKET_GUID).toBe('258EAFA5-E914-47DA-95CA-C5AB0DC85B11');
    // The SHA-1 bytes given in §1.3.
    expect(Buffer.from(acceptKey(SAMPLE_KEY), 'base64')).toEqual(
      Buffer.from('b37a4f2cc0624f1690f64606cf385945b2bec4ea', 'hex'),
    );
  });
});

describe('RFC 6455 §1.2 / §4: the example handshake', () => {
  const exampleRequest = handshakeRequest({
    headers: [
      ['Host', 'server.example.com'],
      ['Upgrade', 'websocket'],
      ['Connection', 'Upgrade'],
      ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
      ['Origin', 'http://example.com'],
      ['Sec-WebSocket-Protocol', 'chat, superchat'],
      ['Sec-WebSocket-Version', '13'],
    ],
  });

  it('parses and validates the §1.2 request', () => {
    const outcome = handshake(exampleRequest, { path: '/chat', origins: ['http://example.com'] });
    if (outcome.status !== 101 || !('upgrade' in outcome)) throw new Error(`rejected with ${outcome.status}`);
    expect(outcome.upgrade).toMatchObject({
      key: SAMPLE_KEY,
      target: '/chat',
      host: 'server.example.com',
      origin: 'http://example.com',
      protocols: ['chat', 'superchat'],
      extensions: [],
    });
  });

  it('answers with the exact 101 response of §1.2', () => {
    const outcome = handshake(exampleRequest);
    if (!('upgrade' in outcome)) throw new Error('rejected');
    const protocol = selectProtocol(outcome.upgrade.protocols, (offered) => offered[0]);
    const response = buildAcceptResponse({ key: outcome.upgrade.key, protocol });
    expect(response.toString('latin1')).toBe(
      'HTTP/1.1 101 Switching Protocols\r\n' +
        'Upgrade: websocket\r\n' +
        'Connection: Upgrade\r\n' +
        'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n' +
        'Sec-WebSocket-Protocol: chat\r\n' +
        '\r\n',
    );
  });

  it('omits Sec-WebSocket-Protocol when none is selected, and adds extensions and extra headers', () => {
    expect(buildAcceptResponse({ key: SAMPLE_KEY }).toString('latin1')).toBe(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${SAMPLE_ACCEPT}\r\n\r\n`,
    );
    const response = parseResponse(
      buildAcceptResponse({ key: SAMPLE_KEY, extensions: 'permessage-deflate', headers: { 'X-Id': '7' } }),
    );
    expect(response.headers.get('sec-websocket-extensions')).toBe('permessage-deflate');
    expect(response.headers.get('x-id')).toBe('7');
    expect(response.headers.has('sec-websocket-protocol')).toBe(false);
  });

  it('refuses response headers that would split the response', () => {
    expect(() => buildAcceptResponse({ key: SAMPLE_KEY, headers: { 'X-A': 'v\r\nSet-Cookie: x' } })).toThrow(TypeError);
    expect(() => buildAcceptResponse({ key: SAMPLE_KEY, headers: { 'Bad Name': 'v' } })).toThrow(TypeError);
  });
});

describe('RFC 6455 §4.2.1: the accepted request', () => {
  it('accepts the minimal request and reports its key', () => {
    const outcome = handshake(handshakeRequest());
    expect(outcome.status).toBe(101);
    if ('upgrade' in outcome) expect(acceptKey(outcome.upgrade.key)).toBe(expectedAccept(SAMPLE_KEY));
  });

  it.each([
    ['Connection: keep-alive, Upgrade', 'keep-alive, Upgrade'],
    ['Connection: upgrade', 'upgrade'],
    ['Connection: UPGRADE', 'UPGRADE'],
    ['Connection: Keep-Alive,uPgRaDe', 'Keep-Alive,uPgRaDe'],
  ])('accepts %s (the token in any case, within a list)', (_, value) => {
    expect(statusOf(handshakeRequest({ headers: withHeader(validHeaders(), 'Connection', value) }))).toBe(101);
  });

  it.each(['WebSocket', 'WEBSOCKET', 'h2c, websocket'])('accepts Upgrade: %s', (value) => {
    expect(statusOf(handshakeRequest({ headers: withHeader(validHeaders(), 'Upgrade', value) }))).toBe(101);
  });

  it('accepts HTTP versions above 1.1', () => {
    expect(statusOf(handshakeRequest({ version: 'HTTP/2.0' }))).toBe(101);
  });

  it('accepts an empty list element and header names in any case', () => {
    const headers: HeaderList = validHeaders().map(([n, v]) => [n.toUpperCase(), v]);
    expect(statusOf(handshakeRequest({ headers: withHeader(headers, 'CONNECTION', ', Upgrade,') }))).toBe(101);
  });

  it('collects Sec-WebSocket-Protocol across fields and keeps Sec-WebSocket-Extensions as sent', () => {
    const headers: HeaderList = [
      ...validHeaders(),
      ['Sec-WebSocket-Protocol', 'a, b'],
      ['Sec-WebSocket-Protocol', 'c'],
      ['Sec-WebSocket-Extensions', 'permessage-deflate; client_max_window_bits'],
    ];
    const outcome = handshake(handshakeRequest({ headers }));
    if (!('upgrade' in outcome)) throw new Error('rejected');
    expect(outcome.upgrade.protocols).toEqual(['a', 'b', 'c']);
    expect(outcome.upgrade.extensions).toEqual(['permessage-deflate; client_max_window_bits']);
  });
});

describe('RFC 6455 §4.2.1 / §4.2.2: rejections and their status', () => {
  const headers = validHeaders();
  const without = (name: string) => withHeader(headers, name);
  const replaced = (name: string, ...values: string[]) => withHeader(headers, name, ...values);

  const cases: Array<[string, Parameters<typeof handshakeRequest>[0], number, HandshakeError['code']]> = [
    ['POST (item 1)', { method: 'POST' }, 405, 'METHOD_NOT_ALLOWED'],
    ['lower-case get (methods are case-sensitive)', { method: 'get' }, 405, 'METHOD_NOT_ALLOWED'],
    ['HTTP/1.0 (item 1)', { version: 'HTTP/1.0' }, 505, 'HTTP_VERSION_NOT_SUPPORTED'],
    ['HTTP/0.9', { version: 'HTTP/0.9' }, 505, 'HTTP_VERSION_NOT_SUPPORTED'],
    ['no Host (item 2)', { headers: without('Host') }, 400, 'MISSING_HOST'],
    ['two Host fields', { headers: replaced('Host', 'a.example', 'b.example') }, 400, 'MISSING_HOST'],
    ['no Upgrade (item 3)', { headers: without('Upgrade') }, 426, 'UPGRADE_REQUIRED'],
    ['Upgrade: h2c', { headers: replaced('Upgrade', 'h2c') }, 426, 'UPGRADE_REQUIRED'],
    ['Upgrade: websocket2', { headers: replaced('Upgrade', 'websocket2') }, 426, 'UPGRADE_REQUIRED'],
    ['no Connection (item 4)', { headers: without('Connection') }, 400, 'INVALID_CONNECTION_HEADER'],
    ['Connection: keep-alive', { headers: replaced('Connection', 'keep-alive') }, 400, 'INVALID_CONNECTION_HEADER'],
    ['Connection: Upgraded', { headers: replaced('Connection', 'Upgraded') }, 400, 'INVALID_CONNECTION_HEADER'],
    ['no Sec-WebSocket-Key (item 5)', { headers: without('Sec-WebSocket-Key') }, 400, 'INVALID_KEY'],
    ['two keys', { headers: replaced('Sec-WebSocket-Key', SAMPLE_KEY, SAMPLE_KEY) }, 400, 'INVALID_KEY'],
    ['a key of 15 bytes', { headers: replaced('Sec-WebSocket-Key', Buffer.alloc(15, 1).toString('base64')) }, 400, 'INVALID_KEY'],
    ['a key of 17 bytes', { headers: replaced('Sec-WebSocket-Key', Buffer.alloc(17, 1).toString('base64')) }, 400, 'INVALID_KEY'],
    ['a key without padding', { headers: replaced('Sec-WebSocket-Key', SAMPLE_KEY.slice(0, 22)) }, 400, 'INVALID_KEY'],
    // "Q" carries 2 data bits and 4 zero bits; "R" would set a padding bit: not canonical base64.
    ['a non-canonical key (…ZR==)', { headers: replaced('Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZR==') }, 400, 'INVALID_KEY'],
    ['a key with a non-base64 character', { headers: replaced('Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25j*Q==') }, 400, 'INVALID_KEY'],
    ['a base64url key', { headers: replaced('Sec-WebSocket-Key', '-_-_-_-_-_-_-_-_-_-_-A==') }, 400, 'INVALID_KEY'],
    ['no Sec-WebSocket-Version (item 6)', { headers: without('Sec-WebSocket-Version') }, 426, 'UNSUPPORTED_VERSION'],
    ['version 8', { headers: replaced('Sec-WebSocket-Version', '8') }, 426, 'UNSUPPORTED_VERSION'],
    ['version 13 twice', { headers: replaced('Sec-WebSocket-Version', '13', '13') }, 426, 'UNSUPPORTED_VERSION'],
    ['version list "13, 8"', { headers: replaced('Sec-WebSocket-Version', '13, 8') }, 426, 'UNSUPPORTED_VERSION'],
    ['a subprotocol that is not a token', { headers: [...headers, ['Sec-WebSocket-Protocol', 'chat, sup/er']] }, 400, 'INVALID_PROTOCOL_HEADER'],
  ];

  it.each(cases)('%s → %i', (_, spec, status, code) => {
    const error = rejection(handshakeRequest(spec));
    expect(error.status).toBe(status);
    expect(error.code).toBe(code);
    expect(HandshakeFailures[code]).toBe(status);
  });

  it('405 carries Allow: GET', () => {
    expect(rejection(handshakeRequest({ method: 'POST' })).headers).toEqual({ Allow: 'GET' });
  });

  it('426 for a missing or wrong Upgrade names the protocol to upgrade to', () => {
    for (const headers of [without('Upgrade'), replaced('Upgrade', 'h2c')]) {
      expect(rejection(handshakeRequest({ headers })).headers).toMatchObject({ Upgrade: 'websocket' });
    }
  });

  it('426 for a wrong version carries Sec-WebSocket-Version: 13 (§4.2.2)', () => {
    for (const value of [[], ['8'], ['13', '13']]) {
      const error = rejection(handshakeRequest({ headers: replaced('Sec-WebSocket-Version', ...value) }));
      expect(error.headers).toEqual({ 'Sec-WebSocket-Version': '13' });
    }
  });

  describe('server policy (§4.2.1 resource name, §10.2 origin)', () => {
    const withOrigin = (...origins: string[]) => handshakeRequest({ headers: [...headers, ...origins.map((o): [string, string] => ['Origin', o])] });
    const policy = { origins: ['https://good.example'] };

    it('403 for an origin not allowed, 101 for one allowed', () => {
      expect(statusOf(withOrigin('https://evil.example'), policy)).toBe(403);
      expect(rejection(withOrigin('https://evil.example'), policy).code).toBe('FORBIDDEN_ORIGIN');
      expect(statusOf(withOrigin('https://good.example'), policy)).toBe(101);
    });

    it('403 when several Origin fields would hide a forbidden one', () => {
      expect(statusOf(withOrigin('https://evil.example', 'https://good.example'), policy)).toBe(403);
      expect(statusOf(withOrigin('https://good.example', 'https://good.example'), policy)).toBe(403);
    });

    it('lets a request without Origin (a non-browser client) through, and ignores Origin without a policy', () => {
      expect(statusOf(withOrigin(), policy)).toBe(101);
      expect(statusOf(withOrigin('https://evil.example'))).toBe(101);
    });

    it('404 for a path not served; the query is not part of the path', () => {
      expect(statusOf(handshakeRequest({ target: '/other' }), { path: '/chat' })).toBe(404);
      expect(rejection(handshakeRequest({ target: '/chat/x' }), { path: '/chat' }).code).toBe('NOT_FOUND');
      expect(statusOf(handshakeRequest({ target: '/chat?room=1' }), { path: '/chat' })).toBe(101);
    });
  });

  it('checks in the order of §4.2.1: version of HTTP, method, Host, Upgrade, Connection, version, key', () => {
    const broken = { method: 'POST', version: 'HTTP/1.0', headers: [] };
    expect(statusOf(handshakeRequest(broken))).toBe(505);
    expect(statusOf(handshakeRequest({ ...broken, version: 'HTTP/1.1' }))).toBe(405);
    expect(statusOf(handshakeRequest({ headers: [] }))).toBe(400);
    expect(statusOf(handshakeRequest({ headers: [['Host', 'h']] }))).toBe(426);
    const upTo = (n: number) => validHeaders().slice(0, n);
    expect(statusOf(handshakeRequest({ headers: upTo(2) }))).toBe(400);
    expect(statusOf(handshakeRequest({ headers: upTo(3) }))).toBe(426);
    expect(statusOf(handshakeRequest({ headers: [...upTo(3), ['Sec-WebSocket-Version', '13']] }))).toBe(400);
  });
});

describe('RFC 6455 §4.2.2: error responses', () => {
  it('buildErrorResponse: status line, Connection: close, type, exact Content-Length, body', () => {
    const response = buildErrorResponse(400, 'bad key ✗');
    const parsed = parseResponse(response);
    expect(parsed.statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect(parsed.headers.get('connection')).toBe('close');
    expect(parsed.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(parsed.body).toBe('bad key ✗\n');
    expect(Number(parsed.headers.get('content-length'))).toBe(Buffer.byteLength('bad key ✗\n'));
    expect(response.subarray(-Buffer.byteLength('bad key ✗\n')).toString('utf8')).toBe('bad key ✗\n');
  });

  it('defaults the body to the reason phrase and keeps empty or newline-ended bodies as given', () => {
    expect(parseResponse(buildErrorResponse(404)).body).toBe('Not Found\n');
    expect(parseResponse(buildErrorResponse(400, '')).headers.get('content-length')).toBe('0');
    expect(parseResponse(buildErrorResponse(400, 'x\n')).body).toBe('x\n');
    expect(parseResponse(buildErrorResponse(599, '')).statusLine).toBe('HTTP/1.1 599 Error');
  });

  it('extra headers are added and may override the defaults', () => {
    const parsed = parseResponse(buildErrorResponse(405, 'no', { Allow: 'GET', Connection: 'keep-alive' }));
    expect(parsed.headers.get('allow')).toBe('GET');
    expect(parsed.headers.get('connection')).toBe('keep-alive');
  });

  const rejected: Array<[Parameters<typeof handshakeRequest>[0], string, Record<string, string>]> = [
    [{ method: 'PUT' }, 'HTTP/1.1 405 Method Not Allowed', { allow: 'GET' }],
    [{ version: 'HTTP/1.0' }, 'HTTP/1.1 505 HTTP Version Not Supported', {}],
    [{ headers: withHeader(validHeaders(), 'Upgrade') }, 'HTTP/1.1 426 Upgrade Required', { upgrade: 'websocket' }],
    [
      { headers: withHeader(validHeaders(), 'Sec-WebSocket-Version', '7') },
      'HTTP/1.1 426 Upgrade Required',
      { 'sec-websocket-version': '13' },
    ],
  ];

  it.each(rejected)('rejectResponse for %o: %s with its headers', (spec, statusLine, extra) => {
    const error = rejection(handshakeRequest(spec));
    const parsed = parseResponse(rejectResponse(error));
    expect(parsed.statusLine).toBe(statusLine);
    expect(parsed.status).toBe(error.status);
    expect(parsed.body).toBe(`${error.message}\n`);
    for (const [name, value] of Object.entries(extra)) expect(parsed.headers.get(name)).toBe(value);
    // The server closes after an error response, and says so (RFC 9112 §9.6); a
    // sender of Upgrade also lists the "upgrade" option (RFC 9110 §7.8).
    const options = listElements([parsed.headers.get('connection') ?? '']).map((o) => o.toLowerCase());
    expect(options).toContain('close');
    if (parsed.headers.has('upgrade')) expect(options).toContain('upgrade');
  });

  it('HandshakeError exposes code, status, name and headers', () => {
    const error = new HandshakeError('HEADERS_TOO_LARGE', 'too big');
    expect(error).toBeInstanceOf(Error);
    expect([error.name, error.code, error.status, error.message]).toEqual(['HandshakeError', 'HEADERS_TOO_LARGE', 431, 'too big']);
    expect(error.headers).toEqual({});
  });
});

describe('RFC 6455 §4.2.2 item 5.5: subprotocol selection', () => {
  it('returns the one selected among those offered', () => {
    expect(selectProtocol(['chat', 'superchat'], (offered) => offered[1])).toBe('superchat');
  });

  it('selects none without a selector, without offers, or when the selector declines', () => {
    expect(selectProtocol(['chat'], undefined)).toBeUndefined();
    expect(selectProtocol([], () => 'chat')).toBeUndefined();
    for (const declined of [false, null, undefined] as const) expect(selectProtocol(['chat'], () => declined)).toBeUndefined();
  });

  it('throws if the selector picks one the client did not offer', () => {
    expect(() => selectProtocol(['chat'], () => 'superchat')).toThrow(TypeError);
  });
});

describe('RFC 9110 §5.6.1: list elements', () => {
  it('splits on commas, trims, drops empty elements, across field lines', () => {
    expect(listElements([' a ,b,, c', '', 'd'])).toEqual(['a', 'b', 'c', 'd']);
    expect(listElements(undefined)).toEqual([]);
  });

  it('validateUpgrade reads headers as parsed by the request reader', () => {
    const { request } = readRequest(handshakeRequest());
    expect(validateUpgrade(request).host).toBe('server.example.com');
  });
});
