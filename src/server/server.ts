/**
 * WebSocketServer: accepts connections on its own port or on an existing
 * http(s).Server, runs the opening handshake (RFC 6455 §4.2) and hands out
 * WebSocket objects. Shaped like `ws`'s WebSocketServer.
 *
 * Every handshake, in every mode, is answered within `handshakeTimeout`:
 * with a 101, with the status of its refusal, 500 when a hook fails, or 408.
 *
 * The standalone server may also serve TLS (`tls`) and WebSockets over
 * HTTP/2 (`http2`, RFC 8441): an extended CONNECT stream goes through the
 * same steps (cap, deadline, `authenticate`, negotiation) and is answered
 * on its stream, with a 200 instead of a 101 (http2.ts, docs/http2.md).
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { ServerHttp2Stream } from 'node:http2';
import type { Server as HttpsServer } from 'node:https';
import { type AddressInfo, type Server as NetServer, type Socket, createServer } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { inspect } from 'node:util';
import {
  ArgumentTypeError,
  StateError,
  type DeflateOptions,
  HandshakeError,
  type HttpRequest,
  PerMessageDeflate,
  PrefaceSniffer,
  type ResolvedDeflateOptions,
  RequestReader,
  type RequestLimits,
  type UpgradeRequest,
  buildAcceptResponse,
  buildConnectResponse,
  buildErrorResponse,
  buildHttpResponse,
  negotiateDeflate,
  rejectResponse,
  requestPath,
  resolveDeflateOptions,
  selectProtocol,
  trimOws,
  validateExtendedConnect,
  validateUpgrade,
  EMPTY_BUFFER,
} from '../protocol/index.js';
import { Deadlines } from './deadlines.js';
import { watchDeflateIdle } from './deflate-pool.js';
import { WebSocketError } from './errors.js';
import {
  type H2Answer,
  Http2Front,
  type TlsServerOptions,
  h2Answer,
  h2ErrorAnswer,
  h2IncomingMessage,
  listenTls,
  sendH2Answer,
} from './http2.js';
import {
  DEFAULTS,
  HEARTBEAT_OPTIONS,
  RETRY_AFTER_SECONDS,
  SERVER_OPTIONS,
  WS_SERVER_OPTIONS,
  checkOptions,
  deflateOption,
  integerOption,
  typedOption,
} from './options.js';
import { HandshakeRequest } from './request.js';
import { type SocketOptions, type Transport, type WebSocketOwner, WebSocket, abortWebSocket, startWebSocket, trackWebSocket } from './websocket.js';

export { DEFAULTS, RETRY_AFTER_SECONDS };

/** What `authenticate` may answer: accept (true or nothing), 401 (false), or a refusal status (400-599) of its own. */
export type AuthResult = boolean | void | { status: number; body?: string; headers?: Record<string, string> };

/** A plain HTTP response, e.g. a page served next to the WebSocket endpoint. */
export interface HttpResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

export interface HeartbeatOptions {
  /** How often every client is pinged (ms). */
  interval?: number;
  /** How long a client has to show life after a ping before it is terminated (ms). */
  timeout?: number;
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
  /** Pick one of the offered subprotocols, or none (false). Default: the first offered. */
  handleProtocols?: (protocols: Set<string>, request: IncomingMessage) => string | false | null | undefined;
  /** Decide whether to accept a client; may be async. */
  authenticate?: (request: IncomingMessage) => AuthResult | Promise<AuthResult>;
  /** Allowed Origin values (browsers always send one); others get 403. */
  origins?: readonly string[];
  /** The whole opening handshake must finish within this (ms, default 10 s), in every mode. */
  handshakeTimeout?: number;
  /** How long to wait for a closing handshake before destroying the socket (ms, default 10 s). */
  closeTimeout?: number;
  /** Ping clients and terminate the silent ones (default 30 s / 30 s); false turns it off. */
  heartbeat?: HeartbeatOptions | false;
  /**
   * A data message started must end within this (ms, default 60 s), or the
   * connection is closed with 1008 (error MESSAGE_TIMEOUT).
   */
  messageTimeout?: number;
  /** Queued bytes above which send() returns false and reading pauses, between messages (default 1 MiB). */
  highWaterMark?: number;
  /** Queued bytes past which a client is closed with 1008 (default 64 MiB). */
  maxBufferedAmount?: number;
  /** Open connections plus handshakes in progress (default 10,000); past it, 503 with Retry-After. */
  maxConnections?: number;
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
   * Standalone server only: serve TLS (wss://, https://) with these options
   * of tls.createServer (cert, key, ...). ALPN is ours: "http/1.1", and "h2"
   * first with `http2`. See docs/http2.md.
   */
  tls?: TlsServerOptions;
  /**
   * Standalone server only: also accept WebSockets over HTTP/2 (RFC 8441) on
   * the same port, by ALPN with `tls`, else as h2c with prior knowledge. Default false.
   */
  http2?: boolean;
}

/** The options once checked, with every default filled in. */
interface Settings extends Required<RequestLimits> {
  handshakeTimeout: number;
  maxConnections: number;
  heartbeat: { interval: number; timeout: number } | false;
  socket: SocketOptions;
}

/** Options only the standalone server reads: elsewhere node:http or the caller does that job. */
const STANDALONE_ONLY: Readonly<Record<string, string>> = {
  host: 'the attached http.Server or your own listen() call chooses the address',
  backlog: 'the attached http.Server or your own listen() call sets the backlog',
  handleRequest: "answer plain requests in your http.Server's 'request' handler",
  maxRequestLine: "node:http parses the request: use its maxHeaderSize",
  maxHeaders: 'node:http parses the request: use its maxHeadersCount',
  maxHeaderBytes: "node:http parses the request: use its maxHeaderSize",
  tls: 'attach to an https.Server (https.createServer({ cert, key })) instead',
  http2: 'node:http cannot carry HTTP/2; WebSockets over HTTP/2 need the standalone server',
};

/** Fields the handshake itself sets in the 101: a 'headers' listener may not add them. */
const HANDSHAKE_FIELDS = new Set(['upgrade', 'connection', 'sec-websocket-accept', 'sec-websocket-protocol', 'sec-websocket-extensions']);

/** RFC 6455 §7.4.1: 1001, the endpoint is going away. */
const GOING_AWAY = 1001;
/** RFC 9110 §15.6.1: what a failed hook answers. */
const INTERNAL_ERROR = 500;

type UpgradeCallback = (ws: WebSocket, request: IncomingMessage) => void;
type AcceptCallback = (ws: WebSocket, request: HandshakeRequest) => void;

/**
 * What a handshake is answered on: the socket of an HTTP/1.1 request, or an
 * HTTP/2 stream (RFC 8441). Each is one key of `pending`.
 */
type Endpoint = Socket | ServerHttp2Stream;

/** A valid upgrade request on its way to a 101 (or, over HTTP/2, a 200). */
interface Handshake {
  request: HandshakeRequest;
  socket: Endpoint;
  transport: Transport;
  /** Bytes read past the request head: the first frames. */
  head: Buffer;
  upgrade: UpgradeRequest;
  callback: AcceptCallback;
}

/** An answer built and checked before anything is sent: HTTP/1.1 bytes, or HTTP/2 fields and content. */
type Answer = Buffer | H2Answer;

/**
 * A handshake in progress (its deadline is in the server's `deadlines`). One
 * object per handshake; its socket's listeners are module-level functions
 * that find it on the socket (kPending), not closures per connection.
 */
interface Pending {
  server: WebSocketServer;
  request: HandshakeRequest | undefined;
  /** Standalone mode: the request head being read (its 'data' listener is onHeadData). */
  reader: RequestReader | undefined;
  /** h2c with prior knowledge: the preface sniffer, until the first bytes tell HTTP/1.1 from HTTP/2. */
  sniffer: PrefaceSniffer | undefined;
}

const kPending = Symbol('strictws.pending');
type PendingSocket = Duplex & { [kPending]?: Pending };
// The module-level socket listeners' way into a server's private methods.
let settleHandshake: (server: WebSocketServer, socket: Endpoint) => boolean;
let takeHeadData: (server: WebSocketServer, socket: Socket, pending: Pending, chunk: Buffer) => void;

/**
 * Sockets a WebSocketServer has taken for a handshake: a second handleUpgrade on one throws, as in ws.
 * Those of the standalone server are known by their kPending property instead (no WeakSet entry each).
 */
const taken = new WeakSet<Duplex>();

function isTaken(socket: Duplex): boolean {
  return kPending in socket || taken.has(socket);
}
/** The strictws servers attached to each http.Server, in the order their 'upgrade' listeners run. */
const attachedTo = new WeakMap<HttpServer | HttpsServer, WebSocketServer[]>();

export class WebSocketServer extends EventEmitter {
  readonly clients = new Set<WebSocket>();
  readonly options: ServerOptions;

  private readonly settings: Settings;
  private readonly deflate: ResolvedDeflateOptions | undefined;
  private readonly netServer: NetServer | undefined;
  /** The HTTP/2 side (RFC 8441), with the `http2` option. */
  private readonly h2: Http2Front | undefined;
  /** HTTP/2 streams: they are answered with header fields, not bytes. */
  private readonly streams = new WeakSet<Duplex>();
  private readonly attached: HttpServer | HttpsServer | undefined;
  private readonly pending = new Map<Endpoint, Pending>();
  /** The handshakes' deadlines: one timer for all of them. */
  private readonly deadlines: Deadlines<Endpoint>;
  /** Sockets (and HTTP/2 streams) of accepted WebSockets not yet closed. */
  private open = 0;
  /** Told by each accepted WebSocket when its socket closes. */
  private readonly owner: WebSocketOwner;
  private readonly heartbeatTimer: NodeJS.Timeout | undefined;
  /** A heartbeat round has pinged and awaits its check. */
  private heartbeatPending = false;
  private closing: Promise<void> | undefined;

  static {
    settleHandshake = (server, socket) => server.settle(socket);
    takeHeadData = (server, socket, pending, chunk) => server.headData(socket, pending, chunk);
  }

  constructor(options: ServerOptions, callback?: () => void) {
    super();
    this.settings = resolveSettings(options, callback);
    this.options = options;
    this.deadlines = new Deadlines(this.settings.handshakeTimeout, (socket) => this.timedOut(socket));
    const clients = options.clientTracking === false ? undefined : this.clients;
    this.owner = {
      clients,
      closed: () => {
        this.open--;
      },
    };
    this.deflate = resolveDeflateOptions(deflateOption(options.perMessageDeflate));
    if (options.server) {
      this.attached = options.server;
      const servers = attachedTo.get(this.attached) ?? [];
      attachedTo.set(this.attached, [...servers, this]);
      this.attached.on('upgrade', this.onUpgradeEvent);
    } else if (options.port !== undefined) {
      if (options.http2) {
        this.h2 = new Http2Front({
          closeTimeout: this.settings.socket.closeTimeout,
          idleTimeout: this.settings.handshakeTimeout,
          closing: () => this.closing !== undefined,
          stream: (stream, request) => this.acceptStream(stream, request),
        });
      }
      this.netServer = options.tls
        ? listenTls(options.tls, { http2: options.http2 === true, handshakeTimeout: this.settings.handshakeTimeout }, (socket) =>
            this.acceptTls(socket),
          )
        : createServer({ noDelay: true }, (socket) => this.acceptSocket(socket));
      this.netServer.on('listening', () => this.emit('listening'));
      this.netServer.on('error', (error) => this.emit('error', error));
      if (callback) this.once('listening', callback);
      this.netServer.listen(options.port, options.host, options.backlog);
    }
    const heartbeat = this.settings.heartbeat;
    if (heartbeat) {
      this.heartbeatTimer = setInterval(() => this.heartbeat(heartbeat.timeout), heartbeat.interval);
      this.heartbeatTimer.unref();
    }
  }

  /** The address of the standalone server, as net.Server#address() gives it. */
  address(): AddressInfo | string | null {
    return this.netServer?.address() ?? this.attached?.address() ?? null;
  }

  /**
   * Open connections (their sockets, or HTTP/2 streams, not yet closed) plus
   * handshakes in progress: what `maxConnections` caps.
   */
  get connectionCount(): number {
    return this.open + this.pending.size;
  }

  /**
   * Complete (or refuse) the opening handshake of a request that node:http
   * parsed, as `ws` does for frameworks. `callback` gets the new WebSocket.
   * Throws if this socket was already given to a handleUpgrade.
   */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, callback: UpgradeCallback): void {
    if (isTaken(socket)) {
      throw new StateError('handleUpgrade() was called more than once with the same socket');
    }
    if (typeof callback !== 'function') throw new ArgumentTypeError('INVALID_ARGUMENT', 'handleUpgrade: callback must be a function');
    this.takeUpgrade(HandshakeRequest.fromNode(request, socket as Socket), socket as Socket, head, (ws) => callback(ws, request));
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
    if (this.attached) {
      this.attached.off('upgrade', this.onUpgradeEvent);
      const others = (attachedTo.get(this.attached) ?? []).filter((wss) => wss !== this);
      attachedTo.set(this.attached, others);
    }
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
    for (const socket of [...this.pending.keys()]) {
      this.settle(socket);
      socket.destroy();
    }
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

  /**
   * Attached mode. Of the strictws servers on this http.Server, the one whose
   * `path` matches takes the upgrade (the first, if several do), else the
   * first without a `path`. If none claims it and no other 'upgrade' listener
   * is there to, the last of them answers it (404 for the path), so it never hangs.
   */
  private readonly onUpgradeEvent = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const http = this.attached!;
    const servers = attachedTo.get(http) ?? [this];
    const path = requestPath(request.url ?? '');
    const owner = servers.find((wss) => wss.options.path === path) ?? servers.find((wss) => wss.options.path === undefined);
    if (owner !== this) {
      if (owner !== undefined || http.listenerCount('upgrade') > servers.length || servers.at(-1) !== this) return;
    }
    if (isTaken(socket)) return;
    this.takeUpgrade(HandshakeRequest.fromNode(request, socket as Socket), socket as Socket, head, this.emitConnection);
  };

  /**
   * 'connection' listeners get the IncomingMessage second. For a request our
   * own reader parsed it is built only if a listener declares that parameter
   * (or takes ...args): `(ws) => …` listeners cost no IncomingMessage.
   */
  private readonly emitConnection = (ws: WebSocket, request: HandshakeRequest): void => {
    const wanted = request.built || this.listeners('connection').some(takesRequest);
    this.emit('connection', ws, wanted ? request.incoming : undefined);
  };

  /** A TLS connection: by ALPN (RFC 7301), an HTTP/2 connection or an HTTP/1.1 one. */
  private acceptTls(socket: TLSSocket): void {
    if (this.h2 && socket.alpnProtocol === 'h2') this.h2.take(socket);
    else this.acceptSocket(socket);
  }

  /**
   * A request on an HTTP/2 stream (RFC 8441): a page for `handleRequest`, or
   * an extended CONNECT that goes through the same steps as an upgrade.
   */
  private acceptStream(stream: ServerHttp2Stream, request: HttpRequest): void {
    guardErrors(stream);
    this.streams.add(stream);
    const incoming = HandshakeRequest.ofMessage(request, stream.session!.socket as Socket, h2IncomingMessage(request, stream));
    if (this.atCapacity(stream, incoming)) return;
    this.begin(stream, incoming, undefined, undefined);
    if (request.method !== 'CONNECT' && this.answerPlainRequest(incoming, stream)) return;
    let upgrade: UpgradeRequest;
    try {
      upgrade = validateExtendedConnect(request, { path: this.options.path, origins: this.options.origins });
    } catch (error) {
      if (!(error instanceof HandshakeError)) throw error;
      this.refuseWith(stream, error, incoming);
      return;
    }
    this.authorize({ request: incoming, socket: stream, transport: 'h2', head: EMPTY_BUFFER, upgrade, callback: this.emitConnection });
  }

  /** A raw TCP connection to the standalone server: read the request with our own reader. */
  private acceptSocket(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    socket.on('error', destroyOnError);
    // Past the cap, answer at once: no reader, no deadline, no slot for this socket.
    if (this.atCapacity(socket, undefined)) {
      taken.add(socket);
      return;
    }
    // With `http2` and no TLS: h2c with prior knowledge, told apart by its preface (RFC 9113 §3.4).
    const sniffer = this.h2 && !this.options.tls ? new PrefaceSniffer() : undefined;
    this.begin(socket, undefined, new RequestReader(this.settings), sniffer);
    socket.on('data', onHeadData);
  }

  /** Bytes of a request head (standalone mode), until it is complete. */
  private headData(socket: Socket, pending: Pending, chunk: Buffer): void {
    const sniffer = pending.sniffer;
    if (sniffer) {
      const sniffed = sniffer.push(chunk);
      if (!sniffed) return;
      pending.sniffer = undefined;
      chunk = sniffed.bytes;
      if (sniffed.transport === 'h2') {
        // An HTTP/2 connection: each of its WebSocket streams counts, not the connection.
        this.settle(socket);
        this.h2!.take(socket, chunk);
        return;
      }
    }
    const reader = pending.reader!;
    let request;
    try {
      request = reader.push(chunk);
    } catch (error) {
      if (!(error instanceof HandshakeError)) throw error;
      this.refuseWith(socket, error, undefined);
      return;
    }
    if (!request) return;
    // The deadline keeps running through validation and `authenticate`.
    socket.off('data', onHeadData);
    pending.reader = undefined;
    const handshake = HandshakeRequest.parsed(request, socket);
    pending.request = handshake;
    if (this.answerPlainRequest(handshake, socket)) return;
    // Without `authenticate` the 101 is sent before this returns, so no
    // 'data' can come in between; with it, hold the client's first frames.
    if (this.options.authenticate) socket.pause();
    this.upgrade(handshake, socket, reader.rest, this.emitConnection);
  }

  /** Attached and noServer modes: node:http has read the request; the handshake's deadline starts now. */
  private takeUpgrade(request: HandshakeRequest, socket: Socket, head: Buffer, callback: AcceptCallback): void {
    // node:http drops its 'error' listener before 'upgrade': until a WebSocket
    // owns the socket, a reset (say, during an async authenticate) must not crash.
    guardErrors(socket);
    taken.add(socket);
    if (this.closing) {
      socket.destroy();
      return;
    }
    if (this.atCapacity(socket, request)) return;
    this.begin(socket, request, undefined, undefined);
    this.upgrade(request, socket, head, callback);
  }

  /** Count the handshake and set its deadline: 408 if it has not been answered by then. */
  private begin(
    socket: Endpoint,
    request: HandshakeRequest | undefined,
    reader: RequestReader | undefined,
    sniffer: PrefaceSniffer | undefined,
  ): void {
    const pending: Pending = { server: this, request, reader, sniffer };
    this.pending.set(socket, pending);
    this.deadlines.add(socket);
    (socket as PendingSocket)[kPending] = pending;
    socket.on('close', onPendingClose);
  }

  /** The handshake deadline passed: 408. */
  private timedOut(socket: Endpoint): void {
    const pending = this.pending.get(socket);
    this.refuseWith(socket, new HandshakeError('HANDSHAKE_TIMEOUT', 'handshake timed out'), pending?.request);
  }

  /**
   * End a handshake in progress: forget it and its deadline. False if it
   * had already ended (answered, timed out, closed): then nothing more may be sent.
   */
  private settle(socket: Endpoint): boolean {
    const entry = this.pending.get(socket);
    if (!entry) return false;
    this.pending.delete(socket);
    this.deadlines.delete(socket);
    (socket as PendingSocket)[kPending] = undefined;
    socket.off('close', onPendingClose);
    if (entry.reader) socket.off('data', onHeadData);
    return true;
  }

  /** Past `maxConnections`: answer 503 with Retry-After (RFC 9110 §10.2.3) and report it. */
  private atCapacity(socket: Endpoint, request: HandshakeRequest | undefined): boolean {
    if (this.connectionCount < this.settings.maxConnections) return false;
    const error = new HandshakeError('TOO_MANY_CONNECTIONS', `connection limit of ${this.settings.maxConnections} reached`, {
      'Retry-After': String(RETRY_AFTER_SECONDS),
    });
    this.reportError(error, request);
    this.send(socket, this.refusal(socket, error));
    return true;
  }

  /** Give a request with no Upgrade header to `handleRequest`; true if it answered. */
  private answerPlainRequest(request: HandshakeRequest, socket: Endpoint): boolean {
    const handleRequest = this.options.handleRequest;
    if (!handleRequest || request.parsed.headers.has('upgrade')) return false;
    let response: HttpResponse | undefined;
    try {
      response = handleRequest(request.incoming);
    } catch (error) {
      this.reportError(error, request);
      response = { status: INTERNAL_ERROR };
    }
    if (!response) return false;
    const head = request.parsed.method === 'HEAD';
    let answer: Answer;
    try {
      answer = this.streams.has(socket)
        ? h2Answer(response, head)
        : buildHttpResponse(response.status, response.body, response.headers, head);
    } catch (error) {
      this.reportError(error, request);
      answer = this.errorAnswer(socket, INTERNAL_ERROR);
    }
    if (this.settle(socket)) this.send(socket, answer);
    return true;
  }

  private upgrade(request: HandshakeRequest, socket: Socket, head: Buffer, callback: AcceptCallback): void {
    let upgrade: UpgradeRequest;
    try {
      upgrade = validateUpgrade(request.parsed, {
        path: this.options.path,
        origins: this.options.origins,
      });
    } catch (error) {
      if (!(error instanceof HandshakeError)) throw error;
      this.refuseWith(socket, error, request);
      return;
    }
    this.authorize({ request, socket, transport: 'http/1.1', head, upgrade, callback });
  }

  /** Run `authenticate` (if given), then accept or refuse: the same for HTTP/1.1 and HTTP/2. */
  private authorize(handshake: Handshake): void {
    const { request, socket } = handshake;
    const authenticate = this.options.authenticate;
    if (!authenticate) {
      this.accept(handshake);
      return;
    }
    let result: AuthResult | Promise<AuthResult>;
    try {
      result = authenticate(request.incoming);
    } catch (error) {
      this.hookFailed(socket, error, request);
      return;
    }
    if (!isThenable(result)) {
      this.authenticated(result, handshake);
      return;
    }
    // What follows runs on the next tick, outside the promise: a throwing
    // 'connection' listener surfaces as it would from a synchronous hook,
    // never as an unhandled rejection.
    Promise.resolve(result).then(
      (value) => process.nextTick(() => this.authenticated(value, handshake)),
      (error: unknown) => process.nextTick(() => this.hookFailed(socket, error, request)),
    );
  }

  /** What `authenticate` answered: accept, refuse with its status, or 500 for anything else. */
  private authenticated(result: unknown, handshake: Handshake): void {
    const { request, socket } = handshake;
    // Timed out (408 sent) or closed meanwhile: the client has had its answer.
    if (!this.pending.has(socket)) return;
    if (result === true || result === undefined) {
      this.accept(handshake);
    } else if (result === false) {
      this.refuseWithStatus(socket, request, 401, undefined, undefined);
    } else if (isRefusal(result)) {
      this.refuseWithStatus(socket, request, result.status, result.body, result.headers);
    } else {
      const error = new ArgumentTypeError(
        'INVALID_HOOK_RESULT',
        `authenticate returned ${inspect(result, { depth: 1 })}; expected true, false, undefined or { status: 400-599, body?: string, headers?: object }`,
      );
      this.hookFailed(socket, error, request);
    }
  }

  private accept({ request, socket, transport, head, upgrade, callback }: Handshake): void {
    if (!this.pending.has(socket)) return;
    // Gone, or shutting down.
    if (socket.destroyed || this.closing) {
      this.settle(socket);
      socket.destroy();
      return;
    }
    let protocol: string | undefined;
    let response: Buffer | undefined;
    // RFC 7692 §5: the first acceptable permessage-deflate offer, if we speak it.
    const agreement = this.deflate && negotiateDeflate(upgrade.extensionOffers, this.deflate).agreement;
    try {
      protocol = this.chooseProtocol(upgrade.protocols, request);
      // The 'headers' event is HTTP/1.1's: it shows the 101's lines (docs/http2.md).
      if (transport === 'http/1.1') response = this.acceptResponse(request, upgrade.key, protocol, agreement?.response);
    } catch (error) {
      this.hookFailed(socket, error, request);
      return;
    }
    this.settle(socket);
    socket.off('error', destroyOnError);
    if (response) (socket as Socket).write(response);
    // RFC 8441 §5: a 2xx completes the handshake; the stream stays open both ways.
    else (socket as ServerHttp2Stream).respond(buildConnectResponse({ key: upgrade.key, protocol, extensions: agreement?.response }));
    this.open++;
    const deflate = agreement && new PerMessageDeflate(agreement.params, this.deflate, { onEngine: watchDeflateIdle });
    const ws = new WebSocket(socket, this.settings.socket, protocol, agreement?.response, deflate, transport);
    // Joins `clients` (unless clientTracking is false) and counts its socket until 'close':
    // no listener closure, which would keep this scope, `request` included, alive per client.
    trackWebSocket(ws, this.owner);
    callback(ws, request);
    startWebSocket(ws, head);
  }

  /**
   * RFC 6455 §4.2.2 item 5.5: `handleProtocols(Set, request)` picks one of the
   * offered subprotocols or none; without it, the first offered is chosen (as ws does).
   */
  private chooseProtocol(offered: readonly string[], request: HandshakeRequest): string | undefined {
    const handleProtocols = this.options.handleProtocols;
    const select = handleProtocols ? (list: readonly string[]) => handleProtocols(new Set(list), request.incoming) : firstOffered;
    return selectProtocol(offered, select);
  }

  /**
   * The 101, after the 'headers' event: listeners get its lines, as ws gives
   * them, and may push fields of their own (e.g. "Set-Cookie: a=b"). Those
   * are checked (RFC 9110 §5.1, §5.5); the handshake's own lines must stay as they are.
   */
  private acceptResponse(request: HandshakeRequest, key: string, protocol: string | undefined, extensions: string | undefined): Buffer {
    if (this.listenerCount('headers') === 0) return buildAcceptResponse({ key, protocol, extensions });
    const base = buildAcceptResponse({ key, protocol, extensions }).toString('latin1').split('\r\n').slice(0, -2);
    const lines = [...base];
    this.emit('headers', lines, request.incoming);
    if (!base.every((line, i) => lines[i] === line)) throw new ArgumentTypeError('INVALID_HEADER', "a 'headers' listener changed the handshake's own lines");
    const extra: Array<[string, string]> = [];
    for (const line of lines.slice(base.length)) {
      const colon = typeof line === 'string' ? line.indexOf(':') : -1;
      if (colon <= 0) throw new ArgumentTypeError('INVALID_HEADER', `'headers': ${JSON.stringify(line)} is not a "Name: value" line`);
      const name = line.slice(0, colon);
      if (HANDSHAKE_FIELDS.has(name.toLowerCase())) throw new ArgumentTypeError('INVALID_HEADER', `'headers': ${name} is set by the handshake itself`);
      extra.push([name, trimOws(line, colon + 1)]);
    }
    return buildAcceptResponse({ key, protocol, extensions, headers: extra });
  }

  /** A hook failed (threw, rejected, answered something malformed): 500, and the error is reported. */
  private hookFailed(socket: Endpoint, error: unknown, request: HandshakeRequest): void {
    if (!this.settle(socket)) return;
    this.reportError(error, request);
    this.send(socket, this.errorAnswer(socket, INTERNAL_ERROR));
  }

  /** A handshake refused by the protocol rules or a timeout: its status, and a 'handshakeError'. */
  private refuseWith(socket: Endpoint, error: HandshakeError, request: HandshakeRequest | undefined): void {
    if (!this.settle(socket)) return;
    this.reportError(error, request);
    this.send(socket, this.refusal(socket, error));
  }

  /** 'handshakeError' with the request's IncomingMessage, built only if someone listens. */
  private reportError(error: unknown, request: HandshakeRequest | undefined): void {
    if (this.listenerCount('handshakeError') > 0) this.emit('handshakeError', error, request?.incoming);
  }

  /** A handshake `authenticate` refused: its status, not reported (the decision is the app's). */
  private refuseWithStatus(
    socket: Endpoint,
    request: HandshakeRequest,
    status: number,
    body: string | undefined,
    headers: Record<string, string> | undefined,
  ): void {
    let response: Answer;
    try {
      response = this.errorAnswer(socket, status, body, headers);
    } catch (error) {
      this.hookFailed(socket, error, request);
      return;
    }
    if (this.settle(socket)) this.send(socket, response);
  }

  /** A text/plain error answer for this endpoint; throws a TypeError for a bad header field. */
  private errorAnswer(socket: Endpoint, status: number, body?: string, headers?: Record<string, string>): Answer {
    return this.streams.has(socket) ? h2ErrorAnswer(status, body, headers) : buildErrorResponse(status, body, headers);
  }

  /** The answer to a handshake the protocol rules refused. */
  private refusal(socket: Endpoint, error: HandshakeError): Answer {
    if (!this.streams.has(socket)) return rejectResponse(error);
    return h2ErrorAnswer(error.status, error.message, error.headers, error.headRequest);
  }

  /** Send an answer: HTTP/1.1 bytes, then close; or an HTTP/2 response that ends its stream only. */
  private send(socket: Endpoint, answer: Answer): void {
    if (Buffer.isBuffer(answer)) this.respondAndClose(socket as Socket, answer);
    else sendH2Answer(socket as ServerHttp2Stream, answer, this.settings.socket.closeTimeout);
  }

  /** Write an HTTP response and close. Keep reading what the client still sends, so no RST eats the answer. */
  private respondAndClose(socket: Socket, response: Buffer): void {
    if (socket.destroyed || socket.writableEnded) return;
    socket.end(response);
    socket.resume();
    setTimeout(() => socket.destroy(), this.settings.socket.closeTimeout).unref();
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
        if (!ws.isAlive && ws.readyState === WebSocket.OPEN) abortWebSocket(ws, new WebSocketError('HEARTBEAT_TIMEOUT'));
      }
    }, timeout).unref();
  }
}

/** Check every option (names, types, ranges) and fill in the defaults. */
function resolveSettings(options: ServerOptions, callback: unknown): Settings {
  checkOptions('WebSocketServer', options, SERVER_OPTIONS, WS_SERVER_OPTIONS);
  if (options === undefined) throw new ArgumentTypeError('INVALID_OPTION', 'WebSocketServer: an options object is required');
  const o = options as Record<string, unknown>;
  const modes = [o.port !== undefined, o.server !== undefined, o.noServer === true];
  if (modes.filter(Boolean).length !== 1) {
    throw new ArgumentTypeError('INVALID_OPTION', 'exactly one of "port", "server" or "noServer" must be given');
  }
  integerOption('port', o.port, 0, 0, 65_535);
  integerOption('backlog', o.backlog, 0, 0);
  typedOption('host', o.host, 'string');
  typedOption('server', o.server, 'object');
  typedOption('noServer', o.noServer, 'boolean');
  typedOption('clientTracking', o.clientTracking, 'boolean');
  typedOption('tls', o.tls, 'object');
  typedOption('http2', o.http2, 'boolean');
  for (const hook of ['handleProtocols', 'authenticate', 'handleRequest']) typedOption(hook, o[hook], 'function');
  if (o.path !== undefined && (typeof o.path !== 'string' || !o.path.startsWith('/'))) {
    throw new ArgumentTypeError('INVALID_OPTION', `path must be a string starting with "/", got ${JSON.stringify(o.path)}`);
  }
  if (o.origins !== undefined && (!Array.isArray(o.origins) || !o.origins.every((x) => typeof x === 'string'))) {
    throw new ArgumentTypeError('INVALID_OPTION', 'origins must be an array of strings');
  }
  if (o.port === undefined) {
    const standalone = Object.keys(STANDALONE_ONLY).find((key) => o[key] !== undefined);
    if (standalone) throw new ArgumentTypeError('INVALID_OPTION', `${standalone} applies to the standalone server (port) only: ${STANDALONE_ONLY[standalone]}`);
    if (callback !== undefined) throw new ArgumentTypeError('INVALID_ARGUMENT', 'the callback is a \'listening\' listener: only the standalone server (port) listens');
  }
  if (callback !== undefined && typeof callback !== 'function') throw new ArgumentTypeError('INVALID_ARGUMENT', 'callback must be a function');
  let heartbeat: Settings['heartbeat'] = DEFAULTS.heartbeat;
  if (o.heartbeat === false) heartbeat = false;
  else if (o.heartbeat !== undefined) {
    if (o.heartbeat === true || o.heartbeat === null || typeof o.heartbeat !== 'object') {
      throw new ArgumentTypeError('INVALID_OPTION', 'heartbeat must be false or { interval, timeout }');
    }
    checkOptions('heartbeat', o.heartbeat, HEARTBEAT_OPTIONS);
    const { interval, timeout } = o.heartbeat as HeartbeatOptions;
    heartbeat = {
      interval: integerOption('heartbeat.interval', interval, DEFAULTS.heartbeat.interval, 1, 2 ** 31 - 1),
      timeout: integerOption('heartbeat.timeout', timeout, DEFAULTS.heartbeat.timeout, 1, 2 ** 31 - 1),
    };
  }
  // setTimeout takes at most 2^31 - 1 ms; more would fire at once.
  const ms = (name: 'handshakeTimeout' | 'closeTimeout' | 'messageTimeout') => integerOption(name, o[name], DEFAULTS[name], 1, 2 ** 31 - 1);
  const count = (name: keyof typeof DEFAULTS & keyof ServerOptions, min = 1) => integerOption(name, o[name], DEFAULTS[name] as number, min);
  return {
    handshakeTimeout: ms('handshakeTimeout'),
    maxConnections: count('maxConnections'),
    maxRequestLine: count('maxRequestLine'),
    maxHeaders: count('maxHeaders'),
    maxHeaderBytes: count('maxHeaderBytes'),
    heartbeat,
    socket: {
      maxPayload: count('maxPayload', 0),
      maxFragments: count('maxFragments'),
      highWaterMark: count('highWaterMark', 0),
      maxBufferedAmount: count('maxBufferedAmount'),
      closeTimeout: ms('closeTimeout'),
      messageTimeout: ms('messageTimeout'),
    },
  };
}


/** A 'connection' listener that declares a second parameter (or ...args) gets the IncomingMessage. */
function takesRequest(listener: { length: number }): boolean {
  return listener.length !== 1;
}

function firstOffered(offered: readonly string[]): string | undefined {
  return offered[0];
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}

/** `{ status, body?, headers? }` with a refusal status (RFC 9110 §15.5, §15.6). */
function isRefusal(value: unknown): value is { status: number; body?: string; headers?: Record<string, string> } {
  if (typeof value !== 'object' || value === null) return false;
  const { status, body, headers } = value as Record<string, unknown>;
  return (
    Number.isInteger(status) &&
    (status as number) >= 400 &&
    (status as number) <= 599 &&
    (body === undefined || typeof body === 'string') &&
    (headers === undefined || (typeof headers === 'object' && headers !== null))
  );
}

function destroyOnError(this: Duplex): void {
  this.destroy();
}

/** A socket closed during its handshake. */
function onPendingClose(this: PendingSocket): void {
  const pending = this[kPending];
  if (pending) settleHandshake(pending.server, this as Endpoint);
}

/** Standalone mode: bytes of the request head. */
function onHeadData(this: PendingSocket, chunk: Buffer): void {
  const pending = this[kPending];
  if (pending) takeHeadData(pending.server, this as Socket, pending, chunk);
}

/** Until a WebSocket owns the socket, an error (a reset) destroys it instead of crashing. */
function guardErrors(socket: Duplex): void {
  if (!socket.listeners('error').includes(destroyOnError)) socket.on('error', destroyOnError);
}
