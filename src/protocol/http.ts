/**
 * RFC 9110 and RFC 9112: the pieces of HTTP/1.1 syntax the opening handshake
 * reads from the network. Each is one left-to-right scan with no regular
 * expression, so its time is linear in its input (docs/security.md).
 */
import { isIPv6 } from 'node:net';
import { ArgumentTypeError } from './errors.js';

// RFC 9110 §5.6.2: tchar.
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;

/** RFC 9110 §5.6.2: a tchar. */
export function isTchar(code: number): boolean {
  return code < 128 && TCHAR[code] === 1;
}

/** True if `s` is a non-empty token (RFC 9110 §5.6.2). */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isTchar(s.charCodeAt(i))) return false;
  return true;
}

/** RFC 9110 §5.6.3: OWS is spaces and horizontal tabs. */
export function isOws(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/**
 * `s` (or its part from `start` to `end`) without leading and trailing OWS
 * (RFC 9110 §5.6.3); inner whitespace is kept.
 */
export function trimOws(s: string, start = 0, end = s.length): string {
  while (start < end && isOws(s.charCodeAt(start))) start++;
  while (end > start && isOws(s.charCodeAt(end - 1))) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/** RFC 9110 §5.5: a field value is VCHAR, SP, HTAB and obs-text (a latin1 string). */
export function isFieldValue(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 0x09 && (c < 0x20 || c === 0x7f || c > 0xff)) return false;
  }
  return true;
}

/** RFC 9110 §5.1, §5.5: a header field the caller gives us to send needs a token name and a field value (no CR or LF). */
export function checkResponseField(name: string, value: unknown): void {
  if (!isToken(name) || typeof value !== 'string' || !isFieldValue(value)) {
    throw new ArgumentTypeError('INVALID_HEADER', `invalid response header ${JSON.stringify(name)}`);
  }
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

/** 1*DIGIT (RFC 5234 B.1). */
export function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isDigit(s.charCodeAt(i))) return false;
  return true;
}

export interface RequestLine {
  method: string;
  target: string;
  /** e.g. "1.1" */
  httpVersion: string;
}

/** A non-empty request target of visible characters (obs-text allowed, no controls or spaces). */
export function isTargetText(target: string): boolean {
  if (target.length === 0) return false;
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f) return false;
  }
  return true;
}

/**
 * RFC 9112 §3: `method SP request-target SP HTTP-version`, single spaces,
 * a target of visible characters (obs-text allowed, no controls or spaces).
 * Undefined if the line is malformed.
 */
export function parseRequestLine(line: string): RequestLine | undefined {
  const first = line.indexOf(' ');
  if (first <= 0) return undefined;
  const second = line.indexOf(' ', first + 1);
  if (second === -1) return undefined;
  const method = line.slice(0, first);
  const target = line.slice(first + 1, second);
  const version = line.slice(second + 1);
  if (!isToken(method) || !isTargetText(target)) return undefined;
  // RFC 9112 §2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT (case-sensitive).
  if (
    version.length !== 8 ||
    !version.startsWith('HTTP/') ||
    !isDigit(version.charCodeAt(5)) ||
    version[6] !== '.' ||
    !isDigit(version.charCodeAt(7))
  ) {
    return undefined;
  }
  return { method, target, httpVersion: version.slice(5) };
}

/** The parts of a request target this server routes on. */
export interface RequestTarget {
  /** The path, without the query: "/" at least. */
  path: string;
  /** The authority of an absolute-form target (RFC 9112 §3.2.2), else undefined. */
  authority: string | undefined;
}

function isSchemeChar(code: number, first: boolean): boolean {
  // RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
  const alpha = (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
  return alpha || (!first && (isDigit(code) || code === 0x2b || code === 0x2d || code === 0x2e));
}

/**
 * RFC 9112 §3.2: a GET's target is in origin-form ("/a?b") or absolute-form
 * ("http://host/a?b"), which a server MUST accept (§3.2.2). Undefined for
 * anything else: authority-form and asterisk-form are for CONNECT and
 * OPTIONS, and a target with userinfo is an error (RFC 9110 §4.2.4).
 */
export function parseTarget(target: string): RequestTarget | undefined {
  const query = target.indexOf('?');
  const path = query === -1 ? target : target.slice(0, query);
  if (path.startsWith('/')) return { path, authority: undefined };
  const colon = path.indexOf(':');
  if (colon <= 0 || !path.startsWith('//', colon + 1)) return undefined;
  for (let i = 0; i < colon; i++) if (!isSchemeChar(path.charCodeAt(i), i === 0)) return undefined;
  const start = colon + 3;
  const slash = path.indexOf('/', start);
  const authority = slash === -1 ? path.slice(start) : path.slice(start, slash);
  if (!isValidHost(authority)) return undefined;
  // RFC 9112 §3.2.1: an empty path stands for "/".
  return { path: slash === -1 ? '/' : path.slice(slash), authority };
}

// RFC 3986 §2.3, §2.2: unreserved and sub-delims, the characters of a reg-name.
const REG_NAME = new Uint8Array(128);
for (const c of "-._~!$&'()*+,;=") REG_NAME[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) REG_NAME[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) REG_NAME[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) REG_NAME[c] = 1;

function isHexDigit(code: number): boolean {
  return isDigit(code) || (code >= 0x41 && code <= 0x46) || (code >= 0x61 && code <= 0x66);
}

/** RFC 3986 §3.2.2: reg-name (IPv4address is one too), pct-encoded octets included. */
function isRegName(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 /* % */) {
      if (!isHexDigit(s.charCodeAt(i + 1)) || !isHexDigit(s.charCodeAt(i + 2))) return false;
      i += 2;
    } else if (c >= 128 || REG_NAME[c] !== 1) {
      return false;
    }
  }
  return true;
}

/** RFC 3986 §3.2.2: the inside of an IP-literal, IPv6address or IPvFuture. */
function isIpLiteral(s: string): boolean {
  if (s.startsWith('v') || s.startsWith('V')) {
    // IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )
    const dot = s.indexOf('.');
    if (dot < 2 || dot === s.length - 1) return false;
    for (let i = 1; i < dot; i++) if (!isHexDigit(s.charCodeAt(i))) return false;
    for (let i = dot + 1; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c !== 0x3a && (c >= 128 || REG_NAME[c] !== 1)) return false;
    }
    return true;
  }
  // No zone identifier: only hex digits, colons and the dots of an embedded IPv4.
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!isHexDigit(c) && c !== 0x3a && c !== 0x2e) return false;
  }
  return isIPv6(s);
}

/**
 * RFC 9112 §3.2 and RFC 3986 §3.2.2-3.2.3: a Host value is uri-host
 * [ ":" port ]. The host may not be empty (RFC 9110 §4.2.1: an "http" URI
 * has a host), and a port, if given, is at most 65535.
 */
export function isValidHost(value: string): boolean {
  let end: number;
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    if (close === -1 || !isIpLiteral(value.slice(1, close))) return false;
    end = close + 1;
  } else {
    const colon = value.indexOf(':');
    end = colon === -1 ? value.length : colon;
    if (end === 0 || !isRegName(value.slice(0, end))) return false;
  }
  if (end === value.length) return true;
  if (value[end] !== ':') return false;
  // port = *DIGIT: an empty port is allowed (RFC 3986 §3.2.3).
  const port = value.slice(end + 1);
  return port === '' || (port.length <= 5 && isDigits(port) && Number(port) <= 65535);
}
