/**
 * RFC 8441: bootstrapping WebSockets with HTTP/2. The opening handshake is an
 * extended CONNECT request on one stream (§4, §5) and a 2xx answer; the
 * frames that follow are RFC 6455's, carried in DATA frames.
 *
 * Requests come as an HttpRequest whose `headers` hold the pseudo-header
 * fields (":method", ":protocol", ...) next to the regular ones.
 */
import { HandshakeError } from './errors.js';
import {
  type HttpRequest,
  KEY,
  type UpgradePolicy,
  type UpgradeRequest,
  WEBSOCKET_VERSION,
  acceptKey,
  headerMap,
  single,
  validateWebSocketFields,
} from './handshake.js';
import { checkResponseField, isTargetText, isValidHost, parseTarget } from './http.js';

/** RFC 8441 §3: the SETTINGS parameter a server sends to allow extended CONNECT. */
export const SETTINGS_ENABLE_CONNECT_PROTOCOL = 0x8;

/** RFC 9113 §8.2.2: fields that are specific to one HTTP/1.1 connection and malformed in HTTP/2. */
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

/**
 * RFC 8441 §4–5: validate an extended CONNECT request for a WebSocket.
 * Throws HandshakeError. The result's `key` is the client's
 * Sec-WebSocket-Key if it sent a valid one (RFC 8441 §5 does not use it), else ''.
 */
export function validateExtendedConnect(request: HttpRequest, policy: UpgradePolicy = {}): UpgradeRequest {
  const { headers } = request;
  // RFC 8441 §4: the WebSocket handshake is a CONNECT request.
  if (single(headers, ':method') !== 'CONNECT') {
    throw new HandshakeError('METHOD_NOT_ALLOWED', `method ${request.method} cannot open a WebSocket over HTTP/2`, {
      Allow: 'CONNECT',
    });
  }
  // RFC 8441 §4: with ":protocol"; without it, a CONNECT asks for a tunnel (RFC 9113 §8.5).
  const protocol = single(headers, ':protocol');
  if (protocol?.toLowerCase() !== 'websocket') {
    throw new HandshakeError('NOT_WEBSOCKET_CONNECT', `CONNECT with :protocol ${protocol ?? '(none)'} is not a WebSocket`);
  }
  // RFC 8441 §4: ":scheme" and ":path" MUST be included; RFC 9113 §8.5: and ":authority".
  for (const name of [':scheme', ':path', ':authority']) {
    if (!single(headers, name)) throw new HandshakeError('MISSING_PSEUDO_HEADER', `extended CONNECT needs one ${name}`);
  }
  // RFC 8441 §5 keeps RFC 6455 §4.2.1 item 6: a version we speak, or 426 naming it.
  if (single(headers, 'sec-websocket-version') !== WEBSOCKET_VERSION) {
    throw new HandshakeError('UNSUPPORTED_VERSION', 'sec-websocket-version must be 13', {
      'sec-websocket-version': WEBSOCKET_VERSION,
    });
  }
  // RFC 9113 §8.3.1: ":authority" is the target URI's authority.
  const host = single(headers, ':authority')!;
  if (!isValidHost(host)) throw new HandshakeError('INVALID_HOST', ':authority must be a host name or address and an optional port');
  // RFC 9113 §8.3.1: ":path" is the path and query of the target URI (origin-form, RFC 9112 §3.2.1).
  const target = single(headers, ':path')!;
  const parsed = isTargetText(target) ? parseTarget(target) : undefined;
  if (!parsed || parsed.authority !== undefined) throw new HandshakeError('INVALID_TARGET', `:path ${target} is not a path`);
  const key = single(headers, 'sec-websocket-key');
  return validateWebSocketFields({ ...request, target }, parsed.path, policy, key !== undefined && KEY.test(key) ? key : '', host);
}

export interface ConnectResponse {
  /** The client's Sec-WebSocket-Key, or '' if it sent none. */
  key: string;
  protocol?: string;
  /** The Sec-WebSocket-Extensions value agreed, if any. */
  extensions?: string;
}

/**
 * RFC 8441 §5: the 200 that completes the handshake, as HTTP/2 header fields.
 * Sec-WebSocket-Accept is not part of it; one is added only for a client that
 * sent a key anyway (undici checks it over HTTP/2 too).
 */
export function buildConnectResponse({ key, protocol, extensions }: ConnectResponse): Record<string, string | number> {
  const fields: Record<string, string | number> = { ':status': 200 };
  if (key !== '') fields['sec-websocket-accept'] = acceptKey(key);
  if (protocol !== undefined) fields['sec-websocket-protocol'] = protocol;
  if (extensions) fields['sec-websocket-extensions'] = extensions;
  return fields;
}

/**
 * HTTP/2 header fields for a response of `status` with `headers`: names in
 * lower case (RFC 9113 §8.2.1), connection-specific fields left out (§8.2.2).
 */
export function h2ResponseHeaders(status: number, headers: Readonly<Record<string, string>> = {}): Record<string, string | number> {
  const fields: Record<string, string | number> = { ':status': status };
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (lower.startsWith(':') || CONNECTION_SPECIFIC.has(lower)) continue;
    checkResponseField(name, value);
    fields[lower] = value;
  }
  return fields;
}

/** RFC 9113 §3.4: the client connection preface of HTTP/2 with prior knowledge. */
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/**
 * Tells an h2c connection (prior knowledge, RFC 9113 §3.3) from an HTTP/1.1
 * one by its first bytes: holds at most the preface's 24 bytes.
 */
export class PrefaceSniffer {
  private bytes: Buffer = Buffer.alloc(0);

  /** Feed bytes: 'h2' or 'http/1.1' once known (with every byte so far), else undefined. */
  push(chunk: Buffer): { transport: 'h2' | 'http/1.1'; bytes: Buffer } | undefined {
    this.bytes = this.bytes.length === 0 ? chunk : Buffer.concat([this.bytes, chunk]);
    const n = Math.min(this.bytes.length, PREFACE.length);
    if (!this.bytes.subarray(0, n).equals(PREFACE.subarray(0, n))) return { transport: 'http/1.1', bytes: this.bytes };
    return n === PREFACE.length ? { transport: 'h2', bytes: this.bytes } : undefined;
  }
}

/** An HttpRequest from HTTP/2 header fields as node:http2 gives them (flat name/value pairs). */
export function h2Request(rawHeaders: readonly string[]): HttpRequest {
  const headers = headerMap(rawHeaders);
  return {
    method: single(headers, ':method') ?? '',
    target: single(headers, ':path') ?? '',
    httpVersion: '2.0',
    headers,
  };
}
