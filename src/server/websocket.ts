/**
 * One accepted WebSocket connection: the sans-I/O Connection driven by a
 * stream (a net.Socket, or any Duplex), with timers and backpressure.
 * Shaped like `ws`'s WebSocket.
 *
 * The public object (WebSocket) holds one private Link: the core's handler,
 * the stream's listeners, the timers. The outbound queue is the Sender's
 * (sender.ts), Link's base class: one object, not two.
 *
 * Listeners run in the parser's turn and can stop it (as uWS does): the core
 * delivers each message, ping and pong as it is decoded, and looks again
 * after each one whether it may go on. terminate(), close() or an abort in a
 * listener stop the delivery of the rest of what was read; a queue past
 * `highWaterMark` pauses it between messages (per-message backpressure). A
 * listener that throws fails the connection with 1011; the exception is
 * reported as 'error' (LISTENER_ERROR, with the exception as its cause), or
 * thrown again once the read is handled when there is no 'error' listener.
 */
import { EventEmitter } from 'node:events';
import { type Http2Stream, constants as h2 } from 'node:http2';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  ArgumentTypeError,
  Connection,
  type ConnectionHandler,
  EMPTY_BUFFER,
  type MessageLimits,
  type PerMessageDeflate,
  type ProtocolError,
  StateError,
  checkControlPayload,
} from '../protocol/index.js';
import { Deadlines } from './deadlines.js';
import { WebSocketError } from './errors.js';
import { checkOptions } from './options.js';
import { SENDER_FLAG_BITS, type SendCallback, Sender } from './sender.js';

export type { SendCallback } from './sender.js';
export type Sendable = string | Buffer | ArrayBuffer | ArrayBufferView;

export interface SendOptions {
  /** Send as binary (default: true for bytes, false for strings). */
  binary?: boolean;
  /**
   * Compress with permessage-deflate, if negotiated (default true; messages
   * under the threshold go uncompressed anyway). False sends it as it is.
   */
  compress?: boolean;
  /**
   * False: a fragment of a message (RFC 6455 §5.4); the following sends are
   * its continuation frames, up to the one with `fin` true (default true).
   * A fragmented message goes uncompressed.
   */
  fin?: boolean;
  /** Must be unset or false: a server does not mask (RFC 6455 §5.1). */
  mask?: boolean;
}

/** How a binary message is handed to 'message' listeners, as in `ws`. */
export type BinaryType = 'nodebuffer' | 'arraybuffer' | 'fragments';

export interface SocketOptions extends MessageLimits {
  /** Above this many queued bytes, send() returns false and we stop reading the peer, between messages. */
  highWaterMark: number;
  /** Past this many queued bytes the connection is closed with 1008. */
  maxBufferedAmount: number;
  /** How long to wait for the closing handshake before destroying the socket (ms). */
  closeTimeout: number;
  /** A data message started must end within this (ms), or the connection is closed with 1008. */
  messageTimeout: number;
}

const SEND_OPTIONS: ReadonlySet<string> = new Set(['binary', 'compress', 'fin', 'mask']);
/** By their code in Link#flags. */
const BINARY_TYPES: readonly BinaryType[] = ['nodebuffer', 'arraybuffer', 'fragments'];

/** RFC 6455 §7.4.1: 1008 policy violation, used for a peer that will not read or finish a message. */
const POLICY_VIOLATION = 1008;
/** RFC 6455 §7.4.1: 1011, an unexpected condition (a listener threw). */
const INTERNAL_ERROR = 1011;
/** RFC 6455 §5.2. */
const TEXT = 1;
const BINARY = 2;

/** What carries the frames: a TCP (or TLS) socket after an HTTP/1.1 upgrade, or an HTTP/2 stream (RFC 8441). */
export type Transport = 'http/1.1' | 'h2';

const kLink = Symbol('strictws.link');

// Bits of Link#flags, above the Sender's.
/** The close deadline is set (in the shared list). */
const CLOSE_DEADLINE = 1 << SENDER_FLAG_BITS;
/** The message deadline is set. */
const MESSAGE_DEADLINE = 1 << (SENDER_FLAG_BITS + 1);
/** The stream closed. */
const TRANSPORT_CLOSED = 1 << (SENDER_FLAG_BITS + 2);
/** send() returned false or reading paused: a 'drain' is owed. */
const DRAIN_OWED = 1 << (SENDER_FLAG_BITS + 3);
/** An error was reported as 'error': only the first is. */
const REPORTED = 1 << (SENDER_FLAG_BITS + 4);
/** The stream is an HTTP/2 stream (RFC 8441). */
const OVER_H2 = 1 << (SENDER_FLAG_BITS + 5);
/** Anything arrived from the peer since the heartbeat last cleared it (WebSocket#isAlive). */
const ALIVE = 1 << (SENDER_FLAG_BITS + 10);
/** Two bits: the type of a message being sent in fragments, as accepted (TEXT or BINARY), or 0. */
const SENDING_SHIFT = SENDER_FLAG_BITS + 6;
/** Two bits: binaryType, by its index in BINARY_TYPES. */
const BINARY_TYPE_SHIFT = SENDER_FLAG_BITS + 8;

/** The deadlines of the connections that share one set of options (one server's): one timer each, not one per connection. */
interface SharedDeadlines {
  close: Deadlines<Link>;
  message: Deadlines<Link>;
}
const deadlinesOf = new WeakMap<SocketOptions, SharedDeadlines>();

function sharedDeadlines(options: SocketOptions): SharedDeadlines {
  let deadlines = deadlinesOf.get(options);
  if (!deadlines) {
    deadlines = { close: new Deadlines(options.closeTimeout, closeTimedOut), message: new Deadlines(options.messageTimeout, messageTimedOut) };
    deadlinesOf.set(options, deadlines);
  }
  return deadlines;
}
type TaggedStream = Duplex & { [kLink]?: Link };

function toBuffer(data: Sendable): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (Buffer.isBuffer(data)) return data;
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

function noMask(method: string): TypeError {
  return new ArgumentTypeError('INVALID_ARGUMENT', `WebSocket.${method}: a server does not mask its frames (RFC 6455 §5.1); leave "mask" unset or false`);
}

let linkOf: (ws: WebSocket) => Link;

/**
 * A WebSocket's listeners by event name. EventEmitter makes `{ __proto__: null }`,
 * which V8 keeps as a dictionary; an instance of a class whose prototype has
 * no prototype is as free of inherited names and keeps fast properties
 * (docs/performance.md, idle memory). EventEmitter treats it like its own.
 */
function Listeners(): void {}
// No own keys either (a class's prototype would have `constructor`).
Listeners.prototype = Object.create(null) as object;
const NewListeners = Listeners as unknown as new () => object;

export class WebSocket extends EventEmitter {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  // Also on every instance, through the prototype (below), as in `ws`.
  declare readonly CONNECTING: 0;
  declare readonly OPEN: 1;
  declare readonly CLOSING: 2;
  declare readonly CLOSED: 3;

  /** The subprotocol agreed in the handshake, or ''. */
  readonly protocol: string;
  /** The Sec-WebSocket-Extensions value agreed (e.g. "permessage-deflate"), or ''. */
  readonly extensions: string;
  readonly #link: Link;

  static {
    linkOf = (ws) => ws.#link;
  }

  constructor(
    stream: Duplex,
    options: SocketOptions,
    protocol = '',
    extensions = '',
    deflate?: PerMessageDeflate,
    transport: Transport = 'http/1.1',
  ) {
    super();
    (this as unknown as { _events: object })._events = new NewListeners();
    this.protocol = protocol;
    this.extensions = extensions;
    this.#link = new Link(this, stream, options, deflate, transport === 'h2');
  }

  get readyState(): number {
    const link = this.#link;
    if (link.transportClosed) return WebSocket.CLOSED;
    return link.connection.state === 'OPEN' ? WebSocket.OPEN : WebSocket.CLOSING;
  }

  /** Bytes queued and not yet handed to the kernel: in the socket, and held behind a message being compressed. */
  get bufferedAmount(): number {
    return this.#link.bufferedAmount;
  }

  /** Set by the heartbeat; true when the peer has shown life since the last ping. */
  get isAlive(): boolean {
    return this.#link.alive;
  }

  set isAlive(alive: boolean) {
    this.#link.alive = alive;
  }

  /** 'h2' for a WebSocket on an HTTP/2 stream (RFC 8441), else 'http/1.1'. */
  get transport(): Transport {
    return this.#link.transport;
  }

  get remoteAddress(): string | undefined {
    const stream = this.#link.stream;
    // An HTTP/2 stream's peer is its connection's.
    if (this.transport === 'h2') return (stream as Http2Stream).session?.socket?.remoteAddress;
    return (stream as Partial<Socket>).remoteAddress;
  }

  /** How binary messages reach 'message' listeners: Buffer (default), ArrayBuffer, or an array of Buffers. */
  get binaryType(): BinaryType {
    return this.#link.binaryType;
  }

  set binaryType(type: BinaryType) {
    if (!BINARY_TYPES.includes(type)) {
      throw new ArgumentTypeError('INVALID_ARGUMENT', `WebSocket.binaryType must be "nodebuffer", "arraybuffer" or "fragments", got ${String(type)}`);
    }
    this.#link.binaryType = type;
  }

  /**
   * Queue a message, or a fragment of one (`fin: false`). Returns true while
   * the queue is below the high-water mark; false means wait for 'drain'. A
   * send on a connection that is not open returns false and passes a
   * NOT_OPEN error to `callback`, if given. Unknown options throw.
   */
  send(data: Sendable, options?: SendOptions | SendCallback, callback?: SendCallback): boolean {
    let binary = typeof data !== 'string';
    let compress = true;
    let fin = true;
    if (typeof options === 'function') {
      callback = options;
    } else if (options !== undefined) {
      checkSendOptions(options);
      if (options.mask) throw noMask('send');
      if (options.binary !== undefined) binary = options.binary;
      if (options.compress === false) compress = false;
      if (options.fin === false) fin = false;
    }
    const link = this.#link;
    if (!link.writable(callback)) return false;
    let whole = true;
    if (link.sending !== 0) {
      // RFC 6455 §5.4: a continuation frame carries the type of the message's first frame.
      whole = false;
      if (typeof options === 'object' && options.binary !== undefined && binary !== (link.sending === BINARY)) {
        throw new ArgumentTypeError('INVALID_ARGUMENT', 'WebSocket.send: "binary" differs from the fragmented message being sent');
      }
    }
    link.sending = fin ? 0 : link.sending || (binary ? BINARY : TEXT);
    link.message(toBuffer(data), binary, compress && whole && fin, fin, callback);
    return link.afterWrite();
  }

  /** Write a frame made once by `encodeMessage`, e.g. the same bytes for many clients. */
  sendFrame(frame: Buffer, callback?: SendCallback): boolean {
    const link = this.#link;
    if (!link.writable(callback)) return false;
    if (link.sending !== 0) throw new StateError('WebSocket.sendFrame: a fragmented message is being sent; end it with fin: true first');
    link.frame(frame, callback);
    return link.afterWrite();
  }

  /**
   * Send a ping (RFC 6455 §5.5.2), also while closing until the peer's
   * Close. `callback` is called once it is written, or with NOT_OPEN.
   */
  ping(data?: Sendable | SendCallback, mask?: boolean | SendCallback, callback?: SendCallback): void {
    this.#link.control('ping', data, mask, callback);
  }

  /** Send an unsolicited pong (RFC 6455 §5.5.3); arguments as ping(). */
  pong(data?: Sendable | SendCallback, mask?: boolean | SendCallback, callback?: SendCallback): void {
    this.#link.control('pong', data, mask, callback);
  }

  /**
   * Start the closing handshake (RFC 6455 §7.1.2), after the messages
   * already accepted. `reason` is text or UTF-8 bytes, at most 123 bytes. The
   * socket is destroyed if the peer has not completed it within `closeTimeout`.
   */
  close(code?: number, reason?: string | Buffer): void {
    if (reason !== undefined && typeof reason !== 'string' && !(reason instanceof Uint8Array)) {
      throw new ArgumentTypeError('INVALID_ARGUMENT', 'WebSocket.close: the reason must be a string or a Buffer');
    }
    const link = this.#link;
    const open = link.connection.state === 'OPEN';
    // A bad code or reason throws, whatever the state.
    link.connection.close(code, reason);
    if (open) link.armCloseTimer();
  }

  /** Destroy the socket at once, with no closing handshake (an HTTP/2 stream is reset, its connection stays). */
  terminate(): void {
    this.#link.abort(undefined);
  }

  // `ws`'s attribute handlers: refused with a TypeError naming the alternative (below).
  declare onmessage: never;
  declare onclose: never;
  declare onerror: never;
  declare onopen: never;
}

for (const [name, value] of [['CONNECTING', 0], ['OPEN', 1], ['CLOSING', 2], ['CLOSED', 3]] as const) {
  Object.defineProperty(WebSocket.prototype, name, { value, enumerable: true });
}

// Set silently, they would do nothing: say what to use instead.
for (const [name, instead] of [
  ['onmessage', "ws.on('message', (data, isBinary) => ...)"],
  ['onclose', "ws.on('close', (code, reason) => ...)"],
  ['onerror', "ws.on('error', (error) => ...)"],
  ['onopen', "the server's 'connection' event (a server-side WebSocket is open when you get it)"],
]) {
  Object.defineProperty(WebSocket.prototype, name, {
    get: () => undefined,
    set: () => {
      throw new ArgumentTypeError('UNSUPPORTED', `WebSocket.${name} is not supported; use ${instead}`);
    },
  });
}

/** Refuse unknown send option keys, without allocating for the known ones. */
function checkSendOptions(options: SendOptions): void {
  if (options === null || typeof options !== 'object') {
    checkOptions('WebSocket.send', options, SEND_OPTIONS);
    return;
  }
  for (const key in options) {
    if (!SEND_OPTIONS.has(key)) checkOptions('WebSocket.send', options, SEND_OPTIONS);
  }
}

/** @internal What a server keeps of its WebSockets: the `clients` set (unless not tracked), and a count of open sockets. */
export interface WebSocketOwner {
  readonly clients: Set<WebSocket> | undefined;
  /** The WebSocket's socket closed (before 'close' is emitted). */
  closed(): void;
}

/** @internal Join the owner's `clients`; leave it and tell the owner when the socket closes, before 'close' is emitted. */
export function trackWebSocket(ws: WebSocket, owner: WebSocketOwner): void {
  linkOf(ws).owner = owner;
  owner.clients?.add(ws);
}

/** @internal Feed the bytes that arrived with the handshake, then start reading. */
export function startWebSocket(ws: WebSocket, head: Buffer): void {
  linkOf(ws).start(head);
}

/** @internal Report `error` and destroy the socket (e.g. the heartbeat's). */
export function abortWebSocket(ws: WebSocket, error: WebSocketError): void {
  linkOf(ws).abort(error);
}

/** The private side of a WebSocket: the core's handler, the stream's listeners and the timers. */
// One object per connection for the runtime: the Sender (the outbound queue) is its base class.
class Link extends Sender implements ConnectionHandler {
  readonly connection: Connection;
  /** The server's, told on close (a field, not a listener closure per client). */
  owner: WebSocketOwner | undefined = undefined;

  constructor(
    readonly ws: WebSocket,
    stream: Duplex,
    private readonly options: SocketOptions,
    deflate: PerMessageDeflate | undefined,
    overH2: boolean,
  ) {
    super(stream, deflate);
    this.connection = new Connection(this, { maxPayload: options.maxPayload, maxFragments: options.maxFragments, deflate });
    this.flags |= ALIVE | (overH2 ? OVER_H2 : 0);
    const tagged = stream as TaggedStream;
    tagged[kLink] = this;
    // Socket-only calls: an HTTP/2 stream or another Duplex has none.
    const socket = stream as Partial<Socket>;
    if (typeof socket.setNoDelay === 'function') socket.setNoDelay(true);
    if (typeof socket.setTimeout === 'function') socket.setTimeout(0);
    // The peer's FIN ends our side only once what was accepted is written (handleEnd).
    stream.allowHalfOpen = true;
    dropHalfCloseListener(stream);
    stream.on('data', onStreamData);
    stream.on('drain', onStreamDrain);
    stream.on('close', onStreamClose);
    stream.on('end', onStreamEnd);
    stream.on('error', onStreamError);
  }

  get transportClosed(): boolean {
    return (this.flags & TRANSPORT_CLOSED) !== 0;
  }

  get alive(): boolean {
    return (this.flags & ALIVE) !== 0;
  }

  set alive(alive: boolean) {
    if (alive) this.flags |= ALIVE;
    else this.flags &= ~ALIVE;
  }

  get transport(): Transport {
    return this.flags & OVER_H2 ? 'h2' : 'http/1.1';
  }

  /** The type of a message being sent in fragments, as accepted (TEXT or BINARY), or 0. */
  get sending(): number {
    return (this.flags >> SENDING_SHIFT) & 3;
  }

  set sending(type: number) {
    this.flags = (this.flags & ~(3 << SENDING_SHIFT)) | (type << SENDING_SHIFT);
  }

  get binaryType(): BinaryType {
    return BINARY_TYPES[(this.flags >> BINARY_TYPE_SHIFT) & 3];
  }

  set binaryType(type: BinaryType) {
    this.flags = (this.flags & ~(3 << BINARY_TYPE_SHIFT)) | (BINARY_TYPES.indexOf(type) << BINARY_TYPE_SHIFT);
  }

  start(head: Buffer): void {
    if (head.length > 0) this.read(head);
    if (!this.connection.paused && !this.transportClosed) this.stream.resume();
  }

  // ConnectionHandler: what the protocol core tells us.

  onMessage(data: Buffer, isBinary: boolean): void {
    if (this.flags & MESSAGE_DEADLINE) this.disarm(MESSAGE_DEADLINE);
    const converted = isBinary && (this.flags & (3 << BINARY_TYPE_SHIFT)) !== 0;
    if (!this.dispatch('message', converted ? convert(data, this.binaryType) : data, isBinary)) return;
    // Per-message backpressure: past the mark, take no further message out of what was read.
    if (this.bufferedAmount > this.options.highWaterMark && !this.stream.destroyed) this.pauseReading();
  }

  onPing(data: Buffer): void {
    this.dispatch('ping', data, undefined);
  }

  onPong(data: Buffer): void {
    this.dispatch('pong', data, undefined);
  }

  onCloseFrame(): void {
    // The 'close' event waits for the TCP close, as in RFC 6455 §7.1.4.
  }

  onProtocolError(error: ProtocolError): void {
    this.report(error);
  }

  // write(data): the Sender's.

  closeTransport(): void {
    this.end();
    this.armCloseTimer();
  }

  // Sender

  protected onReleased(): void {
    if (this.flags & DRAIN_OWED) this.watchQueue();
  }

  // Stream events, dispatched through module-level functions (no closures per connection).

  read(chunk: Buffer | undefined): void {
    const stream = this.stream;
    const outer = swapListenerException(undefined);
    let thrown: { error: unknown } | undefined;
    // Everything written while handling one read leaves in one writev.
    stream.cork();
    try {
      if (chunk) this.connection.receive(chunk);
      else this.connection.resume();
    } finally {
      // A throwing 'error' listener must not leave the socket corked.
      stream.uncork();
      thrown = swapListenerException(outer);
    }
    if (thrown) throw thrown.error;
    // Receive-side backpressure: stop reading a peer we cannot answer.
    if (this.bufferedAmount > this.options.highWaterMark && !stream.destroyed) this.pauseReading();
    // A message started and not finished must finish in time.
    if (this.connection.inMessage && !(this.flags & MESSAGE_DEADLINE) && this.connection.state === 'OPEN') {
      this.flags |= MESSAGE_DEADLINE;
      sharedDeadlines(this.options).message.add(this);
    }
  }

  handleDrain(): void {
    // Still over the mark with held messages: onReleased() looks again once they go.
    if (this.held > 0 && this.bufferedAmount >= this.options.highWaterMark) return;
    // 'drain' only after a send() that returned false; a socket drain alone is not one.
    const owed = this.flags & DRAIN_OWED;
    this.flags &= ~DRAIN_OWED;
    if (owed) this.ws.emit('drain');
    if (this.connection.paused) this.read(undefined);
    if (!this.connection.paused && this.stream.isPaused() && !this.transportClosed) this.stream.resume();
  }

  handleEnd(): void {
    // The peer ended its side: the messages accepted go out, then ours ends (allowHalfOpen streams wait for this).
    this.connection.receiveEnd();
  }

  handleClose(): void {
    this.flags |= TRANSPORT_CLOSED;
    this.connection.abort();
    this.drop();
    const owner = this.owner;
    if (owner) {
      owner.closed();
      owner.clients?.delete(this.ws);
    }
    if (this.flags & CLOSE_DEADLINE) this.disarm(CLOSE_DEADLINE);
    if (this.flags & MESSAGE_DEADLINE) this.disarm(MESSAGE_DEADLINE);
    const status = this.connection.closeStatus!;
    this.ws.emit('close', status.code, status.reason);
  }

  /**
   * The message deadline passed: close with 1008 (a closing handshake, so
   * the peer learns why; `closeTimeout` bounds it). Nothing more is delivered.
   */
  messageTimedOut(): void {
    this.flags &= ~MESSAGE_DEADLINE;
    if (!this.connection.inMessage || this.connection.state !== 'OPEN') return;
    this.connection.close(POLICY_VIOLATION, 'message not finished in time');
    this.armCloseTimer();
    this.report(new WebSocketError('MESSAGE_TIMEOUT', POLICY_VIOLATION));
  }

  /** Report `error` (if any), drop what waits and destroy the stream: readyState is CLOSING at once. */
  abort(error: WebSocketError | undefined): void {
    this.connection.abort();
    this.drop();
    destroyStream(this.stream);
    // Reported last: an 'error' listener already sees CLOSING.
    if (error) this.report(error);
  }

  // send() and sendFrame() without a closure per message: check, write, then account.
  writable(callback: SendCallback | undefined): boolean {
    if (this.connection.state === 'OPEN' && !this.transportClosed) return true;
    if (callback) process.nextTick(callback, new WebSocketError('NOT_OPEN'));
    return false;
  }

  afterWrite(): boolean {
    const queued = this.bufferedAmount;
    if (queued > this.options.maxBufferedAmount) {
      this.report(new WebSocketError('SEND_BUFFER_LIMIT', POLICY_VIOLATION));
      this.connection.fail(POLICY_VIOLATION, 'send buffer limit exceeded');
      return false;
    }
    if (queued < this.options.highWaterMark) return true;
    this.expectDrain();
    return false;
  }

  control(kind: 'ping' | 'pong', data: Sendable | SendCallback | undefined, mask: boolean | SendCallback | undefined, callback: SendCallback | undefined): void {
    // ws's call forms: (cb), (data, cb), (data, mask, cb).
    if (typeof data === 'function') {
      callback = data;
      data = undefined;
      mask = undefined;
    } else if (typeof mask === 'function') {
      callback = mask;
      mask = undefined;
    }
    if (mask) throw noMask(kind);
    const payload = data === undefined ? EMPTY_BUFFER : toBuffer(data);
    // RFC 6455 §5.5.2: also after our Close, until the peer's.
    if (this.transportClosed || this.connection.state === 'CLOSED') {
      checkControlPayload(payload);
      if (callback) process.nextTick(callback, new WebSocketError('NOT_OPEN'));
      return;
    }
    if (kind === 'ping') this.connection.ping(payload);
    else this.connection.pong(payload);
    if (callback) this.callback(callback);
  }

  armCloseTimer(): void {
    if (this.flags & (CLOSE_DEADLINE | TRANSPORT_CLOSED)) return;
    this.flags |= CLOSE_DEADLINE;
    sharedDeadlines(this.options).close.add(this);
  }

  /** The closing handshake's time is up: destroy the stream. */
  closeTimedOut(): void {
    this.flags &= ~CLOSE_DEADLINE;
    destroyStream(this.stream);
  }

  private disarm(which: number): void {
    this.flags &= ~which;
    const deadlines = sharedDeadlines(this.options);
    (which === CLOSE_DEADLINE ? deadlines.close : deadlines.message).delete(this);
  }

  /** Emit an event of the parser's; false if a listener threw. */
  private dispatch(event: string, data: unknown, isBinary: boolean | undefined): boolean {
    try {
      if (isBinary === undefined) this.ws.emit(event, data);
      else this.ws.emit(event, data, isBinary);
      return true;
    } catch (error) {
      this.listenerThrew(error);
      return false;
    }
  }

  private pauseReading(): void {
    this.connection.pause();
    this.stream.pause();
    this.expectDrain();
  }

  /**
   * A listener threw: the connection is failed with 1011 (RFC 6455 §7.4.1),
   * after the messages already accepted, and nothing more is delivered.
   */
  private listenerThrew(error: unknown): void {
    this.connection.fail(INTERNAL_ERROR);
    if (this.ws.listenerCount('error') > 0) this.report(new WebSocketError('LISTENER_ERROR', INTERNAL_ERROR, error));
    else listenerException ??= { error };
  }

  private report(error: ProtocolError | WebSocketError): void {
    if (this.flags & REPORTED) return;
    this.flags |= REPORTED;
    // An unhandled 'error' must not crash the process: emit only to listeners.
    if (this.ws.listenerCount('error') > 0) this.ws.emit('error', error);
  }

  /**
   * Make sure the owed 'drain' comes. The socket emits its own only once its
   * queue has passed the socket's high-water mark (16 KiB), which a smaller
   * `highWaterMark` may never reach: then an empty write's callback tells us
   * when everything queued before it has gone.
   */
  private expectDrain(): void {
    if (this.flags & DRAIN_OWED) return;
    this.flags |= DRAIN_OWED;
    this.watchQueue();
  }

  private watchQueue(): void {
    const stream = this.stream;
    // A stream that needs a drain emits 'drain'; an ended one takes no writes.
    if (stream.writableNeedDrain || stream.writableEnded || stream.destroyed) return;
    // Only held messages keep it over the mark: onReleased() looks again once they go.
    if (stream.writableLength === 0 && this.held > 0) return;
    stream.write(EMPTY_BUFFER, (error) => {
      if (error || !(this.flags & DRAIN_OWED)) return;
      if (this.bufferedAmount < this.options.highWaterMark) this.handleDrain();
      else this.watchQueue();
    });
  }
}

/**
 * A listener's exception in the read being handled (listeners run only inside
 * Link#read), thrown again once it is handled when there is no 'error'
 * listener. Module-level, not a field per connection: each read keeps the one
 * of any read it is nested in, and puts it back.
 */
let listenerException: { error: unknown } | undefined;

function swapListenerException(next: { error: unknown } | undefined): { error: unknown } | undefined {
  const current = listenerException;
  listenerException = next;
  return current;
}

/** A binary message as `binaryType` asks (ws's forms). */
function convert(data: Buffer, type: BinaryType): ArrayBuffer | Buffer[] {
  if (type === 'fragments') return [data];
  const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
  return (whole ? data.buffer : data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) as ArrayBuffer;
}

/** Destroy a socket; reset an HTTP/2 stream with RST_STREAM CANCEL (RFC 8441 §5.1), its connection untouched. */
function destroyStream(stream: Duplex): void {
  if (isHttp2Stream(stream)) {
    if (!stream.destroyed) stream.close(h2.NGHTTP2_CANCEL);
  } else {
    stream.destroy();
  }
}

function isHttp2Stream(stream: Duplex): stream is Http2Stream {
  return 'session' in stream && typeof (stream as Http2Stream).close === 'function';
}

function messageTimedOut(link: Link): void {
  link.messageTimedOut();
}

function closeTimedOut(link: Link): void {
  link.closeTimedOut();
}

/**
 * A net.Socket's own 'end' listener does something only when the socket is not
 * half-open (it refuses writes after the peer's FIN); ours is half-open, so it
 * goes, and ours is the only one: no listener array per connection. Any other
 * listener stays.
 */
function dropHalfCloseListener(stream: Duplex): void {
  const ends = stream.listeners('end');
  if (ends.length === 1 && ends[0].name === 'onReadableStreamEnd') stream.off('end', ends[0] as () => void);
}

function onStreamData(this: TaggedStream, chunk: Buffer): void {
  const link = this[kLink]!;
  link.alive = true;
  link.read(chunk);
}

function onStreamDrain(this: TaggedStream): void {
  this[kLink]!.handleDrain();
}

function onStreamClose(this: TaggedStream): void {
  this[kLink]!.handleClose();
}

function onStreamEnd(this: TaggedStream): void {
  this[kLink]!.handleEnd();
}

function onStreamError(this: TaggedStream, error: Error): void {
  this[kLink]!.abort(new WebSocketError('SOCKET_ERROR', undefined, error));
}
