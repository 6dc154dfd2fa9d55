/**
 * The HTTP/2 side of a standalone WebSocketServer (RFC 8441), and its TLS
 * listener. node:http2 runs the connections; each WebSocket is one
 * extended CONNECT stream, handed to the same WebSocket class as a socket
 * (both are Duplex streams). See docs/http2.md.
 *
 * Each stream's request goes to the server (`Http2Host`), which runs the
 * same handshake steps as for HTTP/1.1: the connection cap, the deadline,
 * `authenticate`, subprotocol and extension negotiation.
 */
import type { IncomingMessage } from 'node:http';
import {
  type Http2Server,
  type Http2Session,
  type Http2Stream,
  type ServerHttp2Session,
  type ServerHttp2Stream,
  constants,
  createServer as createH2Server,
} from 'node:http2';
import type { Socket } from 'node:net';
import { type Server as TlsServer, type TLSSocket, type TlsOptions, createServer as createTlsServer } from 'node:tls';
import { type HttpRequest, OptionError, errorText, h2Request, h2ResponseHeaders } from '../protocol/index.js';
import { toIncomingMessage } from './request.js';
import type { HttpResponse } from './server.js';

/** Options of tls.createServer; ALPN is the server's to choose. */
export type TlsServerOptions = Omit<TlsOptions, 'ALPNProtocols' | 'ALPNCallback'>;

/** What the WebSocketServer lends its HTTP/2 side. */
export interface Http2Host {
  /** How long a refused stream or a closing connection may linger (ms). */
  readonly closeTimeout: number;
  /** How long a connection may stay without an open stream before GOAWAY (ms). */
  readonly idleTimeout: number;
  closing(): boolean;
  /** A request on a new stream: the server answers it, or runs its WebSocket handshake. */
  stream(stream: ServerHttp2Stream, request: HttpRequest): void;
}

/** A whole HTTP/2 response: its header fields and its content. */
export interface H2Answer {
  fields: Record<string, string | number>;
  body: Buffer;
  /** RFC 9110 §9.3.2: the answer to HEAD ends with its header fields. */
  omitBody: boolean;
}

/** An HttpResponse as HTTP/2 fields, checked: throws a TypeError for a bad field. */
export function h2Answer(response: HttpResponse, omitBody = false): H2Answer {
  const body = typeof response.body === 'string' ? Buffer.from(response.body, 'utf8') : Buffer.from(response.body ?? []);
  const fields = h2ResponseHeaders(response.status, { ...response.headers, 'content-length': String(body.length) });
  return { fields, body, omitBody };
}

/** A text/plain error answer, as buildErrorResponse makes one for HTTP/1.1. */
export function h2ErrorAnswer(
  status: number,
  body: string | undefined,
  headers: Readonly<Record<string, string>> = {},
  omitBody = false,
): H2Answer {
  const type = { 'content-type': 'text/plain; charset=utf-8' };
  return h2Answer({ status, body: errorText(status, body), headers: { ...type, ...headers } }, omitBody);
}

/** Answer and end the stream: the connection and its other streams go on. */
export function sendH2Answer(stream: ServerHttp2Stream, { fields, body, omitBody }: H2Answer, closeTimeout: number): void {
  if (stream.destroyed || stream.headersSent) return;
  stream.respond(fields, { endStream: omitBody });
  if (!omitBody) stream.end(body);
  // What the client still sends is read and dropped, so the connection's window keeps moving.
  stream.resume();
  // RFC 9113 §8.1: a client still sending after our whole response is asked to stop (RST_STREAM NO_ERROR).
  setTimeout(resetStream, closeTimeout, stream).unref();
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
  for (const key of ['ALPNProtocols', 'ALPNCallback']) {
    if (key in tls) throw new OptionError(`tls.${key}: the server chooses ALPN itself (h2 with "http2", and http/1.1)`);
  }
  return createTlsServer(
    { handshakeTimeout, noDelay: true, ...tls, ALPNProtocols: http2 ? ['h2', 'http/1.1'] : ['http/1.1'] },
    accept,
  );
}

function ignore(): void {}

function destroySession(session: Http2Session): void {
  if (!session.destroyed) session.destroy();
}

function resetStream(stream: Http2Stream): void {
  if (!stream.closed) stream.close(constants.NGHTTP2_NO_ERROR);
}

/** The HTTP/2 connections of one server; each stream's request goes to the host. */
export class Http2Front {
  private readonly server: Http2Server;
  /** Each connection with its number of open streams. */
  private readonly sessions = new Map<Http2Session, number>();

  constructor(private readonly host: Http2Host) {
    // RFC 8441 §3: SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 in our first SETTINGS frame.
    // The node:http2 server only makes sessions here: it never listens.
    this.server = createH2Server({ settings: { enableConnectProtocol: true } });
    this.server.on('session', (session: ServerHttp2Session) => {
      this.sessions.set(session, 0);
      // A broken connection: its streams hear of it through their own events.
      session.on('error', ignore);
      session.once('close', () => this.sessions.delete(session));
      // Like a TCP connection that sends no handshake: one without a stream goes after idleTimeout
      // of no traffic (node:http2 restarts the timer on every frame).
      session.setTimeout(this.host.idleTimeout, () => {
        if (this.sessions.get(session) === 0) this.goAway(session);
      });
    });
    this.server.on('stream', (stream: ServerHttp2Stream, _headers: unknown, _flags: number, raw: string[]) => {
      const session = stream.session!;
      this.count(session, 1);
      stream.once('close', () => this.count(session, -1));
      if (this.host.closing()) stream.close(constants.NGHTTP2_REFUSED_STREAM);
      else this.host.stream(stream, h2Request(raw));
    });
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
    for (const session of this.sessions.keys()) this.goAway(session);
  }

  private count(session: Http2Session, change: number): void {
    const open = this.sessions.get(session);
    if (open !== undefined) this.sessions.set(session, open + change);
  }

  /** GOAWAY: the connection closes once its streams have, or is destroyed after `closeTimeout`. */
  private goAway(session: Http2Session): void {
    session.close();
    setTimeout(destroySession, this.host.closeTimeout, session).unref();
  }
}

/**
 * An IncomingMessage for hooks and 'connection' listeners: the regular
 * fields, `host` from ":authority" (RFC 9113 §8.3.1), method and URL from
 * the pseudo-header fields, HTTP version 2.0.
 */
export function h2IncomingMessage(request: HttpRequest, stream: Http2Stream): IncomingMessage {
  const headers = new Map<string, string[]>();
  for (const [name, values] of request.headers) {
    if (name === ':authority') headers.set('host', values);
    else if (!name.startsWith(':')) headers.set(name, values);
  }
  return toIncomingMessage({ ...request, headers }, stream.session!.socket as Socket);
}
