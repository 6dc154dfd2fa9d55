/**
 * RFC 8441 for the conformance client: one HTTP/2 connection per case (h2c
 * with prior knowledge for ws://, h2 by ALPN for wss://) on node:http2, and
 * one extended CONNECT stream per WebSocket (§4–5). Also the checks a run
 * makes before its first case: the server is there, its certificate is
 * trusted (or --insecure), and over HTTP/2 it allows extended CONNECT (§3).
 */
import { type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, connect as h2Connect } from 'node:http2';
import { connect as tlsConnect } from 'node:tls';
import { Conn, DEFAULT_TIMEOUT, type HttpResponse, type HttpResult, type RequestOptions, type Target, rstName, serverName } from './client.js';

/** Why a run cannot start against a target; `code` is stable. */
export class TargetError extends Error {
  override name = 'TargetError';
  constructor(
    readonly code: 'UNREACHABLE' | 'UNTRUSTED_CERTIFICATE' | 'NO_HTTP2' | 'NO_EXTENDED_CONNECT',
    message: string,
  ) {
    super(message);
  }
}

/** The URL a target was made from, for messages. */
function urlOf(target: Target): string {
  return `${target.tls ? 'wss' : 'ws'}://${target.hostHeader}${target.path}`;
}

/** RFC 9113 §8.2.2: HTTP/1.1 connection fields, malformed in HTTP/2; and the key RFC 8441 §5 drops. */
const HTTP1_ONLY = new Set(['host', 'upgrade', 'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'sec-websocket-key']);

export type H2Fields = Record<string, string | string[]>;

/**
 * RFC 8441 §4–5: the extended CONNECT fields for an opening handshake with
 * `options` applied; or, for options that only mean something in an HTTP/1.1
 * request (a method, a version, the Host or Upgrade lines), why the request
 * cannot be made over HTTP/2.
 */
export function h2Fields(target: Target, options: RequestOptions = {}): H2Fields | string {
  if (options.method !== undefined) return `the case sends the method ${options.method} in an HTTP/1.1 request line`;
  if (options.version !== undefined) return `the case sends ${options.version} in the request line`;
  const fields: H2Fields = {
    ':method': 'CONNECT',
    ':protocol': 'websocket',
    ':scheme': target.tls ? 'https' : 'http',
    ':authority': target.hostHeader,
    ':path': options.target ?? target.path,
    'sec-websocket-version': '13',
  };
  const add = (name: string, value: string | undefined): string | undefined => {
    const lower = name.toLowerCase();
    if (HTTP1_ONLY.has(lower)) return `the case sets the HTTP/1.1 field ${name}`;
    if (value === undefined) delete fields[lower];
    else if (lower in fields) fields[lower] = [fields[lower], value].flat();
    else fields[lower] = value;
    return undefined;
  };
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    // The defaults are replaced, not repeated.
    if (name.toLowerCase() === 'sec-websocket-version') delete fields['sec-websocket-version'];
    const why = add(name, value);
    if (why) return why;
  }
  for (const line of options.extraLines ?? []) {
    const colon = line.indexOf(':');
    if (colon <= 0) return `the case sends the raw HTTP/1.1 line ${JSON.stringify(line)}`;
    const why = add(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
    if (why) return why;
  }
  return fields;
}

/** Header fields, one "name: value" per value, pseudo-header fields first as sent. */
export function describeFields(fields: H2Fields | IncomingHttpHeaders): string {
  return Object.entries(fields)
    .flatMap(([name, value]) => [value ?? []].flat().map((v) => `${name}: ${v}`))
    .join(', ');
}

function errorText(error: NodeJS.ErrnoException): string {
  return error.code ? `${error.code}${error.message && !error.message.includes(error.code) ? ` (${error.message})` : ''}` : error.message;
}

/**
 * An HTTP/2 connection to `target`, once the server's SETTINGS arrived with
 * SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 8441 §3). Throws a TargetError.
 */
export async function h2Session(target: Target, timeoutMs = DEFAULT_TIMEOUT): Promise<ClientHttp2Session> {
  const session = h2Connect(`${target.tls ? 'https' : 'http'}://${target.hostHeader}`, {
    host: target.host,
    port: target.port,
    servername: serverName(target.host),
    rejectUnauthorized: !target.tls?.insecure,
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      const fail = (why: string) => reject(new TargetError('NO_HTTP2', `no HTTP/2 connection to ${urlOf(target)}: ${why}`));
      timer = setTimeout(() => fail(`no SETTINGS from the server within ${timeoutMs} ms`), timeoutMs);
      session.once('remoteSettings', () => resolve());
      session.once('error', (error: NodeJS.ErrnoException) =>
        error.code === 'ECONNREFUSED' ? reject(new TargetError('UNREACHABLE', `cannot reach ${urlOf(target)}: ECONNREFUSED`)) : fail(errorText(error)),
      );
      session.once('goaway', (code: number) => fail(`GOAWAY ${rstName(code)} before any SETTINGS`));
      session.once('close', () => fail(`the connection closed before the server's SETTINGS${target.tls ? '' : ' (is it a server that takes h2c with prior knowledge?)'}`));
    });
  } catch (error) {
    session.destroy();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  // Errors after the SETTINGS reach the streams, which report them.
  session.on('error', () => {});
  if (!session.remoteSettings.enableConnectProtocol) {
    session.destroy();
    throw new TargetError(
      'NO_EXTENDED_CONNECT',
      `${urlOf(target)} speaks HTTP/2 but does not send SETTINGS_ENABLE_CONNECT_PROTOCOL = 1: it does not take WebSockets over HTTP/2 (RFC 8441 §3)`,
    );
  }
  return session;
}

/** The answer to an extended CONNECT, and its stream (open when the answer is a 2xx). */
export interface ConnectAnswer {
  stream: ClientHttp2Stream;
  result: HttpResult;
  /** The request and the answer, for the wire log. */
  lines: string[];
}

/** A refused answer's content is read up to this many bytes. */
const BODY_CAP = 64 * 1024;

/**
 * RFC 8441 §4–5: send an extended CONNECT with `fields` (as given: nothing
 * is added) and wait for the answer: its status and fields, with the content
 * of a non-2xx answer; a reset stream or a timeout says so.
 */
export async function extendedConnect(session: ClientHttp2Session, fields: H2Fields, timeoutMs = DEFAULT_TIMEOUT): Promise<ConnectAnswer> {
  const lines = [`client HEADERS ${describeFields(fields)}`];
  let stream: ClientHttp2Stream;
  try {
    stream = session.request(fields, { endStream: false });
  } catch (error) {
    // node:http2 refuses some requests itself (e.g. CONNECT without :authority).
    throw new Error(`node:http2 cannot send this request: ${errorText(error as NodeJS.ErrnoException)}`);
  }
  stream.on('error', () => {});
  let timer: NodeJS.Timeout | undefined;
  const result = await new Promise<HttpResult>((resolve) => {
    let refusal: { response: HttpResponse; parts: Buffer[] } | undefined;
    timer = setTimeout(() => {
      if (!refusal) return resolve({ type: 'timeout', detail: `no answer to the extended CONNECT within ${timeoutMs} ms` });
      // The answer came, its end did not: keep what was read.
      lines.push(`no END_STREAM within ${timeoutMs} ms of the answer`);
      resolve({ ...refusal.response, body: Buffer.concat(refusal.parts) });
    }, timeoutMs);
    stream.once('response', (headers: IncomingHttpHeaders) => {
      const status = Number(headers[':status']);
      const map = new Map<string, string[]>();
      for (const [name, value] of Object.entries(headers)) if (!name.startsWith(':') && value !== undefined) map.set(name, [value].flat());
      lines.push(`server HEADERS ${describeFields(headers)}`);
      const response: HttpResponse = { version: '2', status, reason: '', headers: map, head: describeFields(headers), body: Buffer.alloc(0) };
      if (status >= 200 && status < 300) return resolve(response);
      // A refusal: its content, up to the cap, until END_STREAM (or a reset). We send nothing more on it.
      stream.end();
      const r = (refusal = { response, parts: [] as Buffer[] });
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        if (size < BODY_CAP) r.parts.push(chunk.subarray(0, BODY_CAP - size));
        size += chunk.length;
      });
      const done = () => resolve({ ...response, body: Buffer.concat(r.parts) });
      stream.once('end', () => {
        lines.push('server END_STREAM');
        done();
      });
      stream.once('close', done);
    });
    stream.once('close', () => {
      if (refusal) return;
      const code = stream.rstCode ?? 0;
      resolve({ type: 'reset', detail: `the server reset the stream (RST_STREAM ${rstName(code)}) without an answer` });
    });
  });
  clearTimeout(timer);
  if ('type' in result) lines.push(result.detail);
  return { stream, result, lines };
}

/**
 * Before the first case: is the server there, is its certificate trusted
 * (unless `insecure`), and over HTTP/2 does it allow extended CONNECT?
 * Throws a TargetError that says which.
 */
export async function checkTarget(target: Target): Promise<void> {
  if (target.tls) {
    await new Promise<void>((resolve, reject) => {
      // Verified by hand, so that an untrusted certificate is told apart from other failures.
      const socket = tlsConnect({ host: target.host, port: target.port, servername: serverName(target.host), rejectUnauthorized: false, ALPNProtocols: target.http2 ? ['h2', 'http/1.1'] : ['http/1.1'] });
      socket.once('error', (error: NodeJS.ErrnoException) => reject(new TargetError('UNREACHABLE', `cannot reach ${urlOf(target)}: ${errorText(error)}`)));
      socket.once('secureConnect', () => {
        socket.destroy();
        // RFC 9113 §3.2: HTTP/2 over TLS is chosen by ALPN "h2".
        if (target.http2 && socket.alpnProtocol !== 'h2') {
          return reject(new TargetError('NO_HTTP2', `no HTTP/2 connection to ${urlOf(target)}: its TLS server chose ${socket.alpnProtocol ? `"${socket.alpnProtocol}"` : 'no protocol'} by ALPN, not "h2"`));
        }
        if (socket.authorized || target.tls!.insecure) return resolve();
        reject(
          new TargetError(
            'UNTRUSTED_CERTIFICATE',
            `the certificate of ${urlOf(target)} is not trusted (${String(socket.authorizationError)}); if that is expected (a self-signed test certificate), pass --insecure`,
          ),
        );
      });
    });
  }
  if (target.http2) {
    (await h2Session(target)).destroy();
    return;
  }
  if (!target.tls) {
    const conn = await Conn.connect(target).catch((error: NodeJS.ErrnoException) => {
      throw new TargetError('UNREACHABLE', `cannot reach ${urlOf(target)}: ${errorText(error)}`);
    });
    conn.destroy();
  }
}
