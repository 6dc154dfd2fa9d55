/**
 * The server side of an open WebSocket connection, sans I/O: bytes go in
 * through `receive`, the end of the stream through `receiveEnd`, and the
 * handler is told of messages, control frames, bytes to write and when to
 * close the transport. No sockets, no timers.
 *
 * It owns the closing handshake (RFC 6455 §7) and the close code to report
 * (`closeStatus`, §7.1.5 and §7.1.6). A runtime that sends a data message
 * later than it accepts it (compressed elsewhere, or queued behind one that
 * is) reserves it (`reserve`, then `settle` once it is written): our Close
 * frame and the end of the transport wait for every reserved message, which
 * §5.5.1 allows ("finish sending the current message"), so nothing accepted
 * is lost and no data frame follows our Close.
 */
import {
  ABNORMAL_CLOSURE,
  type CloseBody,
  NO_STATUS_RECEIVED,
  encodeClosePayload,
  parseClosePayload,
} from './close.js';
import type { PerMessageDeflate } from './deflate.js';
import { ArgumentRangeError, ProtocolError, StateError } from './errors.js';
import { EMPTY_BUFFER, type FrameDecoder, Opcode, RSV1, encodeFrame, encodeFrameHeader } from './frame.js';
import { type MessageHandler, MessageAssembler, type MessageLimits } from './message.js';

/**
 * RFC 6455 §4.1 and §7: the states that matter once the handshake is done.
 * OPEN: data flows both ways. CLOSING: we started the closing handshake;
 * pings are still answered (§5.5.2), nothing more is delivered, until the
 * peer's Close. CLOSED: nothing more is read (the peer's Close arrived, the
 * connection failed, the stream ended or was aborted); reserved messages
 * still go out, then our Close if one is owed, then closeTransport.
 */
export type ConnectionState = 'OPEN' | 'CLOSING' | 'CLOSED';

export interface ConnectionHandler {
  onMessage(data: Buffer, isBinary: boolean): void;
  onPing(data: Buffer): void;
  onPong(data: Buffer): void;
  /** The peer's close frame arrived; our answer (if any) is already written or queued. */
  onCloseFrame(code: number, reason: string): void;
  /** The peer broke the protocol; our close frame is already written or queued. */
  onProtocolError(error: ProtocolError): void;
  /** Bytes to send, in order. */
  write(data: Buffer): void;
  /** RFC 6455 §7.1.1: the server should now close the TCP connection (after what was written). */
  closeTransport(): void;
}

export interface ConnectionOptions extends MessageLimits {
  /**
   * permessage-deflate as negotiated in the handshake (RFC 7692): RSV1 marks
   * compressed messages both ways, and `send` compresses.
   */
  deflate?: PerMessageDeflate;
}

/**
 * Payloads up to this size are copied behind their header into one buffer;
 * larger ones are written after their header as they are (one writev either
 * way, as the runtime corks). Measured (docs/performance.md): copying a 4 KiB
 * echo costs 13% more instructions and a fresh ArrayBuffer per message; at
 * 16 B the two ways are within 4% of each other.
 */
const COPY_THRESHOLD = 125;

// Bits of Connection#sending: the opcode of a message being sent in fragments in the low four.
const OUTGOING = 0x0f;
/** closeTransport waits for the reserved messages. */
const END_OWED = 0x10;
/** The transport is gone: nothing more is written. */
const ABORTED = 0x20;

const CLOSED_ABNORMALLY: CloseBody = Object.freeze({ code: ABNORMAL_CLOSURE, reason: '' });

/** RFC 6455 §5.5: a ping or pong we are asked to send carries at most 125 bytes. */
export function checkControlPayload(data: Uint8Array): void {
  if (data.length > 125) throw new ArgumentRangeError('CONTROL_PAYLOAD_TOO_LARGE', 'control frame payload is over 125 bytes');
}

/**
 * Its base classes are the message assembler and the frame decoder that feed
 * it (message.ts, frame.ts): one object per connection, not three.
 */
export class Connection extends MessageAssembler implements MessageHandler {
  state: ConnectionState = 'OPEN';
  /** The close frame the peer sent, once it has. */
  peerClose: CloseBody | undefined;
  /** Our close frame, once sent (or queued behind reserved messages). */
  sentClose: CloseBody | undefined;

  /** The close code we failed the connection with (RFC 6455 §7.1.7), if we did. */
  private failure: number | undefined = undefined;
  /** Data messages accepted and not written yet (see `reserve`). */
  private reserved = 0;
  /** Our Close frame, waiting for the reserved messages. */
  private closeFrame: Buffer | undefined = undefined;
  /** OUTGOING, END_OWED, ABORTED: one field per connection, not three (the accessors below). */
  private sending = 0;

  constructor(
    private readonly handler: ConnectionHandler,
    options: ConnectionOptions = {},
  ) {
    super(undefined, options, options.deflate);
    // RFC 7692 §6: permessage-deflate gives RSV1 its meaning.
    if (options.deflate) this.allowedRsv = RSV1;
  }

  /** The opcode of a message being sent in fragments (RFC 6455 §5.4), or 0. */
  private get outgoing(): number {
    return this.sending & OUTGOING;
  }

  private get endOwed(): boolean {
    return (this.sending & END_OWED) !== 0;
  }

  private get aborted(): boolean {
    return (this.sending & ABORTED) !== 0;
  }

  /** The frame decoder: this object (its base class). */
  get decoder(): FrameDecoder {
    return this;
  }

  /** permessage-deflate as negotiated: the inflater the constructor gave the assembler. */
  private get deflate(): PerMessageDeflate | undefined {
    return this.inflater as PerMessageDeflate | undefined;
  }

  /** Feed bytes from the peer. Never throws for anything the peer sends. */
  receive(chunk: Buffer): void {
    if (this.state === 'CLOSED') return;
    try {
      this.push(chunk);
    } catch (error) {
      this.caught(error);
    }
  }

  /**
   * The peer ended the stream (TCP FIN) or the transport closed: nothing more
   * will be read. Reserved messages still go out, then closeTransport.
   * Without a Close frame received, the close code is 1006 (RFC 6455 §7.1.5).
   */
  receiveEnd(): void {
    if (this.state === 'CLOSED') return;
    this.toClosed();
    this.finish();
  }

  /**
   * The transport is gone, or the runtime destroys it: nothing more is read
   * or written, and reserved messages are dropped. No closeTransport follows.
   */
  abort(): void {
    if (this.aborted) return;
    this.sending = (this.sending | ABORTED) & ~END_OWED;
    this.reserved = 0;
    this.closeFrame = undefined;
    if (this.state !== 'CLOSED') this.toClosed();
    this.deflate?.dispose();
  }

  /**
   * RFC 6455 §7.1.5 and §7.1.6: the close code and reason to report, once
   * CLOSED. The peer's Close (1005 if it had no code); else the code we failed
   * the connection with, as `ws` reports it; else 1006, closed without a Close.
   */
  get closeStatus(): CloseBody | undefined {
    if (this.state !== 'CLOSED') return undefined;
    if (this.peerClose) return this.peerClose;
    return this.failure === undefined ? CLOSED_ABNORMALLY : { code: this.failure, reason: '' };
  }

  // pause() (the decoder's): take no further frame out of the bytes received
  // until `resume` (from the end of the frame being decoded): per-message
  // backpressure for a runtime whose peer does not read. What was received
  // stays as it is (compressed, masked), counted in `pendingBytes`.
  // inMessage (the assembler's): a data message from the peer has started and not ended yet.

  /** Decode what waited while paused; may pause again. Never throws for anything the peer sent. */
  override resume(): void {
    if (this.state === 'CLOSED') return;
    try {
      super.resume();
    } catch (error) {
      this.caught(error);
    }
  }

  get paused(): boolean {
    return this.isPaused;
  }

  /** Bytes received and not decoded yet, kept while paused. */
  get pendingBytes(): number {
    return this.pending;
  }

  /**
   * Send a data message, or a fragment of one (RFC 6455 §5.4): `fin` false
   * leaves the message open, and the following sends are its continuation
   * frames until one with `fin` true. Compressed, with RSV1 on its frame,
   * when permessage-deflate is on and it is worth it (PerMessageDeflate.deflate);
   * only whole messages are compressed, a fragmented one goes uncompressed
   * (RFC 7692 §6 allows either). `compress` false sends it uncompressed.
   * A continuation frame carries the type of the message's first frame.
   */
  send(data: Buffer, isBinary: boolean, compress = true, fin = true): void {
    this.assertSendable();
    const continuing = this.outgoing !== 0;
    const opcode = continuing ? Opcode.CONTINUATION : isBinary ? Opcode.BINARY : Opcode.TEXT;
    const compressed = compress && fin && !continuing ? this.deflate?.deflate(data) : undefined;
    if (!fin) this.sending |= this.outgoing || opcode;
    else this.sending &= ~OUTGOING;
    if (compressed) this.writeFrame(opcode, compressed, RSV1, true);
    else this.writeFrame(opcode, data, 0, fin);
  }

  /**
   * Send a data message compressed by the caller, through this connection's
   * PerMessageDeflate (deflateOptions, then finishDeflate): `payload` goes
   * out with RSV1 (RFC 7692 §7.2.1).
   */
  sendCompressed(payload: Buffer, isBinary: boolean): void {
    if (!this.deflate) throw new StateError('cannot send a compressed message: permessage-deflate is not negotiated');
    this.assertWhole();
    this.writeFrame(isBinary ? Opcode.BINARY : Opcode.TEXT, payload, RSV1, true);
  }

  /**
   * Write a frame already encoded (by `encodeMessage`), e.g. for a broadcast.
   * It goes out as it is: an uncompressed frame is valid with or without
   * permessage-deflate (RFC 7692 §6).
   */
  sendEncoded(frame: Buffer): void {
    this.assertWhole();
    this.handler.write(frame);
  }

  /**
   * Accept a data message the runtime will send later (after compressing it
   * elsewhere, or behind one that is). Until `settle`, sending stays allowed
   * and our Close frame and closeTransport wait. Throws unless OPEN.
   */
  reserve(): void {
    this.assertOpen();
    this.reserved++;
  }

  /** A reserved message was written, or dropped: the last one lets what waited on it go. */
  settle(): void {
    if (this.reserved === 0 || --this.reserved > 0) return;
    const frame = this.closeFrame;
    if (frame) {
      this.closeFrame = undefined;
      this.handler.write(frame);
    }
    if (this.endOwed) {
      this.sending &= ~END_OWED;
      this.finish();
    }
  }

  /** RFC 6455 §5.5.2: allowed until the peer's Close, also after ours. */
  ping(data: Buffer = EMPTY_BUFFER): void {
    this.writeControl(Opcode.PING, data);
  }

  pong(data: Buffer = EMPTY_BUFFER): void {
    this.writeControl(Opcode.PONG, data);
  }

  /**
   * Start the closing handshake (RFC 6455 §7.1.2). Throws RangeError for a
   * code or reason that may not be sent. Does nothing once a close was sent.
   */
  close(code?: number, reason: string | Uint8Array = ''): void {
    const payload = encodeClosePayload(code, reason);
    if (this.state !== 'OPEN') return;
    this.state = 'CLOSING';
    this.sendClose(payload, code ?? NO_STATUS_RECEIVED, reason);
  }

  /**
   * RFC 6455 §7.1.7: Fail the WebSocket Connection for a reason of the
   * runtime's (1008 for a policy, 1011 for an internal error): our Close with
   * `code` unless one was sent, nothing more read, then closeTransport.
   */
  fail(code: number, reason = ''): void {
    const payload = encodeClosePayload(code, reason);
    if (this.state === 'CLOSED') return;
    this.failWith(code, payload, reason);
    this.finish();
  }

  override onMessage(data: Buffer, isBinary: boolean): void {
    // After our Close, messages are still read (for the framing rules) but not delivered.
    if (this.state === 'OPEN') this.handler.onMessage(data, isBinary);
  }

  override onControl(opcode: number, payload: Buffer): void {
    if (opcode === Opcode.PING) {
      // RFC 6455 §5.5.2: answer with a pong carrying the same payload, until the peer's Close.
      this.pong(payload);
      if (this.state === 'OPEN') this.handler.onPing(payload);
    } else if (opcode === Opcode.PONG) {
      // RFC 6455 §5.5.3: an unsolicited pong needs no answer.
      if (this.state === 'OPEN') this.handler.onPong(payload);
    } else {
      this.onClose(parseClosePayload(payload), payload);
    }
  }

  /** `payload`: the Close frame's body as received (and found valid). */
  private onClose(body: CloseBody, payload: Buffer): void {
    this.peerClose = body;
    const reply = this.state === 'OPEN';
    // RFC 6455 §1.4, §5.5.1: nothing is processed after the peer's close,
    // not even the rest of the chunk that carried it.
    this.toClosed();
    if (reply) {
      // RFC 6455 §5.5.1: reply with a close frame, echoing the status code
      // (and the reason, already known to fit and be valid UTF-8): its body as received.
      this.sendClose(payload, body.code, body.reason);
    }
    this.handler.onCloseFrame(body.code, body.reason);
    this.finish();
  }

  private caught(error: unknown): void {
    if (!(error instanceof ProtocolError)) throw error;
    // RFC 6455 §7.1.7: Fail the WebSocket Connection.
    if (this.state === 'CLOSED') return;
    this.failWith(error.closeCode, encodeClosePayload(error.closeCode), '');
    this.handler.onProtocolError(error);
    this.finish();
  }

  private failWith(code: number, payload: Buffer, reason: string | Uint8Array): void {
    const sending = this.state === 'OPEN';
    this.toClosed();
    this.failure = code;
    if (sending) this.sendClose(payload, code, reason);
  }

  private sendClose(payload: Buffer, code: number, reason: string | Uint8Array): void {
    this.sentClose = { code, reason: typeof reason === 'string' ? reason : Buffer.from(reason).toString('utf8') };
    if (this.aborted) return;
    const frame = encodeFrame(Opcode.CLOSE, payload);
    // RFC 6455 §5.5.1: after the messages already accepted, none after it.
    if (this.reserved > 0) this.closeFrame = frame;
    else this.handler.write(frame);
  }

  private toClosed(): void {
    this.state = 'CLOSED';
    this.stop();
  }

  /** closeTransport, once the reserved messages are out. */
  private finish(): void {
    if (this.aborted) return;
    if (this.reserved > 0) {
      this.sending |= END_OWED;
      return;
    }
    this.deflate?.dispose();
    this.handler.closeTransport();
  }

  private writeControl(opcode: number, data: Buffer): void {
    if (this.aborted || this.state === 'CLOSED') throw new StateError('cannot send: connection is CLOSED');
    checkControlPayload(data);
    this.writeFrame(opcode, data, 0, true);
  }

  private writeFrame(opcode: number, data: Buffer, rsv: number, fin: boolean): void {
    if (data.length <= COPY_THRESHOLD) {
      this.handler.write(encodeFrame(opcode, data, { rsv, fin }));
    } else {
      this.handler.write(encodeFrameHeader(opcode, data.length, { rsv, fin }));
      this.handler.write(data);
    }
  }

  private assertOpen(): void {
    // RFC 6455 §5.5.1: no data frames after a close frame was sent.
    if (this.state !== 'OPEN') throw new StateError(`cannot send: connection is ${this.state}`);
  }

  /** OPEN, or a reserved message is being sent. */
  private assertSendable(): void {
    if (this.aborted || (this.state !== 'OPEN' && this.reserved === 0)) {
      throw new StateError(`cannot send: connection is ${this.state}`);
    }
  }

  /** A whole message may start: none is being sent in fragments (RFC 6455 §5.4). */
  private assertWhole(): void {
    this.assertSendable();
    if (this.outgoing !== 0) throw new StateError('cannot send: a fragmented message is not finished');
  }
}

/** Frame a whole message once, to write the same bytes to many connections. */
export function encodeMessage(data: Buffer, isBinary: boolean): Buffer {
  return encodeFrame(isBinary ? Opcode.BINARY : Opcode.TEXT, data);
}
