/**
 * The HTTP/2 side of a standalone WebSocketServer (RFC 8441), and its TLS
 * listener. node:http2 runs the connections; each WebSocket is one
 * extended CONNECT stream, handed to the same WebSocket class as a socket
 * (both are Duplex streams). See docs/http2.md.
 *
 * The server lends this side what both transports share (`Http2Host`):
 * `authenticate`, subprotocol and extension negotiation, and its clients.
 */
import type { IncomingMessage } from 'node:http';
import {
  type Http2Server,
  type Http2Stream,
  type ServerHttp2Session,
  type ServerHttp2Stream,
  constants,
  createServer as createH2Server,
} from 'node:http2';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { type Server as TlsServer, type TLSSocket, type TlsOptions, createServer as createTlsServer } from 'node:tls';
import {
  HandshakeError,
  type HttpRequest,
  type PerMessageDeflate,
  type UpgradeRequest,
  buildConnectResponse,
  errorText,
  h2Request,
  h2ResponseHeaders,
  validateExtendedConnect,
} from '../protocol/index.js';
import { toIncomingMessage } from './request.js';
import type { HttpResponse } from './server.js';

/** Options of tls.createServer; ALPN is the server's to choose. */
export type TlsServerOptions = Omit<TlsOptions, 'ALPNProtocols' | 'ALPNCallback'>;

/** How a handshake that passed validation ends. */
export interface Outcome {
  accept(): void;
  refuse(status: number, body: string | undefined, headers: Record<string, string>): void;
}

/** What was agreed for a WebSocket: subprotocol and extensions (RFC 6455 §4.2.2). */
export interface Agreement {
  protocol: string | undefined;
  /** The Sec-WebSocket-Extensions value, if any. */
  extensions: string | undefined;
  deflate: PerMessageDeflate | undefined;
}

/** What the WebSocketServer lends its HTTP/2 side. */
export interface Http2Host {
  readonly options: { path?: string; origins?: readonly string[] };
  readonly handshakeTimeout: number;
  /** How long a refused stream or a closing connection may linger (ms). */
  readonly closeTimeout: number;
  closing(): boolean;
  authorize(request: IncomingMessage, outcome: Outcome): void;
  negotiate(request: IncomingMessage, upgrade: UpgradeRequest): Agreement | undefined;
  open(stream: Duplex, agreement: Agreement, request: IncomingMessage): void;
  /** `handleRequest`'s answer to a request that is not a WebSocket handshake, if any. */
  respond(request: IncomingMessage): HttpResponse | undefined;
  report(error: unknown, request?: IncomingMessage): void;
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

/**
 * A TLS listener whose ALPN (RFC 7301) offers "h2" (with `http2`) and
 * "http/1.1". `accept` gets each connection once its TLS handshake is done.
 */
export function listenTls(
  tls: TlsServerOptions,
  { http2, handshakeTimeout }: { http2: boolean; handshakeTimeout: number },
  accept: (socket: TLSSocket) => void,
): TlsServer {
  if (tls === null || typeof tls !== 'object') throw new TypeError('"tls" must be an object of tls.createServer options');
  for (const key of ['ALPNProtocols', 'ALPNCallback']) {
    if (key in tls) throw new TypeError(`tls.${key}: the server chooses ALPN itself (h2 with "http2", and http/1.1)`);
  }
  return createTlsServer(
    { handshakeTimeout, noDelay: true, ...tls, ALPNProtocols: http2 ? ['h2', 'http/1.1'] : ['http/1.1'] },
    accept,
  );
}

function ignore(): void {}

function destroySession(session: ServerHttp2Session): void {
  if (!session.destroyed) session.destroy();
}

function resetStream(stream: Http2Stream): void {
  if (!stream.closed) stream.close(constants.NGHTTP2_NO_ERROR);
}

/** The HTTP/2 connections of one server and the WebSocket handshakes on their streams. */
export class Http2Front {
  private readonly server: Http2Server;
  private readonly sessions = new Set<ServerHttp2Session>();

  constructor(private readonly host: Http2Host) {
    // RFC 8441 §3: SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 in our first SETTINGS frame.
    // The node:http2 server only makes sessions here: it never listens.
    this.server = createH2Server({ settings: { enableConnectProtocol: true } });
    this.server.on('session', (session: ServerHttp2Session) => {
      this.sessions.add(session);
      // A broken connection: its streams hear of it through their own events.
      session.on('error', ignore);
      session.once('close', () => this.sessions.delete(session));
    });
    this.server.on('stream', (stream: ServerHttp2Stream, _headers: unknown, _flags: number, raw: string[]) =>
      this.onStream(stream, raw),
    );
  }

  /** Run HTTP/2 on a connection (TLS with ALPN "h2", or h2c after `head`'s preface). */
  take(socket: Socket, head?: Buffer): void {
    if (this.host.closing()) {
      socket.destroy();
      return;
    }
    // node:http2 reads what is already buffered on the socket before its own reads;
    // paused, so that the bytes put back are buffered rather than emitted.
    socket.pause();
    if (head && head.length > 0) socket.unshift(head);
    this.server.emit('connection', socket);
  }

  /**
   * Graceful shutdown: GOAWAY on every connection; each closes once its
   * streams have, or is destroyed after `closeTimeout`.
   */
  close(): void {
    for (const session of this.sessions) {
      session.close();
      setTimeout(destroySession, this.host.closeTimeout, session).unref();
    }
  }

  private onStream(stream: ServerHttp2Stream, raw: string[]): void {
    // Until a WebSocket owns the stream, a reset must not crash the process.
    stream.on('error', ignore);
    if (this.host.closing()) {
      stream.close(constants.NGHTTP2_REFUSED_STREAM);
      return;
    }
    const request = h2Request(raw);
    const incoming = incomingMessage(request, stream);
    if (request.method !== 'CONNECT') {
      const response = this.host.respond(incoming);
      if (response) {
        this.answer(stream, response, request.method === 'HEAD', incoming);
        return;
      }
    }
    let upgrade: UpgradeRequest;
    try {
      upgrade = validateExtendedConnect(request, this.host.options);
    } catch (error) {
      if (!(error instanceof HandshakeError)) throw error;
      this.host.report(error, incoming);
      this.refuse(stream, error.status, error.message, error.headers);
      return;
    }
    const timer = setTimeout(() => {
      this.host.report(new HandshakeError('HANDSHAKE_TIMEOUT', 'handshake timed out'), incoming);
      this.refuse(stream, 408, undefined, {});
    }, this.host.handshakeTimeout);
    timer.unref();
    this.host.authorize(incoming, {
      accept: () => {
        clearTimeout(timer);
        this.accept(stream, incoming, upgrade);
      },
      refuse: (status, body, headers) => {
        clearTimeout(timer);
        this.refuse(stream, status, body, headers);
      },
    });
  }

  private accept(stream: ServerHttp2Stream, request: IncomingMessage, upgrade: UpgradeRequest): void {
    // Gone, refused meanwhile (a handshake timeout answers 408), or shutting down.
    if (stream.destroyed || stream.headersSent || this.host.closing()) {
      if (!stream.destroyed) stream.close(constants.NGHTTP2_CANCEL);
      return;
    }
    const agreement = this.host.negotiate(request, upgrade);
    if (!agreement) {
      this.refuse(stream, 500, undefined, {});
      return;
    }
    // RFC 8441 §5: a 2xx completes the handshake; the stream stays open both ways.
    stream.respond(buildConnectResponse({ key: upgrade.key, protocol: agreement.protocol, extensions: agreement.extensions }));
    stream.off('error', ignore);
    this.host.open(stream, agreement, request);
  }

  private refuse(stream: ServerHttp2Stream, status: number, body: string | undefined, headers: Record<string, string>): void {
    this.answer(stream, { status, body: errorText(status, body), headers: { 'content-type': 'text/plain; charset=utf-8', ...headers } }, false);
  }

  /** Answer and end the stream: the connection and its other streams go on. */
  private answer(stream: ServerHttp2Stream, response: HttpResponse, omitBody: boolean, request?: IncomingMessage): void {
    if (stream.destroyed || stream.headersSent) return;
    const body = typeof response.body === 'string' ? Buffer.from(response.body, 'utf8') : (response.body ?? Buffer.alloc(0));
    let fields;
    try {
      fields = h2ResponseHeaders(response.status, { ...response.headers, 'content-length': String(body.length) });
    } catch (error) {
      this.host.report(error, request);
      this.refuse(stream, 500, undefined, {});
      return;
    }
    stream.respond(fields, { endStream: omitBody });
    if (!omitBody) stream.end(body);
    // RFC 9113 §8.1: a client still sending after our whole response is asked to stop (RST_STREAM NO_ERROR).
    setTimeout(resetStream, this.host.closeTimeout, stream).unref();
  }
}

/**
 * An IncomingMessage for hooks and 'connection' listeners: the regular
 * fields, `host` from ":authority" (RFC 9113 §8.3.1), method and URL from
 * the pseudo-header fields, HTTP version 2.0.
 */
function incomingMessage(request: HttpRequest, stream: Http2Stream): IncomingMessage {
  const headers = new Map<string, string[]>();
  for (const [name, values] of request.headers) {
    if (name === ':authority') headers.set('host', values);
    else if (!name.startsWith(':')) headers.set(name, values);
  }
  return toIncomingMessage({ ...request, headers }, stream.session!.socket as Socket);
}
