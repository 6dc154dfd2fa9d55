/**
 * RFC 8441 §4–5: the extended CONNECT that opens a WebSocket on an HTTP/2
 * stream, validated by the sans-I/O core (src/protocol/h2-handshake.ts).
 * The runtime side is spec/runtime/http2.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  HandshakeError,
  SETTINGS_ENABLE_CONNECT_PROTOCOL,
  acceptKey,
  buildConnectResponse,
  h2Request,
  h2ResponseHeaders,
  validateExtendedConnect,
} from '../src/protocol/index.js';

const VALID: Record<string, string> = {
  ':method': 'CONNECT',
  ':protocol': 'websocket',
  ':scheme': 'https',
  ':path': '/chat?room=1',
  ':authority': 'example.com:443',
  'sec-websocket-version': '13',
};

/** A request from header pairs: VALID, with `changes` applied (undefined removes). */
function request(changes: Record<string, string | undefined> = {}, extra: Array<[string, string]> = []) {
  const raw: string[] = [];
  for (const [name, value] of Object.entries({ ...VALID, ...changes })) if (value !== undefined) raw.push(name, value);
  for (const [name, value] of extra) raw.push(name, value);
  return h2Request(raw);
}

function refusal(changes: Record<string, string | undefined>, extra: Array<[string, string]> = [], policy = {}) {
  try {
    validateExtendedConnect(request(changes, extra), policy);
  } catch (error) {
    expect(error).toBeInstanceOf(HandshakeError);
    const { code, status, headers } = error as HandshakeError;
    return { code, status, headers };
  }
  throw new Error('accepted');
}

describe('RFC 8441 §3: SETTINGS_ENABLE_CONNECT_PROTOCOL', () => {
  it('is parameter 0x8', () => {
    expect(SETTINGS_ENABLE_CONNECT_PROTOCOL).toBe(8);
  });
});

describe('RFC 8441 §4: an extended CONNECT with :protocol websocket', () => {
  it('accepts a valid request: target from :path, host from :authority, no key needed', () => {
    const upgrade = validateExtendedConnect(request());
    expect(upgrade).toMatchObject({ key: '', target: '/chat?room=1', host: 'example.com:443', protocols: [], extensions: [] });
  });

  it('h2Request keeps repeated fields in order and names in lower case', () => {
    const req = h2Request([':method', 'CONNECT', ':path', '/', 'X-A', '1', 'x-a', '2']);
    expect([req.method, req.target, req.httpVersion]).toEqual(['CONNECT', '/', '2.0']);
    expect(req.headers.get('x-a')).toEqual(['1', '2']);
    expect(h2Request([]).method).toBe('');
  });

  it('another method gets 405 naming CONNECT', () => {
    expect(refusal({ ':method': 'GET' })).toEqual({ code: 'METHOD_NOT_ALLOWED', status: 405, headers: { Allow: 'CONNECT' } });
  });

  it('a CONNECT without :protocol (a tunnel), or with another protocol, gets 400', () => {
    expect(refusal({ ':protocol': undefined })).toMatchObject({ code: 'NOT_WEBSOCKET_CONNECT', status: 400 });
    expect(refusal({ ':protocol': 'connect-udp' })).toMatchObject({ code: 'NOT_WEBSOCKET_CONNECT', status: 400 });
  });

  it(':protocol is matched without regard to case', () => {
    expect(validateExtendedConnect(request({ ':protocol': 'WebSocket' })).target).toBe('/chat?room=1');
  });

  for (const name of [':scheme', ':path', ':authority']) {
    it(`a missing ${name} gets 400`, () => {
      expect(refusal({ [name]: undefined })).toMatchObject({ code: 'MISSING_PSEUDO_HEADER', status: 400 });
    });
    it(`an empty or repeated ${name} gets 400`, () => {
      expect(refusal({ [name]: '' })).toMatchObject({ code: 'MISSING_PSEUDO_HEADER', status: 400 });
      expect(refusal({}, [[name, 'again']])).toMatchObject({ code: 'MISSING_PSEUDO_HEADER', status: 400 });
    });
  }
});

describe('RFC 9113 §8.3.1: :path and :authority', () => {
  it('a :path that is not origin-form (absolute-form, "*", no leading slash) gets 400', () => {
    for (const path of ['http://example.com/chat', '*', 'chat', '/a b']) {
      expect(refusal({ ':path': path })).toMatchObject({ code: 'INVALID_TARGET', status: 400 });
    }
  });

  it('the path policy compares :path without its query', () => {
    expect(validateExtendedConnect(request(), { path: '/chat' }).path).toBe('/chat');
    expect(refusal({ ':path': '/other?x' }, [], { path: '/chat' })).toMatchObject({ code: 'NOT_FOUND', status: 404 });
  });

  it('an :authority that is not host[:port] gets 400', () => {
    for (const authority of ['user@example.com', 'example.com:x', 'a b']) {
      expect(refusal({ ':authority': authority })).toMatchObject({ code: 'INVALID_HOST', status: 400 });
    }
  });
});

describe('RFC 8441 §5: the rules kept from RFC 6455 §4.2.1', () => {
  it('a missing, other or repeated sec-websocket-version gets 426 naming 13', () => {
    const expected = { code: 'UNSUPPORTED_VERSION', status: 426, headers: { 'sec-websocket-version': '13' } };
    expect(refusal({ 'sec-websocket-version': undefined })).toEqual(expected);
    expect(refusal({ 'sec-websocket-version': '8' })).toEqual(expected);
    expect(refusal({}, [['sec-websocket-version', '13']])).toEqual(expected);
  });

  it('origins and path are the server policy, as over HTTP/1.1 (403, 404)', () => {
    expect(refusal({ origin: 'https://evil.example' }, [], { origins: ['https://good.example'] })).toMatchObject({ status: 403 });
    expect(refusal({}, [], { path: '/ws' })).toMatchObject({ code: 'NOT_FOUND', status: 404 });
    expect(validateExtendedConnect(request({ ':path': '/ws?x' }), { path: '/ws' }).target).toBe('/ws?x');
  });

  it('subprotocols and extensions are parsed as over HTTP/1.1; malformed ones get 400', () => {
    const upgrade = validateExtendedConnect(
      request({ 'sec-websocket-protocol': 'chat, superchat', 'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits' }),
    );
    expect(upgrade.protocols).toEqual(['chat', 'superchat']);
    expect(upgrade.extensionOffers).toEqual([{ name: 'permessage-deflate', params: [{ name: 'client_max_window_bits', value: undefined }] }]);
    expect(refusal({ 'sec-websocket-protocol': 'a b' })).toMatchObject({ code: 'INVALID_PROTOCOL_HEADER', status: 400 });
    expect(refusal({ 'sec-websocket-extensions': ';' })).toMatchObject({ code: 'INVALID_EXTENSIONS_HEADER', status: 400 });
  });

  it('Sec-WebSocket-Key is not used; a valid one sent anyway is kept, an invalid one ignored', () => {
    const key = 'dGhlIHNhbXBsZSBub25jZQ==';
    expect(validateExtendedConnect(request({ 'sec-websocket-key': key })).key).toBe(key);
    expect(validateExtendedConnect(request({ 'sec-websocket-key': 'short' })).key).toBe('');
  });
});

describe('RFC 8441 §5: the response', () => {
  it('is a 200 with the agreed subprotocol and extensions, and no Accept without a key', () => {
    expect(buildConnectResponse({ key: '' })).toEqual({ ':status': 200 });
    expect(buildConnectResponse({ key: '', protocol: 'chat', extensions: 'permessage-deflate' })).toEqual({
      ':status': 200,
      'sec-websocket-protocol': 'chat',
      'sec-websocket-extensions': 'permessage-deflate',
    });
  });

  it('answers a key sent anyway with its Accept (RFC 6455 §4.2.2), for clients that check it', () => {
    const key = 'dGhlIHNhbXBsZSBub25jZQ==';
    expect(buildConnectResponse({ key })['sec-websocket-accept']).toBe(acceptKey(key));
    expect(acceptKey(key)).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  it('error responses: lower-case names, no connection-specific fields (RFC 9113 §8.2.2), no CR/LF', () => {
    expect(h2ResponseHeaders(426, { 'Sec-WebSocket-Version': '13', Connection: 'close', Upgrade: 'websocket', ':x': 'y' })).toEqual({
      ':status': 426,
      'sec-websocket-version': '13',
    });
    expect(() => h2ResponseHeaders(400, { 'X-Bad': 'a\r\nb' })).toThrow(TypeError);
    expect(h2ResponseHeaders(404)).toEqual({ ':status': 404 });
  });
});
