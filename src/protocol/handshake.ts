/**
 * RFC 6455 §4.2: the server's opening handshake. An incremental HTTP/1.1
 * request reader with size caps, the validation of §4.2.1, and the 101 or
 * error response of §4.2.2.
 */
import { createHash } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { HandshakeError } from './errors.js';
import { type ExtensionOffer, parseExtensions } from './extensions.js';

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

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([^\x00-\x20\x7f]+) HTTP\/(\d)\.(\d)$/;
// RFC 9110 §5.5: field values are visible characters, spaces, tabs and obs-text.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * Reads one HTTP/1.1 request head from bytes as they arrive. Throws a
 * HandshakeError as soon as the head breaks the syntax or a cap.
 */
export class RequestReader {
  /** Bytes that followed the head in the same chunk: the first frames. */
  rest: Buffer = Buffer.alloc(0);

  private readonly limits: Required<RequestLimits>;
  private buffered: Buffer = Buffer.alloc(0);
  private scanned = 0;
  private lineStart = 0;
  private requestLine: RegExpExecArray | undefined;
  private readonly headers = new Map<string, string[]>();
  private headerCount = 0;

  constructor(limits: RequestLimits = {}) {
    this.limits = { ...DEFAULT_REQUEST_LIMITS, ...limits };
  }

  /** Feed bytes. Returns the request once its head is complete. */
  push(chunk: Buffer): HttpRequest | undefined {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const data = this.buffered;
    // From lineStart, not past it: a bare LF that starts a chunk is still caught.
    for (let i = Math.max(this.scanned, this.lineStart); i < data.length; i++) {
      if (data[i] !== 0x0a) continue;
      if (data[i - 1] !== 0x0d) throw new HandshakeError('MALFORMED_REQUEST', 'line not ended by CRLF');
      const line = data.toString('latin1', this.lineStart, i - 1);
      this.lineStart = i + 1;
      if (line === '' && this.requestLine) {
        this.rest = data.subarray(i + 1);
        this.buffered = Buffer.alloc(0);
        const [, method, target, major, minor] = this.requestLine;
        return { method, target, httpVersion: `${major}.${minor}`, headers: this.headers };
      }
      this.takeLine(line);
    }
    this.scanned = data.length;
    this.checkCaps(data.length);
    return undefined;
  }

  private takeLine(line: string): void {
    if (!this.requestLine) {
      if (line.length > this.limits.maxRequestLine) this.tooLongRequestLine();
      const match = REQUEST_LINE.exec(line);
      if (!match) throw new HandshakeError('MALFORMED_REQUEST', 'malformed request line');
      this.requestLine = match;
      return;
    }
    this.checkCaps(this.lineStart);
    if (++this.headerCount > this.limits.maxHeaders) {
      throw new HandshakeError('HEADERS_TOO_LARGE', `more than ${this.limits.maxHeaders} header fields`);
    }
    // RFC 9112 §5: field-name ":" OWS field-value OWS; no obsolete folding.
    const colon = line.indexOf(':');
    const name = line.slice(0, colon);
    if (colon <= 0 || !TOKEN.test(name)) throw new HandshakeError('MALFORMED_REQUEST', 'malformed header field');
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (!FIELD_VALUE.test(value)) throw new HandshakeError('MALFORMED_REQUEST', `invalid characters in ${name}`);
    const key = name.toLowerCase();
    const values = this.headers.get(key);
    if (values) values.push(value);
    else this.headers.set(key, [value]);
  }

  private checkCaps(headBytes: number): void {
    if (!this.requestLine && headBytes > this.limits.maxRequestLine + 2) this.tooLongRequestLine();
    if (headBytes > this.limits.maxHeaderBytes) {
      throw new HandshakeError('HEADERS_TOO_LARGE', `request head over ${this.limits.maxHeaderBytes} bytes`);
    }
  }

  private tooLongRequestLine(): never {
    throw new HandshakeError('REQUEST_LINE_TOO_LONG', `request line over ${this.limits.maxRequestLine} bytes`);
  }
}

export interface UpgradePolicy {
  /** Only this path (the target without its query) is served; others get 404. */
  path?: string;
  /** Allowed Origin values; a request with another Origin gets 403. */
  origins?: readonly string[];
}

export interface UpgradeRequest {
  key: string;
  /** The request target, e.g. "/chat?room=1". */
  target: string;
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

/** Split a comma-separated field into its trimmed, non-empty elements (RFC 9110 §5.6.1). */
export function listElements(values: readonly string[] | undefined): string[] {
  const out: string[] = [];
  for (const value of values ?? []) {
    for (const part of value.split(',')) {
      const element = part.trim();
      if (element !== '') out.push(element);
    }
  }
  return out;
}

function hasToken(values: readonly string[] | undefined, token: string): boolean {
  return listElements(values).some((element) => element.toLowerCase() === token);
}

/** The value of a field that occurs exactly once, else undefined. */
export function single(headers: Map<string, string[]>, name: string): string | undefined {
  const values = headers.get(name);
  return values?.length === 1 ? values[0] : undefined;
}

// Base64 of exactly 16 bytes: 21 free characters, one whose low 4 bits are 0, "==".
export const KEY = /^[A-Za-z0-9+/]{21}[AQgw]==$/;

/** RFC 6455 §4.2.1: validate a client's opening handshake. Throws HandshakeError. */
export function validateUpgrade(request: HttpRequest, policy: UpgradePolicy = {}): UpgradeRequest {
  const { headers } = request;
  // RFC 6455 §4.2.1 item 1: HTTP/1.1 or higher.
  if (request.httpVersion < '1.1') {
    throw new HandshakeError('HTTP_VERSION_NOT_SUPPORTED', `HTTP/${request.httpVersion} cannot upgrade`);
  }
  // RFC 6455 §4.2.1 item 1: the method MUST be GET.
  if (request.method !== 'GET') {
    throw new HandshakeError('METHOD_NOT_ALLOWED', `method ${request.method} cannot upgrade`, { Allow: 'GET' });
  }
  // RFC 6455 §4.2.1 item 2 and RFC 9112 §3.2: exactly one Host.
  const host = single(headers, 'host');
  if (host === undefined) throw new HandshakeError('MISSING_HOST', 'exactly one Host header is required');
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
  return { key, host, ...validateWebSocketFields(request, policy) };
}

/** What both opening handshakes (RFC 6455 §4.2.1, RFC 8441 §5) check alike, after their own rules. */
export type WebSocketFields = Omit<UpgradeRequest, 'key' | 'host'>;

/**
 * The fields RFC 8441 §5 keeps from RFC 6455 §4.2.1: Origin, the resource
 * name, Sec-WebSocket-Protocol and Sec-WebSocket-Extensions. Throws HandshakeError.
 */
export function validateWebSocketFields(request: HttpRequest, policy: UpgradePolicy): WebSocketFields {
  const { headers } = request;
  const origins = headers.get('origin');
  const origin = single(headers, 'origin');
  // RFC 6455 §10.2: a server may refuse connections from origins it does not accept.
  // Several Origin fields are refused too: they must not hide a forbidden one.
  if (policy.origins && origins !== undefined && (origin === undefined || !policy.origins.includes(origin))) {
    throw new HandshakeError('FORBIDDEN_ORIGIN', `origin ${origin} is not allowed`);
  }
  if (policy.path !== undefined && request.target.split('?')[0] !== policy.path) {
    throw new HandshakeError('NOT_FOUND', `no WebSocket endpoint at ${request.target}`);
  }
  // RFC 6455 §4.2.1 item 8 and §11.3.4: a list of tokens.
  const protocols = listElements(headers.get('sec-websocket-protocol'));
  if (!protocols.every((p) => TOKEN.test(p))) {
    throw new HandshakeError('INVALID_PROTOCOL_HEADER', 'Sec-WebSocket-Protocol must be a list of tokens');
  }
  // RFC 6455 §9.1: a value that does not conform to the ABNF fails the handshake
  // (whether or not the server speaks any extension). Offers that parse but
  // mean nothing sensible are for the extension to decline (deflate.ts).
  const extensions = headers.get('sec-websocket-extensions') ?? [];
  const extensionOffers = parseExtensions(extensions);
  return {
    target: request.target,
    origin,
    protocols,
    extensions,
    extensionOffers,
    headers,
  };
}

/** RFC 6455 §4.2.2 item 5.4: base64(SHA-1(key + GUID)). */
export function acceptKey(key: string): string {
  return createHash('sha1').update(key + WEBSOCKET_GUID).digest('base64');
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
    throw new TypeError(`subprotocol "${chosen}" was not offered by the client`);
  }
  return chosen;
}

function headerLines(headers: Readonly<Record<string, string>>): string {
  let out = '';
  for (const [name, value] of Object.entries(headers)) {
    if (!TOKEN.test(name) || /[\r\n]/.test(value)) throw new TypeError(`invalid response header ${name}`);
    out += `${name}: ${value}\r\n`;
  }
  return out;
}

export interface AcceptResponse {
  key: string;
  protocol?: string;
  /** The Sec-WebSocket-Extensions value agreed, if any. */
  extensions?: string;
  headers?: Readonly<Record<string, string>>;
}

/** RFC 6455 §4.2.2 item 5: the 101 response that completes the handshake. */
export function buildAcceptResponse({ key, protocol, extensions, headers = {} }: AcceptResponse): Buffer {
  const fields: Record<string, string> = {
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Accept': acceptKey(key),
  };
  if (protocol !== undefined) fields['Sec-WebSocket-Protocol'] = protocol;
  if (extensions) fields['Sec-WebSocket-Extensions'] = extensions;
  return Buffer.from(`HTTP/1.1 101 Switching Protocols\r\n${headerLines({ ...fields, ...headers })}\r\n`, 'latin1');
}

/** RFC 6455 §4.2.2: a short HTTP error response; the connection closes after it. */
export function buildErrorResponse(
  status: number,
  body = STATUS_CODES[status] ?? '',
  headers: Readonly<Record<string, string>> = {},
): Buffer {
  return buildHttpResponse(status, errorText(status, body), { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
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
  return buildErrorResponse(error.status, error.message, error.headers);
}
