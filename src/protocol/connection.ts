/**
 * The server side of an open WebSocket connection, sans I/O: bytes go in
 * through `receive`, and the handler is told of messages, control frames,
 * bytes to write and when to close the transport. No sockets, no timers.
 */
import { type CloseBody, NO_STATUS_RECEIVED, encodeClosePayload, parseClosePayload } from './close.js';
import type { PerMessageDeflate } from './deflate.js';
import { ProtocolError } from './errors.js';
import { FrameDecoder, Opcode, RSV1, encodeFrame, encodeFrameHeader } from './frame.js';
import { type MessageHandler, MessageAssembler, type MessageLimits } from './message.js';

/** RFC 6455 §4.1 and §7: the states that matter once the handshake is done. */
export type ConnectionState = 'OPEN' | 'CLOSING' | 'CLOSED';

export interface ConnectionHandler {
  onMessage(data: Buffer, isBinary: boolean): void;
  onPing(data: Buffer): void;
  onPong(data: Buffer): void;
  /** The peer's close frame arrived; our answer (if any) is already written. */
  onCloseFrame(code: number, reason: string): void;
  /** The peer broke the protocol; our close frame is already written. */
  onProtocolError(error: ProtocolError): void;
  /** Bytes to send, in order. */
  write(data: Buffer): void;
  /** RFC 6455 §7.1.1: the server should now close the TCP connection. */
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

export class Connection implements MessageHandler {
  state: ConnectionState = 'OPEN';
  /** The close frame the peer sent, once it has. */
  peerClose: CloseBody | undefined;
  /** Our close frame, once sent. */
  sentClose: CloseBody | undefined;

  readonly decoder: FrameDecoder;
  private readonly messages: MessageAssembler;
  private readonly deflate: PerMessageDeflate | undefined;

  constructor(
    private readonly handler: ConnectionHandler,
    options: ConnectionOptions = {},
  ) {
    this.deflate = options.deflate;
    this.messages = new MessageAssembler(this, options, this.deflate);
    this.decoder = new FrameDecoder(this.messages);
    // RFC 7692 §6: permessage-deflate gives RSV1 its meaning.
    if (this.deflate) this.decoder.allowedRsv = RSV1;
  }

  /** Feed bytes from the peer. Never throws for anything the peer sends. */
  receive(chunk: Buffer): void {
    if (this.state === 'CLOSED') return;
    try {
      this.decoder.push(chunk);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.fail(error);
    }
  }

  /**
   * Send a data message: compressed, with RSV1 on its frame, when
   * permessage-deflate is on and it is worth it (PerMessageDeflate.deflate).
   * `compress: false` sends it uncompressed whatever was negotiated.
   */
  send(data: Buffer, isBinary: boolean, compress = true): void {
    this.assertOpen();
    const opcode = isBinary ? Opcode.BINARY : Opcode.TEXT;
    const compressed = compress ? this.deflate?.deflate(data) : undefined;
    if (compressed) this.writeFrame(opcode, compressed, RSV1);
    else this.writeFrame(opcode, data);
  }

  /**
   * Send a data message compressed by the caller, through this connection's
   * PerMessageDeflate (deflateOptions, then finishDeflate): `payload` goes
   * out with RSV1 (RFC 7692 §7.2.1).
   */
  sendCompressed(payload: Buffer, isBinary: boolean): void {
    if (!this.deflate) throw new Error('cannot send a compressed message: permessage-deflate is not negotiated');
    this.writeFrame(isBinary ? Opcode.BINARY : Opcode.TEXT, payload, RSV1);
  }

  /**
   * Write a frame already encoded (by `encodeMessage`), e.g. for a broadcast.
   * It goes out as it is: an uncompressed frame is valid with or without
   * permessage-deflate (RFC 7692 §6).
   */
  sendEncoded(frame: Buffer): void {
    this.assertOpen();
    this.handler.write(frame);
  }

  ping(data: Buffer = EMPTY): void {
    this.writeControl(Opcode.PING, data);
  }

  pong(data: Buffer = EMPTY): void {
    this.writeControl(Opcode.PONG, data);
  }

  /**
   * Start the closing handshake (RFC 6455 §7.1.2). Throws RangeError for a
   * code that may not be sent. Does nothing once a close was sent.
   */
  close(code?: number, reason = ''): void {
    const payload = encodeClosePayload(code, reason);
    if (this.state !== 'OPEN') return;
    this.state = 'CLOSING';
    this.sentClose = { code: code ?? NO_STATUS_RECEIVED, reason };
    this.handler.write(encodeFrame(Opcode.CLOSE, payload));
  }

  onMessage(data: Buffer, isBinary: boolean): void {
    this.handler.onMessage(data, isBinary);
  }

  onControl(opcode: number, payload: Buffer): void {
    if (opcode === Opcode.PING) {
      // RFC 6455 §5.5.2: answer with a pong carrying the same payload.
      if (this.state === 'OPEN') this.pong(payload);
      this.handler.onPing(payload);
    } else if (opcode === Opcode.PONG) {
      // RFC 6455 §5.5.3: an unsolicited pong needs no answer.
      this.handler.onPong(payload);
    } else {
      this.onClose(parseClosePayload(payload));
    }
  }

  private onClose(body: CloseBody): void {
    this.peerClose = body;
    if (this.state === 'OPEN') {
      // RFC 6455 §5.5.1: reply with a close frame, echoing the status code
      // (and the reason, which is already known to fit and be valid UTF-8).
      const code = body.code === NO_STATUS_RECEIVED ? undefined : body.code;
      this.handler.write(encodeFrame(Opcode.CLOSE, encodeClosePayload(code, body.reason)));
      this.sentClose = body;
    }
    // RFC 6455 §1.4, §5.5.1: nothing is processed after the peer's close,
    // not even the rest of the chunk that carried it.
    this.state = 'CLOSED';
    this.decoder.stop();
    this.deflate?.dispose();
    this.handler.onCloseFrame(body.code, body.reason);
    this.handler.closeTransport();
  }

  /** RFC 6455 §7.1.7: Fail the WebSocket Connection. */
  private fail(error: ProtocolError): void {
    if (this.state === 'OPEN') {
      this.handler.write(encodeFrame(Opcode.CLOSE, encodeClosePayload(error.closeCode)));
      this.sentClose = { code: error.closeCode, reason: '' };
    }
    this.state = 'CLOSED';
    this.deflate?.dispose();
    this.handler.onProtocolError(error);
    this.handler.closeTransport();
  }

  private writeControl(opcode: number, data: Buffer): void {
    // RFC 6455 §5.5: control frames carry at most 125 bytes.
    if (data.length > 125) throw new RangeError('control frame payload is over 125 bytes');
    this.writeFrame(opcode, data);
  }

  private writeFrame(opcode: number, data: Buffer, rsv = 0): void {
    this.assertOpen();
    if (data.length <= COPY_THRESHOLD) {
      this.handler.write(encodeFrame(opcode, data, { rsv }));
    } else {
      this.handler.write(encodeFrameHeader(opcode, data.length, { rsv }));
      this.handler.write(data);
    }
  }

  private assertOpen(): void {
    // RFC 6455 §5.5.1: no data frames after a close frame was sent.
    if (this.state !== 'OPEN') throw new Error(`cannot send: connection is ${this.state}`);
  }
}

const EMPTY = Buffer.alloc(0);

/** Frame a whole message once, to write the same bytes to many connections. */
export function encodeMessage(data: Buffer, isBinary: boolean): Buffer {
  return encodeFrame(isBinary ? Opcode.BINARY : Opcode.TEXT, data);
}
