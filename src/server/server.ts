/**
 * WebSocketServer: accepts connections on its own port or on an existing
 * http(s).Server, runs the opening handshake (RFC 6455 §4.2) and hands out
 * WebSocket objects. Shaped like `ws`'s WebSocketServer.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { type AddressInfo, type Server as NetServer, type Socket, createServer } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import {
  DEFAULT_MAX_FRAGMENTS,
  DEFAULT_MAX_PAYLOAD,
  type DeflateOptions,
  HandshakeError,
  PerMessageDeflate,
  type ResolvedDeflateOptions,
  RequestReader,
  type RequestLimits,
  type UpgradeRequest,
  buildAcceptResponse,
  buildErrorResponse,
  buildHttpResponse,
  negotiateDeflate,
  rejectResponse,
  resolveDeflateOptions,
  selectProtocol,
  validateUpgrade,
} from '../protocol/index.js';
import { WebSocketError } from './errors.js';
import { type Agreement, Http2Front, type Outcome, PrefaceSniffer, type TlsServerOptions, listenTls } from './http2.js';
import { fromIncomingMessage, toIncomingMessage } from './request.js';
import { type SocketOptions, type Transport, WebSocket } from './websocket.js';

/** What `authenticate` may answer: accept (true or nothing), 401 (false), or a status of its own. */
export type AuthResult = boolean | void | { status: number; body?: string; headers?: Record<string, string> };

/** A plain HTTP response, e.g. a page served next to the WebSocket endpoint. */
export interface HttpResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

export interface HeartbeatOptions {
  /** How often every client is pinged (ms). */
  interval: number;
  /** How long a client has to show life after a ping before it is terminated (ms). */
  timeout: number;
}

export interface ServerOptions extends RequestLimits {
  /** Listen on this port (standalone server). */
  port?: number;
  host?: string;
  backlog?: number;
  /** Attach to an existing http(s) server through its 'upgrade' event. */
  server?: HttpServer | HttpsServer;
  /** Neither listen nor attach: the caller drives `handleUpgrade`. */
  noServer?: boolean;
  /** Only this path is a WebSocket endpoint. */
  path?: string;
  /** Largest message in bytes (default 16 MiB); more closes with 1009. */
  maxPayload?: number;
  /** Most frames in one message (default 131,072); more closes with 1008. */
  maxFragments?: number;
  /** Pick one of the offered subprotocols, or none. */
  handleProtocols?: (offered: readonly string[], request: IncomingMessage) => string | false | null | undefined;
  /** Decide whether to accept a client; may be async. */
  authenticate?: (request: IncomingMessage) => AuthResult | Promise<AuthResult>;
  /** Allowed Origin values (browsers always send one); others get 403. */
  origins?: readonly string[];
  /** The whole opening handshake must finish within this (ms, default 10 s). */
  handshakeTimeout?: number;
  /** How long to wait for a closing handshake before destroying the socket (ms, default 10 s). */
  closeTimeout?: number;
  /** Ping clients and terminate the silent ones (default 30 s / 30 s); false turns it off. */
  heartbeat?: HeartbeatOptions | false;
  /** Queued bytes above which send() returns false and reading pauses (default 1 MiB). */
  highWaterMark?: number;
  /** Queued bytes past which a client is closed with 1008 (default 64 MiB). */
  maxBufferedAmount?: number;
  /** Keep the `clients` set (default true). */
  clientTracking?: boolean;
  /**
   * Negotiate permessage-deflate (RFC 7692) with clients that offer it:
   * true for the defaults, or options. Default false: no compression.
   */
  perMessageDeflate?: boolean | DeflateOptions;
  /**
   * Standalone server only: answer a plain request (one without an Upgrade
   * header), e.g. GET / with a page. Returning nothing gives the default 426.
   * The connection closes after the response.
   */
  handleRequest?: (request: IncomingMessage) => HttpResponse | undefined;
  /**
   * Standalone server only: serve TLS (wss://) with these options of
   * tls.createServer (cert, key, ...). ALPN is ours: it offers "http/1.1",
   * and "h2" first with `http2`. See docs/http2.md.
   */
  tls?: TlsServerOptions;
  /**
   * Standalone server only: also accept WebSockets over HTTP/2 (RFC 8441) on
   * the same port, by ALPN with `tls`, else by the h2c prior-knowledge
   * preface. Default false.
   */
  http2?: boolean;
}

export const DEFAULTS = {
  maxPayload: DEFAULT_MAX_PAYLOAD,
  maxFragments: DEFAULT_MAX_FRAGMENTS,
  handshakeTimeout: 10_000,
  closeTimeout: 10_000,
  heartbeat: { interval: 30_000, timeout: 30_000 },
  highWaterMark: 1024 * 1024,
  maxBufferedAmount: 64 * 1024 * 1024,
} as const;

/** RFC 6455 §7.4.1: 1001, the endpoint is going away. */
const GOING_AWAY = 1001;

type UpgradeCallback = (ws: WebSocket, request: IncomingMessage) => void;

export class WebSocketServer extends EventEmitter {
  readonly clients = new Set<WebSocket>();
  readonly options: ServerOptions;

  private readonly socketOptions: SocketOptions;
  private readonly deflate: ResolvedDeflateOptions | undefined;
  private readonly netServer: NetServer | undefined;
  /** The HTTP/2 side (RFC 8441), with the `http2` option. */
  private readonly h2: Http2Front | undefined;
  private readonly attached: HttpServer | HttpsServer | undefined;
  private readonly handshaking = new Set<Socket>();
  private readonly heartbeatTimer: NodeJS.Timeout | undefined;
  /** A heartbeat round has pinged and awaits its check. */
  private heartbeatPending = false;
  private closing: Promise<void> | undefined;

  constructor(options: ServerOptions, callback?: () => void) {
    super();
    const modes = [options.port !== undefined, options.server !== undefined, options.noServer === true];
    if (modes.filter(Boolean).length !== 1) {
      throw new TypeError('exactly one of "port", "server" or "noServer" must be given');
    }
    if ((options.tls !== undefined || options.http2 !== undefined) && options.port === undefined) {
      throw new TypeError('"tls" and "http2" are options of the standalone server (with "port")');
    }
    this.options = options;
    this.deflate = resolveDeflateOptions(options.perMessageDeflate);
    this.socketOptions = {
      maxPayload: options.maxPayload ?? DEFAULTS.maxPayload,
      maxFragments: options.maxFragments ?? DEFAULTS.maxFragments,
      highWaterMark: options.highWaterMark ?? DEFAULTS.highWaterMark,
      maxBufferedAmount: options.maxBufferedAmount ?? DEFAULTS.maxBufferedAmount,
      closeTimeout: options.closeTimeout ?? DEFAULTS.closeTimeout,
    };
    if (options.server) {
      this.attached = options.server;
      this.attached.on('upgrade', this.onUpgradeEvent);
    } else if (options.port !== undefined) {
      if (options.http2) this.h2 = this.http2Front();
      this.netServer = options.tls
        ? listenTls(options.tls, { http2: options.http2 === true, handshakeTimeout: this.handshakeTimeout }, (socket) =>
            this.acceptTls(socket),
          )
        : createServer({ noDelay: true }, (socket) => this.acceptSocket(socket));
      this.netServer.on('listening', () => this.emit('listening'));
      this.netServer.on('error', (error) => this.emit('error', error));
      if (callback) this.once('listening', callback);
      this.netServer.listen(options.port, options.host, options.backlog);
    }
    const heartbeat = options.heartbeat ?? DEFAULTS.heartbeat;
    if (heartbeat) {
      this.heartbeatTimer = setInterval(() => this.heartbeat(heartbeat.timeout), heartbeat.interval);
      this.heartbeatTimer.unref();
    }
  }

  private get handshakeTimeout(): number {
    return this.options.handshakeTimeout ?? DEFAULTS.handshakeTimeout;
  }

  /** The address of the standalone server, as net.Server#address() gives it. */
  address(): AddressInfo | string | null {
    return this.netServer?.address() ?? this.attached?.address() ?? null;
  }

  /**
   * Complete (or refuse) the opening handshake of a request that node:http
   * parsed, as `ws` does for frameworks. `callback` gets the new WebSocket.
   */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, callback: UpgradeCallback): void {
    this.upgrade(request, socket as Socket, head, callback);
  }

  /**
   * Graceful shutdown: stop accepting, send 1001 to every client, wait for
   * their closing handshakes up to `closeTimeout`, then destroy what remains.
   */
  close(callback?: (error?: Error) => void): Promise<void> {
    this.closing ??= this.shutdown();
    if (callback) this.closing.then(() => callback(), callback);
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.attached?.off('upgrade', this.onUpgradeEvent);
    const net = this.netServer;
    const listening = net
      ? new Promise<void>((resolve) => {
          const stop = () => net.close(() => resolve());
          if (net.listening) return stop();
          // close() before 'listening': stop once it listens, or not at all if it fails to.
          net.once('listening', stop);
          net.once('error', () => resolve());
        })
      : undefined;
    for (const socket of this.handshaking) socket.destroy();
    const closed = [...this.clients].map(
      (ws) => new Promise<void>((resolve) => {
        if (ws.readyState === WebSocket.CLOSED) return resolve();
        ws.once('close', () => resolve());
        // close() destroys the socket if the handshake is not done in closeTimeout.
        ws.close(GOING_AWAY, 'server shutting down');
      }),
    );
    // Then GOAWAY on every HTTP/2 connection: open streams may finish their closing handshakes.
    this.h2?.close();
    await Promise.all(closed);
    await listening;
    this.emit('close');
  }

  private readonly onUpgradeEvent = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const path = this.options.path;
    // Another listener may serve other paths on the same server.
    if (path !== undefined && request.url?.split('?')[0] !== path && this.attached!.listenerCount('upgrade') > 1) {
      return;
    }
    this.upgrade(request, socket as Socket, head, (ws, req) => this.emit('connection', ws, req));
  };

  /** A raw TCP connection to the standalone server: read the request with our own reader. */
  private acceptSocket(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.handshaking.add(socket);
    guardErrors(socket);
    const reader = new RequestReader(this.options);
    // Once the handshake is over, nothing of it stays referenced from the socket.
    const done = (): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', done);
      this.handshaking.delete(socket);
    };
    const timer = setTimeout(() => {
      done();
      this.reject(socket, new HandshakeError('HANDSHAKE_TIMEOUT', 'handshake timed out'));
    }, this.handshakeTimeout);
    timer.unref();
    // With `http2` and no TLS: h2c with prior knowledge, told apart by its preface (RFC 9113 §3.3).
    let sniffer = this.h2 && !this.options.tls ? new PrefaceSniffer() : undefined;
    const onData = (chunk: Buffer): void => {
      if (sniffer) {
        const sniffed = sniffer.push(chunk);
        if (!sniffed) return;
        sniffer = undefined;
        chunk = sniffed.bytes;
        if (sniffed.transport === 'h2') {
          done();
          this.h2!.take(socket, chunk);
          return;
        }
      }
      let request;
      try {
        request = reader.push(chunk);
      } catch (error) {
        if (!(error instanceof HandshakeError)) throw error;
        done();
        this.reject(socket, error);
        return;
      }
      if (!request) return;
      // The timer keeps running through validation and `authenticate`.
      socket.off('data', onData);
      const incoming = toIncomingMessage(request, socket);
      if (this.answerPlainRequest(incoming, socket)) {
        done();
        return;
      }
      socket.pause();
      this.upgrade(incoming, socket, reader.rest, (ws, req) => {
        done();
        this.emit('connection', ws, req);
      });
    };
    socket.on('data', onData);
    socket.once('close', done);
  }

  /** A TLS connection: by ALPN (RFC 7301), an HTTP/2 connection or an HTTP/1.1 one. */
  private acceptTls(socket: TLSSocket): void {
    if (this.h2 && socket.alpnProtocol === 'h2') this.h2.take(socket);
    else this.acceptSocket(socket);
  }

  /** The HTTP/2 side, lent what it shares with HTTP/1.1: authenticate, negotiation, the clients. */
  private http2Front(): Http2Front {
    return new Http2Front({
      options: this.options,
      handshakeTimeout: this.handshakeTimeout,
      closeTimeout: this.socketOptions.closeTimeout,
      closing: () => this.closing !== undefined,
      authorize: (request, outcome) => this.authorize(request, outcome),
      negotiate: (request, upgrade) => this.negotiate(request, upgrade),
      open: (stream, agreement, request) => this.open(stream, agreement, 'h2', request, this.emitConnection),
      respond: (request) => this.plainResponse(request),
      report: (error, request) => this.emit('handshakeError', error, request),
    });
  }

  private readonly emitConnection = (ws: WebSocket, request: IncomingMessage): void => {
    this.emit('connection', ws, request);
  };

  /** What `handleRequest` answers a request with no Upgrade header (500 if it throws), if anything. */
  private plainResponse(request: IncomingMessage): HttpResponse | undefined {
    const handleRequest = this.options.handleRequest;
    if (!handleRequest || request.headers.upgrade !== undefined) return undefined;
    try {
      return handleRequest(request);
    } catch (error) {
      this.emit('handshakeError', error, request);
      return { status: 500 };
    }
  }

  /** Give a request with no Upgrade header to `handleRequest`; true if it answered. */
  private answerPlainRequest(request: IncomingMessage, socket: Socket): boolean {
    const response = this.plainResponse(request);
    if (!response) return false;
    let bytes: Buffer;
    try {
      bytes = buildHttpResponse(response.status, response.body, response.headers, request.method === 'HEAD');
    } catch (error) {
      this.emit('handshakeError', error, request);
      bytes = buildErrorResponse(500);
    }
    this.send(socket, bytes);
    return true;
  }

  private upgrade(request: IncomingMessage, socket: Socket, head: Buffer, callback: UpgradeCallback): void {
    // node:http drops its 'error' listener before 'upgrade': until a WebSocket
    // owns the socket, a reset (say, during an async authenticate) must not crash.
    guardErrors(socket);
    let upgrade: UpgradeRequest;
    try {
      upgrade = validateUpgrade(fromIncomingMessage(request), {
        path: this.options.path,
        origins: this.options.origins,
      });
    } catch (error) {
      if (!(error instanceof HandshakeError)) throw error;
      this.reject(socket, error);
      return;
    }
    this.authorize(request, {
      accept: () => this.accept(request, socket, head, upgrade, callback),
      refuse: (status, body, headers) => this.refuse(socket, status, body, headers),
    });
  }

  /** Run `authenticate` (if given), then accept or refuse: the same for HTTP/1.1 and HTTP/2. */
  private authorize(request: IncomingMessage, outcome: Outcome): void {
    const authenticate = this.options.authenticate;
    if (!authenticate) {
      outcome.accept();
      return;
    }
    Promise.resolve()
      .then(() => authenticate(request))
      .then(
        (result) => {
          if (result === true || result === undefined) {
            outcome.accept();
          } else if (result === false) {
            outcome.refuse(401, undefined, {});
          } else {
            outcome.refuse(result.status, result.body, result.headers ?? {});
          }
        },
        (error: unknown) => {
          this.emit('handshakeError', error, request);
          outcome.refuse(500, undefined, {});
        },
      );
  }

  /** The subprotocol and extensions to agree on; undefined if `handleProtocols` threw (reported). */
  private negotiate(request: IncomingMessage, upgrade: UpgradeRequest): Agreement | undefined {
    let protocol: string | undefined;
    try {
      const handleProtocols = this.options.handleProtocols;
      protocol = selectProtocol(upgrade.protocols, handleProtocols && ((offered) => handleProtocols(offered, request)));
    } catch (error) {
      this.emit('handshakeError', error, request);
      return undefined;
    }
    // RFC 7692 §5: the first acceptable permessage-deflate offer, if we speak it.
    const agreement = this.deflate && negotiateDeflate(upgrade.extensionOffers, this.deflate).agreement;
    const deflate = agreement && new PerMessageDeflate(agreement.params, this.deflate);
    return { protocol, extensions: agreement?.response, deflate };
  }

  /** A WebSocket on a transport whose handshake is answered: tracked, then handed to `callback`. */
  private open(
    transport: Duplex,
    agreement: Agreement,
    kind: Transport,
    request: IncomingMessage,
    callback: UpgradeCallback,
  ): WebSocket {
    const ws = new WebSocket(transport, this.socketOptions, agreement.protocol, agreement.extensions, agreement.deflate, kind);
    if (this.options.clientTracking !== false) {
      // No listener closure here: it would keep this scope, `request` included, alive per client.
      ws.track(this.clients);
    }
    callback(ws, request);
    return ws;
  }

  private accept(
    request: IncomingMessage,
    socket: Socket,
    head: Buffer,
    upgrade: UpgradeRequest,
    callback: UpgradeCallback,
  ): void {
    // Gone, refused meanwhile (a handshake timeout answers 408 and ends), or shutting down.
    if (socket.destroyed || socket.writableEnded || this.closing) {
      socket.destroy();
      return;
    }
    const agreement = this.negotiate(request, upgrade);
    if (!agreement) {
      this.refuse(socket, 500, undefined, {});
      return;
    }
    this.handshaking.delete(socket);
    socket.off('error', destroyOnError);
    socket.write(buildAcceptResponse({ key: upgrade.key, protocol: agreement.protocol, extensions: agreement.extensions }));
    this.open(socket, agreement, 'http/1.1', request, callback).receiveHead(head);
    socket.resume();
  }

  private reject(socket: Socket, error: HandshakeError): void {
    this.emit('handshakeError', error);
    this.send(socket, rejectResponse(error));
  }

  private refuse(socket: Socket, status: number, body: string | undefined, headers: Record<string, string>): void {
    let response: Buffer;
    try {
      response = buildErrorResponse(status, body, headers);
    } catch (error) {
      this.emit('handshakeError', error);
      response = buildErrorResponse(500);
    }
    this.send(socket, response);
  }

  /** Answer and close. Keep reading what the client still sends, so no RST eats the answer. */
  private send(socket: Socket, response: Buffer): void {
    if (socket.destroyed || socket.writableEnded) return;
    socket.end(response);
    socket.resume();
    setTimeout(() => socket.destroy(), this.socketOptions.closeTimeout).unref();
  }

  private heartbeat(timeout: number): void {
    // One round at a time: with timeout > interval, a later round's ping would
    // reset isAlive just before this round's check and drop live clients.
    if (this.heartbeatPending) return;
    this.heartbeatPending = true;
    for (const ws of this.clients) {
      ws.isAlive = false;
      ws.ping();
    }
    setTimeout(() => {
      this.heartbeatPending = false;
      for (const ws of this.clients) {
        if (!ws.isAlive && ws.readyState === WebSocket.OPEN) ws.abort(new WebSocketError('HEARTBEAT_TIMEOUT'));
      }
    }, timeout).unref();
  }
}

function destroyOnError(this: Socket): void {
  this.destroy();
}

/** Until a WebSocket owns the socket, an error (a reset) destroys it instead of crashing. */
function guardErrors(socket: Socket): void {
  if (!socket.listeners('error').includes(destroyOnError)) socket.on('error', destroyOnError);
}
