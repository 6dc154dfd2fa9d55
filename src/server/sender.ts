/**
 * The outbound queue of one connection: the frames the protocol core writes,
 * the messages the application sends, the compression order and the end of
 * the transport, kept in the order they were accepted.
 *
 * With permessage-deflate, a large message is compressed on the threadpool
 * (deflate-pool.ts). Until it is written, the data accepted after it and the
 * end of the transport wait here, in order, counted in `bufferedAmount`
 * (docs/deflate.md); control frames do not wait (RFC 6455 §5.4 lets them in
 * anywhere). Each data message that waits is reserved in the Connection
 * (reserve, then settle once written), so the core holds our Close frame and
 * closeTransport until the messages accepted before them are out (§5.5.1):
 * nothing accepted is lost and no data frame follows our Close.
 */
import type { Duplex } from 'node:stream';
import { type Connection, EMPTY_BUFFER, type PerMessageDeflate } from '../protocol/index.js';
import { asyncDeflateBytes, deflateOffLoop } from './deflate-pool.js';
import { WebSocketError } from './errors.js';

export type SendCallback = (error?: Error | null) => void;

const enum Kind {
  /** A data message of the application's (reserved in the core). */
  Message,
  /** A data frame encoded by `encodeMessage` (reserved in the core). */
  Frame,
  /** The core's closeTransport. */
  End,
}

interface Held {
  kind: Kind;
  data: Buffer;
  isBinary: boolean;
  /** May be compressed: a whole message, `compress` not false. */
  compressible: boolean;
  fin: boolean;
  callback: SendCallback | undefined;
}

/** Bits of Sender#flags. */
/** A message is being compressed on the threadpool. */
const COMPRESSING = 1;
/** The transport is gone: nothing more is written, callbacks hear NOT_OPEN. */
const DROPPED = 2;
/** The socket is corked until the end of this tick: the frames written meanwhile go out in one writev. */
const BATCHING = 4;
/** The Sender's bits of `flags` are the lowest this many; a subclass may use the others. */
export const SENDER_FLAG_BITS = 3;

/**
 * The base of a connection's runtime object (websocket.ts's Link), not an
 * object of its own: one object per connection, not two. The subclass
 * provides the Connection and is told when held bytes have gone out.
 */
export abstract class Sender {
  /** Bytes accepted and not handed to the socket yet: the message being compressed and what waits behind it. */
  held = 0;
  /** Set while something waits: from the start of a compression until everything behind it is written. */
  private queue: Held[] | undefined = undefined;
  /** The next item of `queue` to write. */
  private head = 0;
  /** COMPRESSING, DROPPED, BATCHING; the subclass's bits above SENDER_FLAG_BITS. */
  protected flags = 0;

  /** The connection whose frames this writes. */
  protected abstract readonly connection: Connection;

  constructor(
    readonly stream: Duplex,
    private readonly deflate: PerMessageDeflate | undefined,
  ) {}

  /** Held bytes have gone out: a 'drain' may be due. */
  protected abstract onReleased(): void;

  /** Bytes queued and not yet handed to the kernel: in the socket, and held here. */
  get bufferedAmount(): number {
    return this.stream.writableLength + this.held;
  }

  /**
   * Bytes from the core: the frames of the message whose turn it is, control
   * frames, and our Close, which the core holds until its turn (`settle`).
   */
  write(data: Buffer): void {
    this.stream.write(data);
  }

  /** The core's closeTransport: RFC 6455 §7.1.1, the server closes the TCP connection first (RFC 8441 §5.1: END_STREAM on a stream). */
  end(): void {
    if (this.queue) this.hold(Kind.End, EMPTY_BUFFER, false, false, true, undefined);
    else if (!this.stream.writableEnded) this.stream.end();
  }

  /** A data message (or a fragment of one, `fin` false). The connection must be OPEN. */
  message(data: Buffer, isBinary: boolean, compressible: boolean, fin: boolean, callback: SendCallback | undefined): void {
    const connection = this.connection;
    if (this.queue) {
      connection.reserve();
      this.hold(Kind.Message, data, isBinary, compressible, fin, callback);
    } else if (compressible && this.deflateLater(data, isBinary, callback, true)) {
      // Reserved and on the threadpool.
    } else {
      connection.send(data, isBinary, compressible, fin);
      if (callback) this.stream.write(EMPTY_BUFFER, callback);
    }
  }

  /** A frame encoded once by `encodeMessage`. */
  frame(frame: Buffer, callback: SendCallback | undefined): void {
    if (!(this.flags & BATCHING)) this.batch();
    if (this.queue) {
      this.connection.reserve();
      this.hold(Kind.Frame, frame, true, false, true, callback);
    } else {
      this.connection.sendEncoded(frame);
      if (callback) this.stream.write(EMPTY_BUFFER, callback);
    }
  }

  /** Call `callback` once what was written so far is handed to the kernel (a ping's or pong's). */
  callback(callback: SendCallback): void {
    this.stream.write(EMPTY_BUFFER, callback);
  }

  /**
   * The transport is gone: what waits is not sent, and its callbacks hear so.
   * A compression under way finds out when it ends.
   */
  drop(): void {
    if (this.flags & DROPPED) return;
    this.flags |= DROPPED;
    const queue = this.queue;
    const head = this.head;
    this.queue = undefined;
    this.head = 0;
    this.held = 0;
    if (!queue) return;
    for (let i = head; i < queue.length; i++) notOpen(queue[i].callback);
  }

  /**
   * Cork the socket until the end of this tick. A broadcast writes the same
   * frames to many sockets, often several per tick (all the messages of one
   * read): each socket then takes them in one writev, not one write each.
   * What is written is counted in `bufferedAmount` (the socket's writableLength)
   * as before, so highWaterMark and maxBufferedAmount see it.
   */
  private batch(): void {
    this.flags |= BATCHING;
    this.stream.cork();
    if (batched.push(this) === 1) process.nextTick(flushBatched);
  }

  /** The end of the tick: uncork (end() and destroy() may have flushed or dropped it already). */
  flushBatch(): void {
    this.flags &= ~BATCHING;
    if (this.stream.writableCorked > 0) this.stream.uncork();
  }

  private hold(kind: Kind, data: Buffer, isBinary: boolean, compressible: boolean, fin: boolean, callback: SendCallback | undefined): void {
    this.queue!.push({ kind, data, isBinary, compressible, fin, callback });
    this.held += data.length;
  }

  /**
   * Start compressing a large message on the threadpool; false if it goes out
   * now instead. `reserve`: it is not reserved in the core yet.
   */
  private deflateLater(data: Buffer, isBinary: boolean, callback: SendCallback | undefined, reserve: boolean): boolean {
    const deflate = this.deflate;
    if (!deflate || data.length < asyncDeflateBytes(deflate)) return false;
    const options = deflate.deflateOptions(data);
    if (!options) return false;
    if (reserve) this.connection.reserve();
    this.queue ??= [];
    this.flags |= COMPRESSING;
    this.held += data.length;
    deflateOffLoop(data, options, (out) => this.deflated(data, isBinary, callback, out));
    return true;
  }

  /** A message compressed on the threadpool: write it, then what waited behind it. */
  private deflated(data: Buffer, isBinary: boolean, callback: SendCallback | undefined, out: Buffer | undefined): void {
    this.flags &= ~COMPRESSING;
    if (this.flags & DROPPED) {
      notOpen(callback);
      return;
    }
    this.held -= data.length;
    const socket = this.stream;
    socket.cork();
    try {
      const payload = out && this.deflate!.finishDeflate(data, out);
      if (payload) this.connection.sendCompressed(payload, isBinary);
      else this.connection.send(data, isBinary, false);
      if (callback) socket.write(EMPTY_BUFFER, callback);
      // The last reserved message lets our Close go, right behind it.
      this.connection.settle();
      this.release();
    } finally {
      socket.uncork();
    }
    this.onReleased();
  }

  /** Write what waited, in order, until one more message goes to the threadpool. */
  private release(): void {
    const queue = this.queue!;
    const connection = this.connection;
    const socket = this.stream;
    // A closeTransport that a settle lets go joins the end of the queue.
    while (this.head < queue.length && !(this.flags & (COMPRESSING | DROPPED))) {
      const item = queue[this.head];
      queue[this.head++] = undefined as unknown as Held;
      this.held -= item.data.length;
      switch (item.kind) {
        case Kind.Message:
          if (item.compressible && this.deflateLater(item.data, item.isBinary, item.callback, false)) {
            // It stays reserved, counted in `held` again, until it is compressed.
            continue;
          }
          connection.send(item.data, item.isBinary, item.compressible, item.fin);
          if (item.callback) socket.write(EMPTY_BUFFER, item.callback);
          connection.settle();
          break;
        case Kind.Frame:
          connection.sendEncoded(item.data);
          if (item.callback) socket.write(EMPTY_BUFFER, item.callback);
          connection.settle();
          break;
        case Kind.End:
          if (!socket.writableEnded) socket.end();
          break;
      }
    }
    if (!(this.flags & COMPRESSING) && this.queue === queue && this.head >= queue.length) {
      this.queue = undefined;
      this.head = 0;
    }
  }
}

/** The senders corked in this tick, uncorked together once it ends. */
let batched: Sender[] = [];

function flushBatched(): void {
  const senders = batched;
  batched = [];
  for (const sender of senders) sender.flushBatch();
}

function notOpen(callback: SendCallback | undefined): void {
  if (callback) process.nextTick(callback, new WebSocketError('NOT_OPEN'));
}
