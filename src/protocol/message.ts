/**
 * RFC 6455 §5.4 and §5.5: message assembly. Reassembles fragmented data
 * messages, lets control frames interleave, enforces the message size and
 * fragment caps from the frame header, and validates text as it arrives.
 * With permessage-deflate (RFC 7692) negotiated, it also applies the rules
 * of RSV1 (§6) and hands compressed messages to the inflater; what comes out
 * goes through the same size cap and UTF-8 check as bytes off the wire.
 */
import { ArgumentTypeError, ProtocolError } from './errors.js';
import { EMPTY_BUFFER, FrameDecoder, type FrameSink, Opcode, RSV1, isControlOpcode } from './frame.js';
import { Utf8Validator, isValidUtf8 } from './utf8.js';

/** 16 MiB: Autobahn cases 9.1.6 and 9.2.6 send messages of exactly this size. */
export const DEFAULT_MAX_PAYLOAD = 16 * 1024 * 1024;
/** 2^17: room for Autobahn 9.3.1 and 9.4.1 (65,536 fragments), refuses endless floods. */
export const DEFAULT_MAX_FRAGMENTS = 131_072;

export interface MessageLimits {
  /** Largest message payload in bytes; larger fails with 1009 (RFC 6455 §10.4). */
  maxPayload?: number;
  /** Most frames in one data message; more fails with 1008. */
  maxFragments?: number;
}

/** Inflates whole compressed messages for a negotiated extension (RFC 7692: deflate.ts). */
export interface MessageInflater {
  /** The most compressed bytes a message of `maxPayload` decoded bytes may arrive in. */
  compressedLimit(maxPayload: number): number;
  /** The message's payloads inflated, or undefined if that would exceed `limit` bytes. Throws ProtocolError. */
  inflate(pieces: readonly Buffer[], limit: number): Buffer | undefined;
}

export interface MessageHandler {
  onMessage(data: Buffer, isBinary: boolean): void;
  /** A complete control frame: close, ping or pong. */
  onControl(opcode: number, payload: Buffer): void;
}

function join(pieces: readonly Buffer[], length: number): Buffer {
  return pieces.length === 1 ? pieces[0] : pieces.length === 0 ? EMPTY_BUFFER : Buffer.concat(pieces, length);
}

const NO_PIECES: readonly Buffer[] = [];

// Bits of MessageAssembler#opcodes.
const FRAME_OPCODE = 0x0f;
const FRAME_FIN = 0x10;
const MESSAGE_OPCODE_SHIFT = 8;
const MESSAGE_OPCODE = 0x0f << MESSAGE_OPCODE_SHIFT;
const COMPRESSED = 0x1000;

/** Pieces smaller than this, after the first, are copied together rather than kept one by one. */
export const COALESCE_BELOW = 1024;
/** A buffer of copied pieces starts this small and doubles up to COALESCE_MAX. */
const COALESCE_MIN = 256;
const COALESCE_MAX = 64 * 1024;

/**
 * The payload pieces of one message, in order, kept so that their
 * bookkeeping is bounded by bytes, not by the number of fragments (RFC 6455
 * §10.4). The first piece and any of at least COALESCE_BELOW bytes are kept
 * as they are, without a copy (a whole message in one piece passes through);
 * smaller ones are copied into a buffer that grows geometrically. So there
 * are at most 2 + 2 × bytes / COALESCE_BELOW buffers, each byte is copied a
 * constant number of times on average, and no piece keeps its read alive.
 */
export class PieceList {
  /** Payload bytes held. */
  length = 0;
  private readonly list: Buffer[] = [];
  /** The buffer that small pieces are copied into; the last entry of `list` is its filled part. */
  private open: Buffer | undefined;
  private openLength = 0;

  /** Buffers held: bounded by `length`, not by the number of pieces pushed. */
  get buffers(): number {
    return this.list.length;
  }

  get pieces(): readonly Buffer[] {
    return this.list;
  }

  push(data: Buffer): void {
    if (data.length === 0) return;
    this.length += data.length;
    if (this.list.length === 0 || data.length >= COALESCE_BELOW) {
      this.open = undefined;
      this.list.push(data);
      return;
    }
    if (this.open === undefined || this.openLength + data.length > this.open.length) {
      const grown = this.open !== undefined && 2 * this.open.length <= COALESCE_MAX;
      const size = grown ? 2 * this.open!.length : COALESCE_MIN;
      // Not from the shared pool: a small copy must not keep a pool slab alive.
      const next = Buffer.allocUnsafeSlow(Math.max(size, (grown ? this.openLength : 0) + data.length));
      if (grown) {
        this.open!.copy(next, 0, 0, this.openLength);
        this.list.pop();
      } else {
        this.openLength = 0;
      }
      this.open = next;
      this.list.push(next);
    }
    data.copy(this.open, this.openLength);
    this.openLength += data.length;
    this.list[this.list.length - 1] = this.open.subarray(0, this.openLength);
  }

  /** All pieces as one buffer, and empty the list. */
  take(): Buffer {
    const data = join(this.list, this.length);
    this.clear();
    return data;
  }

  clear(): void {
    this.list.length = 0;
    this.open = undefined;
    this.openLength = 0;
    this.length = 0;
  }
}

/**
 * Also the frame decoder that feeds it (its base class): `push` the bytes
 * read, or call the FrameSink methods from another decoder. One object, not two.
 */
export class MessageAssembler extends FrameDecoder implements FrameSink, MessageHandler {
  readonly maxPayload: number;
  readonly maxFragments: number;

  /**
   * The opcode of the frame being received and its FIN bit; of the data
   * message being assembled (0: none) and whether it is compressed. One
   * number: one field per connection, not four (the accessors below).
   */
  private opcodes = 0;
  private fragments = 0;
  /** Payload bytes announced by the message's frame headers so far. */
  private wireLength = 0;
  /** Decoded bytes kept so far (after inflating, for a compressed message). */
  private messageLength = 0;
  // What is held for a message, made only while one needs it (an idle connection holds none of it):
  /**
   * The message's payload so far: its one piece while it has only one (the
   * usual case: a whole message in one read), then a PieceList. For a
   * compressed message (RFC 7692 §6: its first frame had RSV1), its
   * compressed payloads, always a PieceList, until they are inflated.
   */
  private kept: Buffer | PieceList | undefined = undefined;
  /** RFC 6455 §8.1: the DFA, for text that arrives split. */
  private utf8: Utf8Validator | undefined = undefined;
  // The frame being received (and `frameOpcode`, `frameFin`).
  private frameLength = 0;
  /** A control frame's payload: its one piece, or (split across reads) its pieces. */
  private controlPiece: Buffer | Buffer[] | undefined = undefined;

  /** Given to the constructor, or none: a subclass's own MessageHandler methods take what is assembled. */
  declare private readonly messageHandler: MessageHandler;

  /**
   * @param handler told of messages and control frames; `undefined` for a
   *   subclass that overrides the MessageHandler methods (Connection).
   * @param expectMasked of the frames `push` decodes (FrameDecoder).
   */
  constructor(
    handler: MessageHandler | undefined,
    limits: MessageLimits = {},
    /** Set when permessage-deflate was negotiated: RSV1 then marks a compressed message. */
    protected readonly inflater?: MessageInflater,
    expectMasked = true,
  ) {
    super(undefined, expectMasked);
    if (handler) this.messageHandler = handler;
    else if (new.target === MessageAssembler) throw new ArgumentTypeError('INVALID_ARGUMENT', 'MessageAssembler: a handler is required');
    this.maxPayload = limits.maxPayload ?? DEFAULT_MAX_PAYLOAD;
    this.maxFragments = limits.maxFragments ?? DEFAULT_MAX_FRAGMENTS;
  }

  private get frameOpcode(): number {
    return this.opcodes & FRAME_OPCODE;
  }

  private get frameFin(): boolean {
    return (this.opcodes & FRAME_FIN) !== 0;
  }

  private get messageOpcode(): number {
    return (this.opcodes & MESSAGE_OPCODE) >> MESSAGE_OPCODE_SHIFT;
  }

  /** RFC 7692 §6: the message's first frame had RSV1. */
  private get compressed(): boolean {
    return (this.opcodes & COMPRESSED) !== 0;
  }

  /** Buffers held for the data message being assembled: bounded by its bytes, not its fragments. */
  get heldBuffers(): number {
    const kept = this.kept;
    return kept === undefined ? 0 : kept instanceof PieceList ? kept.buffers : 1;
  }

  /** A data message has started and not ended yet. */
  get inMessage(): boolean {
    return this.messageOpcode !== 0;
  }

  // MessageHandler: what is assembled goes to the handler (a subclass overrides these instead).

  onMessage(data: Buffer, isBinary: boolean): void {
    this.messageHandler.onMessage(data, isBinary);
  }

  onControl(opcode: number, payload: Buffer): void {
    this.messageHandler.onControl(opcode, payload);
  }

  override onFrameHeader(fin: boolean, rsv: number, opcode: number, length: number): void {
    this.opcodes = (this.opcodes & ~(FRAME_OPCODE | FRAME_FIN)) | opcode | (fin ? FRAME_FIN : 0);
    this.frameLength = length;
    // RSV1 means "compressed" only once permessage-deflate is negotiated; the
    // decoder refuses it otherwise (RFC 6455 §5.2).
    const rsv1 = this.inflater !== undefined && (rsv & RSV1) !== 0;
    if (isControlOpcode(opcode)) {
      // RFC 7692 §6: control frames are never compressed.
      if (rsv1) throw new ProtocolError('UNEXPECTED_COMPRESSION_BIT', 'RSV1 set on a control frame');
      return;
    }
    if (opcode === Opcode.CONTINUATION) {
      // RFC 6455 §5.4: a continuation needs a message to continue.
      if (this.messageOpcode === 0) {
        throw new ProtocolError('UNEXPECTED_CONTINUATION', 'continuation frame with no message to continue');
      }
      // RFC 7692 §6: only the first frame of a message says it is compressed.
      if (rsv1) throw new ProtocolError('UNEXPECTED_COMPRESSION_BIT', 'RSV1 set on a continuation frame');
    } else {
      // RFC 6455 §5.4: a new message may not start before the last one's FIN.
      if (this.messageOpcode !== 0) {
        throw new ProtocolError('EXPECTED_CONTINUATION', 'new data frame before the previous message ended');
      }
      this.opcodes |= (opcode << MESSAGE_OPCODE_SHIFT) | (rsv1 ? COMPRESSED : 0);
    }
    if (++this.fragments > this.maxFragments) {
      throw new ProtocolError('TOO_MANY_FRAGMENTS', `message has more than ${this.maxFragments} fragments`);
    }
    // RFC 6455 §10.4: decided from the header, before the payload arrives. A
    // compressed message is held to its compressed bound here, and to
    // maxPayload once inflated (append).
    const cap = this.compressed ? this.inflater!.compressedLimit(this.maxPayload) : this.maxPayload;
    if (this.wireLength + length > cap) this.tooBig();
    this.wireLength += length;
  }

  override onFramePayload(data: Buffer): void {
    if (isControlOpcode(this.frameOpcode)) {
      const held = this.controlPiece;
      if (held === undefined) this.controlPiece = data;
      else if (Array.isArray(held)) held.push(data);
      else this.controlPiece = [held, data];
      return;
    }
    if (this.compressed) {
      ((this.kept as PieceList | undefined) ??= new PieceList()).push(data);
      return;
    }
    this.append(data, this.fragments === 1 && this.frameFin && data.length === this.frameLength);
  }

  /**
   * Decoded bytes of the data message, off the wire or out of the inflater:
   * the size cap, the UTF-8 check and keeping them, in one place.
   * `whole`: `data` is the whole message.
   */
  private append(data: Buffer, whole: boolean): void {
    // RFC 6455 §10.4.
    if (this.messageLength + data.length > this.maxPayload) this.tooBig();
    this.messageLength += data.length;
    if (this.messageOpcode === Opcode.TEXT) {
      // RFC 6455 §8.1: fail as soon as the bytes cannot be UTF-8. A whole
      // message takes the native check; anything split, the DFA.
      if (whole ? !isValidUtf8(data) : (this.utf8 ??= new Utf8Validator()).write(data) !== -1) {
        throw new ProtocolError('INVALID_UTF8', 'text message is not valid UTF-8');
      }
    }
    if (data.length === 0) return;
    const kept = this.kept;
    if (kept === undefined) {
      this.kept = data;
    } else if (kept instanceof PieceList) {
      kept.push(data);
    } else {
      const list = new PieceList();
      list.push(kept);
      list.push(data);
      this.kept = list;
    }
  }

  private tooBig(): never {
    throw new ProtocolError('MESSAGE_TOO_BIG', `message exceeds ${this.maxPayload} bytes`);
  }

  override onFrameEnd(): void {
    const opcode = this.frameOpcode;
    if (isControlOpcode(opcode)) {
      const held = this.controlPiece;
      this.controlPiece = undefined;
      const payload = held === undefined ? EMPTY_BUFFER : Array.isArray(held) ? join(held, this.frameLength) : held;
      this.onControl(opcode, payload);
      return;
    }
    if (!this.frameFin) return;
    if (this.compressed) {
      // RFC 7692 §7.2.2: the whole message inflates at once, within what is left of the cap.
      const pieces = this.kept as PieceList | undefined;
      this.kept = undefined;
      const inflated = this.inflater!.inflate(pieces ? pieces.pieces : NO_PIECES, this.maxPayload - this.messageLength);
      if (inflated === undefined) this.tooBig();
      this.append(inflated, true);
    }
    const isBinary = this.messageOpcode === Opcode.BINARY;
    if (!isBinary && this.utf8) {
      // RFC 6455 §8.1: a message may not end inside a code point. (A payload
      // checked whole never reached the DFA.)
      if (!this.utf8.complete) {
        throw new ProtocolError('INVALID_UTF8', 'text message ends inside a UTF-8 sequence');
      }
      this.utf8 = undefined;
    }
    const kept = this.kept;
    const data = kept === undefined ? EMPTY_BUFFER : kept instanceof PieceList ? kept.take() : kept;
    this.kept = undefined;
    this.opcodes &= ~(MESSAGE_OPCODE | COMPRESSED);
    this.fragments = 0;
    this.wireLength = 0;
    this.messageLength = 0;
    this.onMessage(data, isBinary);
  }
}
