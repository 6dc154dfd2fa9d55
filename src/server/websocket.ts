/**
 * One accepted WebSocket connection: the sans-I/O Connection driven by a
 * socket, with timers and backpressure. Shaped like `ws`'s WebSocket.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import {
  ABNORMAL_CLOSURE,
  Connection,
  type ConnectionHandler,
  type MessageLimits,
  type ProtocolError,
} from '../protocol/index.js';
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

const kWebSocket = Symbol('strictws.websocket');
type TaggedSocket = Socket & { [kWebSocket]?: WebSocket };

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
  /** The Sec-WebSocket-Extensions value agreed, or ''. */
  readonly extensions: string;
  /** Set by the heartbeat; true when the peer has shown life since the last ping. */
  isAlive = true;

  private readonly connection: Connection;
  private failure: ProtocolError | WebSocketError | undefined;
  private closeTimer: NodeJS.Timeout | undefined;
  private transportClosed = false;
  /** send() returned false or reading paused: a 'drain' is owed. */
  private drainOwed = false;

  constructor(
    private readonly socket: Socket,
    private readonly options: SocketOptions,
    protocol = '',
    extensions = '',
  ) {
    super();
    this.protocol = protocol;
    this.extensions = extensions;
    this.connection = new Connection(this, options);
    const tagged = socket as TaggedSocket;
    tagged[kWebSocket] = this;
    socket.setNoDelay(true);
    socket.setTimeout(0);
    socket.on('data', onSocketData);
    socket.on('drain', onSocketDrain);
    socket.on('close', onSocketClose);
    socket.on('end', onSocketEnd);
    socket.on('error', onSocketError);
  }

  get readyState(): number {
    if (this.transportClosed) return WebSocket.CLOSED;
    return this.connection.state === 'OPEN' ? WebSocket.OPEN : WebSocket.CLOSING;
  }

  /** Bytes queued in the socket and not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this.socket.writableLength;
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
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
    return this.transmit(() => this.connection.send(toBuffer(data), isBinary), callback);
  }

  /** Write a frame made once by `encodeMessage`, e.g. the same bytes for many clients. */
  sendFrame(frame: Buffer, callback?: SendCallback): boolean {
    return this.transmit(() => this.connection.sendEncoded(frame), callback);
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
    if (this.connection.state !== 'OPEN') return;
    this.connection.close(code, reason);
    this.armCloseTimer();
  }

  /** Destroy the socket at once, with no closing handshake. */
  terminate(): void {
    this.socket.destroy();
  }

  /** @internal Report `error` and destroy the socket. */
  abort(error: WebSocketError): void {
    this.fail(error);
    this.socket.destroy();
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
    // RFC 6455 §7.1.1: the server closes the TCP connection first.
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
    if (socket.writableLength > this.options.highWaterMark && !socket.destroyed) {
      socket.pause();
      this.expectDrain();
    }
  }

  /** @internal */
  handleDrain(): void {
    this.drainOwed = false;
    if (this.socket.isPaused()) this.socket.resume();
    this.emit('drain');
  }

  /** @internal */
  handleClose(): void {
    this.transportClosed = true;
    if (this.closeTimer) clearTimeout(this.closeTimer);
    const { peerClose } = this.connection;
    const code = peerClose?.code ?? this.failure?.closeCode ?? ABNORMAL_CLOSURE;
    this.emit('close', code, peerClose?.reason ?? '');
  }

  /** @internal */
  handleSocketError(error: Error): void {
    this.abort(new WebSocketError('SOCKET_ERROR', undefined, error));
  }

  private transmit(write: () => void, callback: (SendCallback) | undefined): boolean {
    if (this.connection.state !== 'OPEN' || this.transportClosed) {
      if (callback) process.nextTick(callback, new WebSocketError('NOT_OPEN'));
      return false;
    }
    write();
    if (callback) this.socket.write(EMPTY, callback);
    const queued = this.socket.writableLength;
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
    socket.write(EMPTY, (error) => {
      if (error || !this.drainOwed) return;
      if (socket.writableLength < this.options.highWaterMark) this.handleDrain();
      else this.watchQueue();
    });
  }

  private fail(error: ProtocolError | WebSocketError): void {
    if (this.failure) return;
    this.failure = error;
    // An unhandled 'error' must not crash the process: emit only to listeners.
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  private armCloseTimer(): void {
    if (this.closeTimer || this.transportClosed) return;
    this.closeTimer = setTimeout(destroySocket, this.options.closeTimeout, this.socket);
    this.closeTimer.unref();
  }

  /** @internal Feed bytes that arrived with the handshake. */
  receiveHead(head: Buffer): void {
    if (head.length > 0) this.handleData(head);
  }
}

const EMPTY = Buffer.alloc(0);

function destroySocket(socket: Socket): void {
  socket.destroy();
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
  this.end();
}

function onSocketError(this: TaggedSocket, error: Error): void {
  this[kWebSocket]!.handleSocketError(error);
}
