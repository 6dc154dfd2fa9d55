/**
 * One accepted WebSocket connection: the sans-I/O Connection driven by a
 * socket, with timers and backpressure. Shaped like `ws`'s WebSocket.
 *
 * With permessage-deflate, a large message is compressed on the threadpool
 * (deflate-pool.ts); until it is sent, what is sent after it waits, in order,
 * counted in `bufferedAmount` (docs/deflate.md).
 */
import { EventEmitter } from 'node:events';
import { type Http2Stream, constants as h2 } from 'node:http2';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  ABNORMAL_CLOSURE,
  Connection,
  type ConnectionHandler,
  type MessageLimits,
  type PerMessageDeflate,
  type ProtocolError,
  encodeClosePayload,
} from '../protocol/index.js';
import { ASYNC_DEFLATE_BYTES, deflateOffLoop } from './deflate-pool.js';
import { WebSocketError } from './errors.js';

export type SendCallback = (error?: Error | null) => void;
export type Sendable = string | Buffer | ArrayBuffer | ArrayBufferView;

export interface SendOptions {
  /** Send as binary (default: true for bytes, false for strings). */
  binary?: boolean;
}

export interface SocketOptions extends MessageLimits {
  /** Above this many queued bytes, send() returns false and we stop reading the peer. */
  highWaterMark: number;
  /** Past this many queued bytes the connection is closed with 1008. */
  maxBufferedAmount: number;
  /** How long to wait for the closing handshake before destroying the socket (ms). */
  closeTimeout: number;
}

/** What was sent while a large message was being compressed: it follows that message, in order. */
type Held =
  | { kind: 'message'; data: Buffer; isBinary: boolean; callback: SendCallback | undefined }
  | { kind: 'frame'; data: Buffer; callback: SendCallback | undefined }
  | { kind: 'close'; code: number | undefined; reason: string | undefined };

const heldBytes = (item: Held): number => (item.kind === 'close' ? 0 : item.data.length);

const kWebSocket = Symbol('strictws.websocket');
type TaggedSocket = Duplex & { [kWebSocket]?: WebSocket };

/** What carries the frames: a TCP (or TLS) socket after an HTTP/1.1 upgrade, or an HTTP/2 stream (RFC 8441). */
export type Transport = 'http/1.1' | 'h2';

/** RFC 6455 §7.4.1: 1008 policy violation, used for a peer that will not read. */
const POLICY_VIOLATION = 1008;

function toBuffer(data: Sendable): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (Buffer.isBuffer(data)) return data;
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

export class WebSocket extends EventEmitter implements ConnectionHandler {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;

  /** The subprotocol agreed in the handshake, or ''. */
  readonly protocol: string;
  /** The Sec-WebSocket-Extensions value agreed (e.g. "permessage-deflate"), or ''. */
  readonly extensions: string;
  /** Set by the heartbeat; true when the peer has shown life since the last ping. */
  isAlive = true;
  /** 'h2' for a WebSocket on an HTTP/2 stream (RFC 8441), else 'http/1.1'. */
  readonly transport: Transport;

  private readonly connection: Connection;
  private failure: ProtocolError | WebSocketError | undefined;
  private closeTimer: NodeJS.Timeout | undefined;
  private transportClosed = false;
  /** send() returned false or reading paused: a 'drain' is owed. */
  private drainOwed = false;
  /** The server's `clients` set, which this leaves on close (a field, not a listener closure per client). */
  private tracker: Set<WebSocket> | undefined = undefined;
  /** permessage-deflate, if negotiated. */
  private readonly deflate: PerMessageDeflate | undefined;
  /** Set while a message is compressed on the threadpool: what was sent after it, in order. */
  private backlog: Held[] | undefined = undefined;
  /** Bytes of the message being compressed and of the backlog. */
  private held = 0;
  /** close() was called behind held messages: the close frame follows them. */
  private closeHeld = false;

  constructor(
    private readonly socket: Duplex,
    private readonly options: SocketOptions,
    protocol = '',
    extensions = '',
    deflate?: PerMessageDeflate,
    transport: Transport = 'http/1.1',
  ) {
    super();
    this.protocol = protocol;
    this.extensions = extensions;
    this.deflate = deflate;
    this.transport = transport;
    this.connection = new Connection(this, { ...options, deflate });
    const tagged = socket as TaggedSocket;
    tagged[kWebSocket] = this;
    // Socket-only calls: an HTTP/2 stream shares its connection's socket.
    if (transport === 'http/1.1') {
      (socket as Socket).setNoDelay(true);
      (socket as Socket).setTimeout(0);
    }
    socket.on('data', onSocketData);
    socket.on('drain', onSocketDrain);
    socket.on('close', onSocketClose);
    socket.on('end', onSocketEnd);
    socket.on('error', onSocketError);
  }

  get readyState(): number {
    if (this.transportClosed) return WebSocket.CLOSED;
    return this.connection.state === 'OPEN' && !this.closeHeld ? WebSocket.OPEN : WebSocket.CLOSING;
  }

  /** Bytes queued and not yet handed to the kernel: in the socket, and held behind a message being compressed. */
  get bufferedAmount(): number {
    return this.socket.writableLength + this.held;
  }

  get remoteAddress(): string | undefined {
    if (this.transport === 'h2') return (this.socket as Http2Stream).session?.socket?.remoteAddress;
    return (this.socket as Socket).remoteAddress;
  }

  /**
   * Queue a message. Returns true while the queue is below the high-water
   * mark; false means wait for 'drain'. A send on a connection that is not
   * open returns false and passes a NOT_OPEN error to `callback`, if given.
   */
  send(data: Sendable, options?: SendOptions | (SendCallback), callback?: SendCallback): boolean {
    if (typeof options === 'function') {
      callback = options;
      options = undefined;
    }
    const isBinary = options?.binary ?? typeof data !== 'string';
    if (!this.writable(callback)) return false;
    const buffer = toBuffer(data);
    if (this.backlog) return this.hold({ kind: 'message', data: buffer, isBinary, callback });
    if (this.deflateLater(buffer, isBinary, callback)) return this.afterWrite(undefined);
    this.connection.send(buffer, isBinary);
    return this.afterWrite(callback);
  }

  /** Write a frame made once by `encodeMessage`, e.g. the same bytes for many clients. */
  sendFrame(frame: Buffer, callback?: SendCallback): boolean {
    if (!this.writable(callback)) return false;
    if (this.backlog) return this.hold({ kind: 'frame', data: frame, callback });
    this.connection.sendEncoded(frame);
    return this.afterWrite(callback);
  }

  ping(data: Sendable = Buffer.alloc(0)): void {
    if (this.connection.state === 'OPEN') this.connection.ping(toBuffer(data));
  }

  pong(data: Sendable = Buffer.alloc(0)): void {
    if (this.connection.state === 'OPEN') this.connection.pong(toBuffer(data));
  }

  /**
   * Start the closing handshake (RFC 6455 §7.1.2). The socket is destroyed
   * if the peer has not completed it within `closeTimeout`.
   */
  close(code?: number, reason?: string): void {
    if (this.connection.state !== 'OPEN' || this.closeHeld) return;
    if (this.backlog) {
      // Behind the held messages; a bad code or reason throws now all the same.
      encodeClosePayload(code, reason);
      this.closeHeld = true;
      this.backlog.push({ kind: 'close', code, reason });
    } else {
      this.connection.close(code, reason);
    }
    this.armCloseTimer();
  }

  /** Destroy the socket at once, with no closing handshake (an HTTP/2 stream is reset, its connection stays). */
  terminate(): void {
    this.destroyTransport();
  }

  /** @internal Report `error` and destroy the socket. */
  abort(error: WebSocketError): void {
    this.fail(error);
    this.destroyTransport();
  }

  /** @internal Destroy the socket, or reset the stream with RST_STREAM CANCEL (RFC 8441 §5.1). */
  destroyTransport(): void {
    if (this.transport === 'h2') {
      const stream = this.socket as Http2Stream;
      if (!stream.destroyed) stream.close(h2.NGHTTP2_CANCEL);
    } else {
      this.socket.destroy();
    }
  }

  // ConnectionHandler: what the protocol core tells us.

  onMessage(data: Buffer, isBinary: boolean): void {
    this.emit('message', data, isBinary);
  }

  onPing(data: Buffer): void {
    this.emit('ping', data);
  }

  onPong(data: Buffer): void {
    this.emit('pong', data);
  }

  onCloseFrame(): void {
    // The 'close' event waits for the TCP close, as in RFC 6455 §7.1.4.
  }

  onProtocolError(error: ProtocolError): void {
    this.fail(error);
  }

  write(data: Buffer): void {
    this.socket.write(data);
  }

  closeTransport(): void {
    // RFC 6455 §7.1.1: the server closes the TCP connection first; RFC 8441 §5.1: END_STREAM on a stream.
    this.socket.end();
    this.armCloseTimer();
  }

  // Socket events, dispatched through module-level functions (no closures per connection).

  /** @internal */
  handleData(chunk: Buffer): void {
    this.isAlive = true;
    const socket = this.socket;
    // Everything written while handling one read leaves in one writev.
    socket.cork();
    try {
      this.connection.receive(chunk);
    } finally {
      // A throwing 'message' listener must not leave the socket corked.
      socket.uncork();
    }
    // Receive-side backpressure: stop reading a peer we cannot answer.
    if (this.bufferedAmount > this.options.highWaterMark && !socket.destroyed) {
      socket.pause();
      this.expectDrain();
    }
  }

  /** @internal */
  handleDrain(): void {
    // Still over the mark with held messages: deflated() looks again once they go.
    if (this.held > 0 && this.bufferedAmount >= this.options.highWaterMark) return;
    this.drainOwed = false;
    if (this.socket.isPaused()) this.socket.resume();
    this.emit('drain');
  }

  /** @internal Join `clients`; leave it when the socket closes, before 'close' is emitted. */
  track(clients: Set<WebSocket>): void {
    this.tracker = clients;
    clients.add(this);
  }

  /** @internal */
  handleClose(): void {
    this.transportClosed = true;
    this.tracker?.delete(this);
    if (this.closeTimer) clearTimeout(this.closeTimer);
    const { peerClose } = this.connection;
    const code = peerClose?.code ?? this.failure?.closeCode ?? ABNORMAL_CLOSURE;
    this.emit('close', code, peerClose?.reason ?? '');
  }

  /** @internal */
  handleSocketError(error: Error): void {
    this.abort(new WebSocketError('SOCKET_ERROR', undefined, error));
  }

  // send() and sendFrame() without a closure per message: check, write, then account.
  private writable(callback: SendCallback | undefined): boolean {
    if (this.connection.state === 'OPEN' && !this.transportClosed && !this.closeHeld) return true;
    if (callback) process.nextTick(callback, new WebSocketError('NOT_OPEN'));
    return false;
  }

  private afterWrite(callback: SendCallback | undefined): boolean {
    if (callback) this.socket.write(EMPTY, callback);
    const queued = this.bufferedAmount;
    if (queued > this.options.maxBufferedAmount) {
      this.fail(new WebSocketError('SEND_BUFFER_LIMIT', POLICY_VIOLATION));
      this.connection.close(POLICY_VIOLATION, 'send buffer limit exceeded');
      this.closeTransport();
      return false;
    }
    if (queued < this.options.highWaterMark) return true;
    this.expectDrain();
    return false;
  }

  /**
   * Make sure the owed 'drain' comes. The socket emits its own only once its
   * queue has passed the socket's high-water mark (16 KiB), which a smaller
   * `highWaterMark` may never reach: then an empty write's callback tells us
   * when everything queued before it has gone.
   */
  private expectDrain(): void {
    if (this.drainOwed) return;
    this.drainOwed = true;
    this.watchQueue();
  }

  private watchQueue(): void {
    const socket = this.socket;
    // A socket that needs a drain emits 'drain'; an ended one takes no writes.
    if (socket.writableNeedDrain || socket.writableEnded || socket.destroyed) return;
    // Only held messages keep it over the mark: deflated() looks again once they go.
    if (socket.writableLength === 0 && this.held > 0) return;
    socket.write(EMPTY, (error) => {
      if (error || !this.drainOwed) return;
      if (this.bufferedAmount < this.options.highWaterMark) this.handleDrain();
      else this.watchQueue();
    });
  }

  // permessage-deflate: large messages compressed on the threadpool, in order.

  /** Start compressing a large message on the threadpool; false if it goes out now instead. */
  private deflateLater(data: Buffer, isBinary: boolean, callback: SendCallback | undefined): boolean {
    if (!this.deflate || data.length < ASYNC_DEFLATE_BYTES) return false;
    const options = this.deflate.deflateOptions(data);
    if (!options) return false;
    this.backlog = [];
    this.held += data.length;
    deflateOffLoop(data, options, (out) => this.deflated(data, isBinary, callback, out));
    return true;
  }

  private hold(item: Held): boolean {
    this.backlog!.push(item);
    this.held += heldBytes(item);
    return this.afterWrite(undefined);
  }

  /** A message compressed on the threadpool: send it, then what waited behind it. */
  private deflated(data: Buffer, isBinary: boolean, callback: SendCallback | undefined, out: Buffer | undefined): void {
    this.held -= data.length;
    const backlog = this.backlog!;
    this.backlog = undefined;
    const socket = this.socket;
    socket.cork();
    try {
      if (!this.sendable()) {
        this.drop([{ kind: 'message', data, isBinary, callback }, ...backlog]);
        return;
      }
      const payload = out && this.deflate!.finishDeflate(data, out);
      if (payload) this.connection.sendCompressed(payload, isBinary);
      else this.connection.send(data, isBinary, false);
      if (callback) socket.write(EMPTY, callback);
      this.release(backlog);
    } finally {
      socket.uncork();
    }
    if (this.drainOwed) this.watchQueue();
  }

  /** Send what was held, in order, until one more large message needs the threadpool. */
  private release(items: Held[]): void {
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (this.backlog) {
        // Compressing again: the rest waits behind that message (still counted in `held`).
        this.backlog.push(...items.slice(i));
        return;
      }
      this.held -= heldBytes(item);
      if (!this.sendable()) {
        this.drop(items.slice(i));
        return;
      }
      if (item.kind === 'close') {
        this.connection.close(item.code, item.reason);
      } else if (item.kind === 'frame') {
        this.connection.sendEncoded(item.data);
        if (item.callback) this.socket.write(EMPTY, item.callback);
      } else if (!this.deflateLater(item.data, item.isBinary, item.callback)) {
        this.connection.send(item.data, item.isBinary);
        if (item.callback) this.socket.write(EMPTY, item.callback);
      }
    }
  }

  private sendable(): boolean {
    return this.connection.state === 'OPEN' && !this.transportClosed;
  }

  /**
   * The connection closed while these waited: they are not sent, and their
   * callbacks hear so. Nothing else is held then (one compression at a time).
   */
  private drop(items: Held[]): void {
    this.held = 0;
    for (const item of items) {
      if (item.kind !== 'close' && item.callback) process.nextTick(item.callback, new WebSocketError('NOT_OPEN'));
    }
  }

  private fail(error: ProtocolError | WebSocketError): void {
    if (this.failure) return;
    this.failure = error;
    // An unhandled 'error' must not crash the process: emit only to listeners.
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  private armCloseTimer(): void {
    if (this.closeTimer || this.transportClosed) return;
    this.closeTimer = setTimeout(destroyTransport, this.options.closeTimeout, this);
    this.closeTimer.unref();
  }

  /** @internal Feed bytes that arrived with the handshake. */
  receiveHead(head: Buffer): void {
    if (head.length > 0) this.handleData(head);
  }
}

const EMPTY = Buffer.alloc(0);

function destroyTransport(ws: WebSocket): void {
  ws.destroyTransport();
}

function onSocketData(this: TaggedSocket, chunk: Buffer): void {
  this[kWebSocket]!.handleData(chunk);
}

function onSocketDrain(this: TaggedSocket): void {
  this[kWebSocket]!.handleDrain();
}

function onSocketClose(this: TaggedSocket): void {
  this[kWebSocket]!.handleClose();
}

function onSocketEnd(this: TaggedSocket): void {
  // The peer closed its side: finish ours (allowHalfOpen sockets wait for this).
  // Not twice: a second end() only builds an ERR_STREAM_ALREADY_FINISHED (~1 KiB, with its stack).
  if (!this.writableEnded) this.end();
}

function onSocketError(this: TaggedSocket, error: Error): void {
  this[kWebSocket]!.handleSocketError(error);
}
