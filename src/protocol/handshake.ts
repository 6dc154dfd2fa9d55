/**
 * RFC 6455 §4.2: the server's opening handshake. An incremental HTTP/1.1
 * request reader with size caps, the validation of §4.2.1, and the 101 or
 * error response of §4.2.2.
 */
import * as crypto from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { ArgumentTypeError, type HandshakeFailureCode, HandshakeError } from './errors.js';
import { type ExtensionOffer, parseExtensions } from './extensions.js';
import { EMPTY_BUFFER } from './frame.js';
import {
  checkResponseField,
  type RequestLine,
  isDigits,
  isFieldValue,
  isOws,
  isTchar,
  isToken,
  isValidHost,
  parseRequestLine,
  parseTarget,
  trimOws,
} from './http.js';

/** RFC 6455 §1.3: the GUID appended to the key. */
export const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** RFC 6455 §4.2.2: the only version this server speaks. */
export const WEBSOCKET_VERSION = '13';

export interface HttpRequest {
  method: string;
  target: string;
  /** e.g. "1.1" */
  httpVersion: string;
  /** Lower-cased field names; each occurrence of a field is kept in order. */
  headers: Map<string, string[]>;
}

export interface RequestLimits {
  /** Longest request line in bytes (414 beyond). */
  maxRequestLine?: number;
  /** Most header fields (431 beyond). */
  maxHeaders?: number;
  /** Most bytes in the whole request head, request line included (431 beyond). */
  maxHeaderBytes?: number;
}

export const DEFAULT_REQUEST_LIMITS: Required<RequestLimits> = {
  maxRequestLine: 8 * 1024,
  maxHeaders: 100,
  maxHeaderBytes: 16 * 1024,
};

/**
 * Reads one HTTP/1.1 request head from bytes as they arrive. Throws a
 * HandshakeError as soon as the head breaks the syntax or a cap. Linear in
 * the bytes received however they are split: each byte is scanned once, and
 * only a line cut by a chunk boundary is copied, into a buffer that grows
 * geometrically up to maxHeaderBytes.
 */
export class RequestReader {
  /** Bytes that followed the head in the same chunk: the first frames. */
  rest: Buffer = EMPTY_BUFFER;

  // The caps, as numbers of their own: no limits object per request.
  private readonly maxRequestLine: number;
  private readonly maxHeaders: number;
  private readonly maxHeaderBytes: number;
  /** The start of a line that a chunk boundary cut, copied: `partial[0, partialLength)`. */
  private partial: Buffer = EMPTY_BUFFER;
  private partialLength = 0;
  /** Bytes of the head taken so far, the partial line included. */
  private headBytes = 0;
  private requestLine: RequestLine | undefined;
  private readonly headers = new Map<string, string[]>();
  private headerCount = 0;

  constructor(limits: RequestLimits = {}) {
    // A limit given as undefined means its default, never "no limit".
    this.maxRequestLine = limits.maxRequestLine ?? DEFAULT_REQUEST_LIMITS.maxRequestLine;
    this.maxHeaders = limits.maxHeaders ?? DEFAULT_REQUEST_LIMITS.maxHeaders;
    this.maxHeaderBytes = limits.maxHeaderBytes ?? DEFAULT_REQUEST_LIMITS.maxHeaderBytes;
  }

  /** Feed bytes. Returns the request once its head is complete. */
  push(chunk: Buffer): HttpRequest | undefined {
    let pos = 0;
    while (pos < chunk.length) {
      const lf = chunk.indexOf(0x0a, pos);
      if (lf === -1) {
        this.keep(chunk.subarray(pos));
        return undefined;
      }
      // RFC 9112 §2.2: lines end with CRLF; the CR may be the last byte kept.
      const cr = lf > pos ? chunk[lf - 1] : this.partial[this.partialLength - 1];
      if (cr !== 0x0d) this.fail('MALFORMED_REQUEST', 'line not ended by CRLF');
      // The line without its CRLF: buf[start, end).
      let buf = chunk;
      let start = pos;
      let end = lf - 1;
      if (this.partialLength === 0) {
        this.take(lf - pos, 1);
      } else {
        this.keep(chunk.subarray(pos, lf), 1);
        buf = this.partial;
        start = 0;
        end = this.partialLength - 1;
        this.partialLength = 0;
      }
      pos = lf + 1;
      if (end > start) {
        this.takeLine(buf, start, end);
      } else if (this.requestLine) {
        this.partial = EMPTY_BUFFER;
        this.rest = chunk.subarray(pos);
        const { method, target, httpVersion } = this.requestLine;
        return { method, target, httpVersion, headers: this.headers };
      }
      // RFC 9112 §2.2: empty lines before the request line are ignored (they count against maxHeaderBytes).
    }
    return undefined;
  }

  /**
   * Count `bytes` of the current line (CR included) and `ended` more (its LF)
   * against the caps.
   */
  private take(bytes: number, ended = 0): void {
    // RFC 9110 §15.5.15: a request line over the cap, complete or not (+1: its CR).
    if (!this.requestLine && this.partialLength + bytes > this.maxRequestLine + 1) this.tooLongRequestLine();
    this.headBytes += bytes + ended;
    // RFC 6585 §5: the whole head, empty lines and the final CRLF included.
    if (this.headBytes > this.maxHeaderBytes) {
      this.fail('HEADERS_TOO_LARGE', `request head over ${this.maxHeaderBytes} bytes`);
    }
  }

  /** Copy bytes of a line that a chunk boundary cut, once they are counted. */
  private keep(bytes: Buffer, ended = 0): void {
    this.take(bytes.length, ended);
    const needed = this.partialLength + bytes.length;
    if (needed > this.partial.length) {
      // Geometric growth: each byte is copied a constant number of times on average.
      const size = Math.min(Math.max(needed, 2 * this.partial.length, 256), this.maxHeaderBytes);
      const grown = Buffer.allocUnsafe(size);
      this.partial.copy(grown, 0, 0, this.partialLength);
      this.partial = grown;
    }
    bytes.copy(this.partial, this.partialLength);
    this.partialLength = needed;
  }

  /** A line of the head, buf[start, end) without its CRLF. Only the field value becomes a string of its own. */
  private takeLine(buf: Buffer, start: number, end: number): void {
    if (!this.requestLine) {
      this.requestLine = parseRequestLine(buf.toString('latin1', start, end));
      if (!this.requestLine) this.fail('MALFORMED_REQUEST', 'malformed request line');
      return;
    }
    if (++this.headerCount > this.maxHeaders) {
      this.fail('HEADERS_TOO_LARGE', `more than ${this.maxHeaders} header fields`);
    }
    // RFC 9112 §5: field-name ":" OWS field-value OWS; no obsolete folding.
    let colon = start;
    while (colon < end && isTchar(buf[colon])) colon++;
    if (colon === start || colon === end || buf[colon] !== 0x3a) this.fail('MALFORMED_REQUEST', 'malformed header field');
    const key = fieldName(buf, start, colon);
    let from = colon + 1;
    let to = end;
    while (from < to && isOws(buf[from])) from++;
    while (to > from && isOws(buf[to - 1])) to--;
    const value = buf.toString('latin1', from, to);
    if (!isFieldValue(value)) this.fail('MALFORMED_REQUEST', `invalid characters in ${key}`);
    const values = this.headers.get(key);
    if (values) values.push(value);
    else this.headers.set(key, [value]);
  }

  private tooLongRequestLine(): never {
    this.fail('REQUEST_LINE_TOO_LONG', `request line over ${this.maxRequestLine} bytes`);
  }

  /** RFC 9110 §9.3.2: once the method is known to be HEAD, the error answer has no body. */
  private fail(code: HandshakeFailureCode, message: string): never {
    throw new HandshakeError(code, message, {}, this.requestLine?.method === 'HEAD');
  }
}

/** Field names a handshake usually carries, by length: read without a string of their own. */
const KNOWN_FIELDS: string[][] = [];
for (const name of [
  'host',
  'upgrade',
  'connection',
  'origin',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-extensions',
  'sec-websocket-protocol',
  'user-agent',
  'pragma',
  'cache-control',
  'accept-encoding',
  'accept-language',
  'cookie',
  'authorization',
  'content-length',
  'transfer-encoding',
]) {
  (KNOWN_FIELDS[name.length] ??= []).push(name);
}

/**
 * A field name, buf[start, end) (tchars only), lower-cased (RFC 9110 §5.1:
 * case-insensitive). A tchar ORed with 0x20 is a lower-case letter or "-"
 * only if it was that letter in either case, or "-".
 */
function fieldName(buf: Buffer, start: number, end: number): string {
  const candidates = KNOWN_FIELDS[end - start];
  if (candidates) {
    for (const name of candidates) {
      let i = 0;
      while (i < name.length && (buf[start + i] | 0x20) === name.charCodeAt(i)) i++;
      if (i === name.length) return name;
    }
  }
  return buf.toString('latin1', start, end).toLowerCase();
}

export interface UpgradePolicy {
  /** Only this path (the target without its query) is served; others get 404. */
  path?: string;
  /** Allowed Origin values; a request with another Origin gets 403. */
  origins?: readonly string[];
}

export interface UpgradeRequest {
  key: string;
  /** The request target as received, e.g. "/chat?room=1" or "http://example.com/chat". */
  target: string;
  /** Its path without the query (RFC 9112 §3.2), e.g. "/chat". */
  path: string;
  /** The Host, or the authority of an absolute-form target (RFC 9112 §3.2.2). */
  host: string;
  origin: string | undefined;
  /** Sec-WebSocket-Protocol values offered, in order (RFC 6455 §4.2.1 item 8). */
  protocols: string[];
  /** Sec-WebSocket-Extensions field values as received (RFC 6455 §9.1). */
  extensions: string[];
  /** The same, parsed: every extension offered, in the client's order of preference. */
  extensionOffers: ExtensionOffer[];
  headers: Map<string, string[]>;
}

/**
 * The path of a request target, origin-form or absolute-form (RFC 9112
 * §3.2), without its query; undefined for a target that is neither.
 */
export function requestPath(target: string): string | undefined {
  return parseTarget(target)?.path;
}

/**
 * RFC 9110 §5.6.1: visit each trimmed, non-empty element of a comma-separated
 * field, in order, until `visit(element, arg)` returns true; true if it did.
 * No arrays built, and no closure: `arg` is what the visitor needs.
 */
function someElement<A>(values: readonly string[] | undefined, visit: (element: string, arg: A) => boolean, arg: A): boolean {
  if (values === undefined) return false;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    for (let start = 0; start <= value.length; ) {
      let end = value.indexOf(',', start);
      if (end === -1) end = value.length;
      const element = trimOws(value, start, end);
      if (element !== '' && visit(element, arg)) return true;
      start = end + 1;
    }
  }
  return false;
}

function pushElement(element: string, out: string[]): boolean {
  out.push(element);
  return false;
}

function isElement(element: string, token: string): boolean {
  return element.length === token.length && element.toLowerCase() === token;
}

/** Split a comma-separated field into its trimmed, non-empty elements (RFC 9110 §5.6.1). */
export function listElements(values: readonly string[] | undefined): string[] {
  const out: string[] = [];
  someElement(values, pushElement, out);
  return out;
}

/** Whether a comma-separated field lists `token` (lower case), in any case. */
function hasToken(values: readonly string[] | undefined, token: string): boolean {
  return someElement(values, isElement, token);
}

/** Header fields given as flat name/value pairs (node's rawHeaders), by lower-cased name, in order. */
export function headerMap(raw: readonly string[]): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    const values = headers.get(name);
    if (values) values.push(raw[i + 1]);
    else headers.set(name, [raw[i + 1]]);
  }
  return headers;
}

/** The value of a field that occurs exactly once, else undefined. */
export function single(headers: Map<string, string[]>, name: string): string | undefined {
  const values = headers.get(name);
  return values?.length === 1 ? values[0] : undefined;
}

// Base64 of exactly 16 bytes: 21 free characters, one whose low 4 bits are 0, "==".
export const KEY = /^[A-Za-z0-9+/]{21}[AQgw]==$/;

/**
 * RFC 9112 §6.3: the request's framing must be unambiguous (else 400):
 * Content-Length is one field holding one 1*DIGIT value, and does not come
 * with Transfer-Encoding.
 */
function checkFraming(headers: Map<string, string[]>): void {
  const length = headers.get('content-length');
  if (length === undefined) return;
  if (headers.has('transfer-encoding')) {
    throw new HandshakeError('INVALID_MESSAGE_LENGTH', 'Content-Length together with Transfer-Encoding');
  }
  // RFC 9110 §8.6 lets a recipient reject repeated values, even equal ones: we do.
  if (length.length !== 1 || !isDigits(length[0])) {
    throw new HandshakeError('INVALID_MESSAGE_LENGTH', 'Content-Length must be one decimal number');
  }
}

/**
 * RFC 6455 §4.1: the upgrade request is a GET with no content; bytes after
 * its head are WebSocket frames. Content-Length: 0 says so and is allowed;
 * anything that announces content is refused, or the content would be read as frames.
 */
function checkNoContent(headers: Map<string, string[]>): void {
  const length = headers.get('content-length')?.[0];
  if (headers.has('transfer-encoding') || (length !== undefined && Number(length) !== 0)) {
    throw new HandshakeError('UNEXPECTED_CONTENT', 'an upgrade request has no content');
  }
}

/** RFC 6455 §4.2.1: validate a client's opening handshake. Throws HandshakeError. */
export function validateUpgrade(request: HttpRequest, policy: UpgradePolicy = {}): UpgradeRequest {
  try {
    return checkUpgrade(request, policy);
  } catch (error) {
    // RFC 9110 §9.3.2: the answer to HEAD has no content.
    if (error instanceof HandshakeError && request.method === 'HEAD') {
      throw new HandshakeError(error.code, error.message, { ...error.headers }, true);
    }
    throw error;
  }
}

function checkUpgrade(request: HttpRequest, policy: UpgradePolicy): UpgradeRequest {
  const { headers } = request;
  // RFC 6455 §4.2.1 item 1: HTTP/1.1 or higher.
  if (request.httpVersion < '1.1') {
    throw new HandshakeError('HTTP_VERSION_NOT_SUPPORTED', `HTTP/${request.httpVersion} cannot upgrade`);
  }
  checkFraming(headers);
  // RFC 6455 §4.2.1 item 1: the method MUST be GET.
  if (request.method !== 'GET') {
    throw new HandshakeError('METHOD_NOT_ALLOWED', `method ${request.method} cannot upgrade`, { Allow: 'GET' });
  }
  // RFC 6455 §4.2.1 item 2 and RFC 9112 §3.2: exactly one Host, a valid uri-host [":" port].
  const hostField = single(headers, 'host');
  if (hostField === undefined) throw new HandshakeError('MISSING_HOST', 'exactly one Host header is required');
  if (!isValidHost(hostField)) throw new HandshakeError('INVALID_HOST', 'Host must be a host name or address and an optional port');
  // RFC 9112 §3.2: origin-form or absolute-form.
  const target = parseTarget(request.target);
  if (!target) throw new HandshakeError('INVALID_TARGET', `request target ${request.target} is not a path or an absolute URI`);
  // RFC 9112 §3.2.2: with an absolute-form target, its authority is the host and Host is ignored.
  const host = target.authority ?? hostField;
  checkNoContent(headers);
  // RFC 6455 §4.2.1 item 3.
  if (!hasToken(headers.get('upgrade'), 'websocket')) {
    // RFC 9110 §15.5.22 and §7.8: a 426 names the protocol in Upgrade and
    // lists "upgrade" in Connection; "close" because we close after it.
    throw new HandshakeError('UPGRADE_REQUIRED', 'Upgrade must include "websocket"', {
      Upgrade: 'websocket',
      Connection: 'Upgrade, close',
    });
  }
  // RFC 6455 §4.2.1 item 4.
  if (!hasToken(headers.get('connection'), 'upgrade')) {
    throw new HandshakeError('INVALID_CONNECTION_HEADER', 'Connection must include "Upgrade"');
  }
  // RFC 6455 §4.2.1 item 6 and §4.2.2: a version we speak, or 426 naming it.
  if (single(headers, 'sec-websocket-version') !== WEBSOCKET_VERSION) {
    throw new HandshakeError('UNSUPPORTED_VERSION', 'Sec-WebSocket-Version must be 13', {
      'Sec-WebSocket-Version': WEBSOCKET_VERSION,
    });
  }
  // RFC 6455 §4.2.1 item 5: a nonce of 16 bytes, base64-encoded.
  const key = single(headers, 'sec-websocket-key');
  if (key === undefined || !KEY.test(key)) {
    throw new HandshakeError('INVALID_KEY', 'Sec-WebSocket-Key must be one base64 value of 16 bytes');
  }
  return validateWebSocketFields(request, target.path, policy, key, host);
}

/**
 * The fields RFC 8441 §5 keeps from RFC 6455 §4.2.1: Origin, the resource
 * name (`path`, the target's path without its query), Sec-WebSocket-Protocol
 * and Sec-WebSocket-Extensions; checked alike by both opening handshakes
 * (RFC 6455 §4.2.1, RFC 8441 §5) after their own rules, with the `key` and
 * `host` those found. Throws HandshakeError.
 */
export function validateWebSocketFields(request: HttpRequest, path: string, policy: UpgradePolicy, key: string, host: string): UpgradeRequest {
  const { headers } = request;
  const origins = headers.get('origin');
  const origin = single(headers, 'origin');
  // RFC 6455 §10.2: a server may refuse connections from origins it does not accept.
  // Several Origin fields are refused too: they must not hide a forbidden one.
  if (policy.origins && origins !== undefined && (origin === undefined || !policy.origins.includes(origin))) {
    throw new HandshakeError('FORBIDDEN_ORIGIN', `origin ${origin} is not allowed`);
  }
  if (policy.path !== undefined && path !== policy.path) {
    throw new HandshakeError('NOT_FOUND', `no WebSocket endpoint at ${request.target}`);
  }
  // RFC 6455 §4.2.1 item 8 and §11.3.4: a list of tokens.
  const protocols = listElements(headers.get('sec-websocket-protocol'));
  if (!protocols.every(isToken)) {
    throw new HandshakeError('INVALID_PROTOCOL_HEADER', 'Sec-WebSocket-Protocol must be a list of tokens');
  }
  // RFC 6455 §9.1: a value that does not conform to the ABNF fails the handshake
  // (whether or not the server speaks any extension). Offers that parse but
  // mean nothing sensible are for the extension to decline (deflate.ts).
  const extensions = headers.get('sec-websocket-extensions') ?? [];
  const extensionOffers = parseExtensions(extensions);
  return {
    key,
    host,
    target: request.target,
    path,
    origin,
    protocols,
    extensions,
    extensionOffers,
    headers,
  };
}

/** crypto.hash (Node 20.12+): a one-shot digest without a Hash object. */
const oneShotHash: ((algorithm: string, data: string, encoding: 'base64') => string) | undefined = (
  crypto as { hash?: (algorithm: string, data: string, encoding: 'base64') => string }
).hash;

/** RFC 6455 §4.2.2 item 5.4: base64(SHA-1(key + GUID)). */
export function acceptKey(key: string): string {
  if (oneShotHash) return oneShotHash('sha1', key + WEBSOCKET_GUID, 'base64');
  return crypto.createHash('sha1').update(key + WEBSOCKET_GUID).digest('base64');
}

/**
 * Call the server's subprotocol selector. It may only pick one the client
 * offered (RFC 6455 §4.2.2 item 5.5); returning nothing selects none.
 */
export function selectProtocol(
  offered: readonly string[],
  select: ((offered: readonly string[]) => string | false | null | undefined) | undefined,
): string | undefined {
  if (!select || offered.length === 0) return undefined;
  const chosen = select(offered);
  if (chosen === false || chosen === null || chosen === undefined) return undefined;
  if (!offered.includes(chosen)) {
    throw new ArgumentTypeError('INVALID_HOOK_RESULT', `subprotocol "${chosen}" was not offered by the client`);
  }
  return chosen;
}

/** Response header fields, by name or as [name, value] pairs (a name may then repeat, e.g. Set-Cookie). */
export type ResponseHeaders = Readonly<Record<string, string>> | ReadonlyArray<readonly [string, string]>;

const entries = (headers: ResponseHeaders) => (Array.isArray(headers) ? headers : Object.entries(headers));

function headerLines(headers: ResponseHeaders): string {
  let out = '';
  for (const [name, value] of entries(headers)) {
    checkResponseField(name, value);
    out += `${name}: ${value}\r\n`;
  }
  return out;
}

export interface AcceptResponse {
  key: string;
  protocol?: string;
  /** The Sec-WebSocket-Extensions value agreed, if any. */
  extensions?: string;
  /** More header fields, e.g. from the server's 'headers' event. */
  headers?: ResponseHeaders;
}

const ACCEPT_HEAD = Buffer.from('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ', 'latin1');
const CRLF = '\r\n';
const CRLF_CRLF = '\r\n\r\n';

/** RFC 6455 §4.2.2 item 5: the 101 response that completes the handshake. */
export function buildAcceptResponse({ key, protocol, extensions, headers }: AcceptResponse): Buffer {
  // Our own fields are written as they are; every other one is checked (RFC 9110 §5.1, §5.5).
  let rest = CRLF_CRLF;
  if (protocol !== undefined || extensions || headers) {
    rest = CRLF;
    if (protocol !== undefined) rest += headerLines([['Sec-WebSocket-Protocol', protocol]]);
    if (extensions) rest += headerLines([['Sec-WebSocket-Extensions', extensions]]);
    if (headers) rest += headerLines(headers);
    rest += CRLF;
  }
  // One buffer, the fixed head copied in: no string of the whole response.
  const accept = acceptKey(key);
  const response = Buffer.allocUnsafe(ACCEPT_HEAD.length + accept.length + rest.length);
  ACCEPT_HEAD.copy(response, 0);
  response.write(accept, ACCEPT_HEAD.length, 'latin1');
  response.write(rest, ACCEPT_HEAD.length + accept.length, 'latin1');
  return response;
}

/**
 * RFC 6455 §4.2.2: a short HTTP error response; the connection closes after
 * it. `headRequest`: RFC 9110 §9.3.2, the answer to HEAD is the same head as
 * to GET, Content-Length included, without the content.
 */
export function buildErrorResponse(
  status: number,
  body = STATUS_CODES[status] ?? '',
  headers: Readonly<Record<string, string>> = {},
  headRequest = false,
): Buffer {
  return buildHttpResponse(status, errorText(status, body), { 'Content-Type': 'text/plain; charset=utf-8', ...headers }, headRequest);
}

/** The text/plain body of an error response: `body` (or the reason phrase) and a newline. */
export function errorText(status: number, body = STATUS_CODES[status] ?? ''): string {
  return body.endsWith('\n') || body === '' ? body : `${body}\n`;
}

/**
 * A whole HTTP/1.1 response, after which the server closes the connection
 * (one request per connection). `omitBody` answers a HEAD request.
 */
export function buildHttpResponse(
  status: number,
  body: string | Uint8Array = '',
  headers: Readonly<Record<string, string>> = {},
  omitBody = false,
): Buffer {
  const payload = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const fields = { Connection: 'close', ...headers, 'Content-Length': String(payload.length) };
  const head = Buffer.from(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n${headerLines(fields)}\r\n`, 'latin1');
  return omitBody ? head : Buffer.concat([head, payload]);
}

/** The error response for a rejected handshake. */
export function rejectResponse(error: HandshakeError): Buffer {
  return buildErrorResponse(error.status, error.message, error.headers, error.headRequest);
}
