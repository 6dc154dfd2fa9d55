/**
 * RFC 6455 §4.2.1 (reading the client's opening handshake) with the HTTP/1.1
 * message syntax of RFC 9112 §2-§5: the incremental request reader, its caps,
 * and the bytes that follow the head.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_REQUEST_LIMITS, HandshakeError, RequestReader } from '../src/protocol/index.js';
import { OP, binary, everyByte, frame, handshake, handshakeRequest, readRequest, receiveAll, splitAt, validHeaders } from './helpers.js';

/** Every cut position: the bytes one at a time. */

/** The valid headers plus filler fields, …: `total` fields in all. */
const fieldsTotal = (total: number) =>
  validHeaders().concat(Array.from({ length: total - validHeaders().length }, (_, i): [string, string] => [`X-${i}`, 'v']));

/** Push chunks until the reader throws; returns the error (fails if it never throws). */
function readError(bytes: Uint8Array, limits?: ConstructorParameters<typeof RequestReader>[0], cuts: number[] = []): HandshakeError {
  const reader = new RequestReader(limits);
  try {
    for (const chunk of splitAt(bytes, cuts)) reader.push(chunk);
  } catch (error) {
    if (error instanceof HandshakeError) return error;
    throw error;
  }
  throw new Error('no HandshakeError');
}

describe('RFC 9112 §3 / §5: parsing the request head', () => {
  it('returns method, target, version and lower-cased headers, each occurrence kept in order', () => {
    const { request } = readRequest(
      handshakeRequest({ target: '/chat?x=1', headers: [...validHeaders(), ['X-Multi', 'a'], ['x-multi', 'b']] }),
    );
    expect(request.method).toBe('GET');
    expect(request.target).toBe('/chat?x=1');
    expect(request.httpVersion).toBe('1.1');
    expect(request.headers.get('host')).toEqual(['server.example.com']);
    expect(request.headers.get('x-multi')).toEqual(['a', 'b']);
  });

  it('RFC 9110 §5.1: field names in any case, the usual ones and others, at every split of the head', () => {
    const bytes = handshakeRequest({
      headers: [
        ['HOST', 'a.example'],
        ['sEc-WebSocket-KEY', 'dGhlIHNhbXBsZSBub25jZQ=='],
        // Same length as known names, one character off: kept as they are, lower-cased.
        ['Hosx', '1'],
        ['Sec-WebSocket-Kez', '2'],
        ['Sec_WebSocket_Key', '3'],
        ['X-Other-Field', '4'],
      ],
    });
    for (let cut = 0; cut <= bytes.length; cut++) {
      const reader = new RequestReader();
      const request = reader.push(Buffer.from(bytes.subarray(0, cut))) ?? reader.push(Buffer.from(bytes.subarray(cut)));
      expect(request).toBeDefined();
      expect([...request!.headers]).toEqual([
        ['host', ['a.example']],
        ['sec-websocket-key', ['dGhlIHNhbXBsZSBub25jZQ==']],
        ['hosx', ['1']],
        ['sec-websocket-kez', ['2']],
        ['sec_websocket_key', ['3']],
        ['x-other-field', ['4']],
      ]);
    }
  });

  it('strips optional whitespace around field values, keeps inner whitespace and obs-text', () => {
    const { request } = readRequest(handshakeRequest({ rawLines: ['X-A: \t  a  b \t', 'X-B:', 'X-C:\xe9'] }));
    expect(request.headers.get('x-a')).toEqual(['a  b']);
    expect(request.headers.get('x-b')).toEqual(['']);
    expect(request.headers.get('x-c')).toEqual(['\xe9']);
  });

  it('returns undefined until the empty line arrives', () => {
    const bytes = handshakeRequest();
    const reader = new RequestReader();
    expect(reader.push(bytes.subarray(0, bytes.length - 1))).toBeUndefined();
    expect(reader.push(bytes.subarray(bytes.length - 1))?.method).toBe('GET');
  });

  const malformed: Array<[string, Buffer]> = [
    ['a request line without a version', Buffer.from('GET /chat\r\n\r\n')],
    ['a request line with two spaces', Buffer.from('GET  /chat HTTP/1.1\r\n\r\n')],
    ['a lower-case protocol name', Buffer.from('GET /chat http/1.1\r\n\r\n')],
    ['a two-digit minor version', Buffer.from('GET /chat HTTP/1.10\r\n\r\n')],
    ['a method that is not a token', Buffer.from('G(T /chat HTTP/1.1\r\n\r\n')],
    ['a control character in the target', Buffer.from('GET /ch\x01at HTTP/1.1\r\n\r\n')],
    ['a header line without a colon', handshakeRequest({ rawLines: ['NoColon'] })],
    ['a header line with an empty name', handshakeRequest({ rawLines: [': value'] })],
    ['whitespace between name and colon', handshakeRequest({ rawLines: ['X-A : value'] })],
    ['a name that is not a token', handshakeRequest({ rawLines: ['X(A): value'] })],
    ['obs-fold (a continuation line starting with SP)', handshakeRequest({ rawLines: ['X-A: one', ' two'] })],
    ['obs-fold (a continuation line starting with HTAB)', handshakeRequest({ rawLines: ['X-A: one', '\ttwo: 2'] })],
    ['a NUL in a field value', handshakeRequest({ rawLines: ['X-A: a\x00b'] })],
    ['a bare CR in a field value', handshakeRequest({ rawLines: ['X-A: a\rb'] })],
    ['a DEL in a field value', handshakeRequest({ rawLines: ['X-A: a\x7fb'] })],
    ['a bare LF ending the request line', Buffer.from('GET /chat HTTP/1.1\nHost: h\r\n\r\n')],
    ['a bare LF ending a header line', Buffer.from('GET /chat HTTP/1.1\r\nHost: h\nX: y\r\n\r\n')],
    ['a bare LF ending the head', Buffer.from('GET /chat HTTP/1.1\r\nHost: h\r\n\n')],
    ['a bare LF as the first byte', Buffer.from('\nGET /chat HTTP/1.1\r\n\r\n')],
  ];

  it.each(malformed)('400 for %s, however the bytes are split', (_, bytes) => {
    for (const cuts of [[], everyByte(bytes)]) {
      const error = readError(bytes, undefined, cuts);
      expect([error.status, error.code]).toEqual([400, 'MALFORMED_REQUEST']);
    }
  });

  it('RFC 9112 §2.2: ignores empty lines before the request line, however the bytes are split', () => {
    const bytes = Buffer.concat([Buffer.from('\r\n\r\n'), handshakeRequest()]);
    for (const cuts of [[], everyByte(bytes)]) {
      expect(readRequest(bytes, undefined, cuts).request).toMatchObject({ method: 'GET', target: '/chat' });
    }
  });

  it('counts those empty lines against maxHeaderBytes (431), and a bare LF among them is still 400', () => {
    const head = handshakeRequest();
    const limits = { maxHeaderBytes: head.length + 4 };
    expect(readRequest(Buffer.concat([Buffer.from('\r\n\r\n'), head]), limits).request.method).toBe('GET');
    const endless = Buffer.from('\r\n'.repeat(3));
    expect(readError(Buffer.concat([endless, head]), limits).status).toBe(431);
    expect(readError(Buffer.from('\r\n'.repeat(10_000))).status).toBe(431);
    expect(readError(Buffer.from('\r\n\n')).status).toBe(400);
  });

  it('400 for a bare LF at the start of a chunk that starts a line', () => {
    const reader = new RequestReader();
    reader.push(Buffer.from('GET /chat HTTP/1.1\r\nHost: h\r\n'));
    expect(() => reader.push(Buffer.from('\n'))).toThrow(expect.objectContaining({ status: 400 }));
  });
});

describe('caps on the request head (RFC 9110 §15.5.15, RFC 6585 §5)', () => {
  const limits = { maxRequestLine: 64, maxHeaders: 8, maxHeaderBytes: 512 };
  const longTarget = (n: number) => `/${'a'.repeat(n - 1)}`;
  // "GET " + target + " HTTP/1.1": 13 bytes besides the target.
  const lineOf = (length: number) => handshakeRequest({ target: longTarget(length - 13) });

  it('accepts a request line of exactly maxRequestLine bytes', () => {
    expect(readRequest(lineOf(64), limits).request.target.length).toBe(64 - 13);
  });

  it('414 for a request line one byte over, whole or split, and before its end arrives', () => {
    const bytes = lineOf(65);
    for (const cuts of [[], everyByte(bytes)]) expect(readError(bytes, limits, cuts).status).toBe(414);
    // No CRLF yet: the reader must not wait for the end of an overlong line.
    expect(readError(Buffer.from(`GET /${'a'.repeat(100)}`), limits).code).toBe('REQUEST_LINE_TOO_LONG');
  });

  it('accepts maxHeaders header fields, 431 for one more', () => {
    const fields = (n: number) => handshakeRequest({ headers: fieldsTotal(n) });
    expect(readRequest(fields(8), limits).request.headers.size).toBe(8);
    const error = readError(fields(9), limits);
    expect([error.status, error.code]).toEqual([431, 'HEADERS_TOO_LARGE']);
  });

  it('431 when the head passes maxHeaderBytes, whole, split, or still incomplete', () => {
    const big = handshakeRequest({ rawLines: [`X-Big: ${'b'.repeat(600)}`] });
    for (const cuts of [[], [100, 300]]) expect(readError(big, limits, cuts).status).toBe(431);
    // A header that never ends: caught once the buffered bytes pass the cap.
    const endless = Buffer.from(`GET / HTTP/1.1\r\nX: ${'b'.repeat(600)}`);
    expect(readError(endless, limits).status).toBe(431);
  });

  it('accepts a head of exactly maxHeaderBytes, 431 once the header lines pass it', () => {
    // A head of `total` bytes: one extra field "X: bbb…" (its line is n + 5 bytes with CRLF).
    const headOf = (total: number) => {
      const n = total - handshakeRequest().length - 5;
      return handshakeRequest({ rawLines: [`X: ${'b'.repeat(n)}`] });
    };
    expect(headOf(512).length).toBe(512);
    expect(readRequest(headOf(512), limits).request.headers.has('x')).toBe(true);
    expect(readRequest(headOf(512), limits, [200, 511]).request.headers.has('x')).toBe(true);
    // The header lines end at byte 513 (the final CRLF follows): over the cap.
    expect(readError(headOf(515), limits).status).toBe(431);
  });

  it('has documented defaults: 8 KiB request line, 100 fields, 16 KiB of head', () => {
    expect(DEFAULT_REQUEST_LIMITS).toEqual({ maxRequestLine: 8192, maxHeaders: 100, maxHeaderBytes: 16384 });
    const many = handshakeRequest({ headers: fieldsTotal(101) });
    expect(readError(many).status).toBe(431);
    expect(readError(handshakeRequest({ target: longTarget(8192) })).status).toBe(414);
  });
});

describe('bytes after the head (the first frames, pipelined)', () => {
  const head = handshakeRequest();
  const frames = Buffer.concat([binary(Buffer.from([1, 2, 3])), frame({ opcode: OP.TEXT, payload: 'hi' })]);
  const stream = Buffer.concat([head, frames]);

  it('are left in reader.rest when they share the chunk with the head', () => {
    const { reader } = readRequest(stream);
    expect(reader.rest).toEqual(frames);
  });

  it('are left in reader.rest when the head arrives byte by byte', () => {
    const reader = new RequestReader();
    for (let i = 0; i < head.length - 1; i++) expect(reader.push(head.subarray(i, i + 1))).toBeUndefined();
    expect(reader.push(Buffer.concat([head.subarray(-1), frames]))).toBeDefined();
    expect(reader.rest).toEqual(frames);
  });

  it('are exactly the bytes after the head at every split of the stream', () => {
    for (const cut of everyByte(stream)) {
      const reader = new RequestReader();
      const first = reader.push(Buffer.from(stream.subarray(0, cut)));
      if (first) {
        // The head was complete in the first chunk: rest holds what followed.
        expect(cut).toBeGreaterThanOrEqual(head.length);
        expect(reader.rest).toEqual(stream.subarray(head.length, cut));
      } else {
        expect(cut).toBeLessThan(head.length);
        expect(reader.push(Buffer.from(stream.subarray(cut)))).toBeDefined();
        expect(reader.rest).toEqual(frames);
      }
    }
  });

  it('is empty when nothing follows, and decodes to the pipelined messages', () => {
    expect(readRequest(head).reader.rest.length).toBe(0);
    const recorder = receiveAll(readRequest(stream).reader.rest);
    expect(recorder.received.map((e) => (e.type === 'message' ? e.data.toString('latin1') : e.type))).toEqual(['\x01\x02\x03', 'hi']);
  });

  it('a complete, valid handshake split byte by byte is accepted', () => {
    expect(handshake(head, undefined, undefined, everyByte(head)).status).toBe(101);
  });
});
