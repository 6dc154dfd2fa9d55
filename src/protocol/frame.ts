/**
 * RFC 6455 §5.2: the base framing protocol. An incremental decoder that
 * enforces the frame-level rules, and an encoder for server frames.
 */
import { ProtocolError } from './errors.js';
import { applyMask } from './mask.js';

export const Opcode = {
  CONTINUATION: 0x0,
  TEXT: 0x1,
  BINARY: 0x2,
  CLOSE: 0x8,
  PING: 0x9,
  PONG: 0xa,
} as const;

export const RSV1 = 0x40;
export const RSV2 = 0x20;
export const RSV3 = 0x10;

/** RFC 6455 §5.5: control frames have opcodes with the high bit set. */
export function isControlOpcode(opcode: number): boolean {
  return (opcode & 0x8) !== 0;
}

/** Receives what the decoder finds. A sink may throw a ProtocolError to fail. */
export interface FrameSink {
  /** A header that passed the frame-level rules; `length` is the payload length. */
  onFrameHeader(fin: boolean, rsv: number, opcode: number, length: number): void;
  /** The next piece of the current frame's payload, already unmasked. */
  onFramePayload(data: Buffer): void;
  /** The current frame's payload is complete. */
  onFrameEnd(): void;
}

const MAX_HEADER = 14;

/**
 * Incremental frame decoder. Frames may be split at any byte and many frames
 * may share one chunk. Payload pieces are views of the input chunk, unmasked
 * in place: no copy is made of a payload.
 */
export class FrameDecoder {
  /** RSV bits an extension has given meaning to (RFC 6455 §5.2, §9). */
  allowedRsv = 0;

  private readonly header = Buffer.alloc(MAX_HEADER);
  private headerLength = 0;
  private remaining = 0;
  private inPayload = false;
  private masked = false;
  private readonly maskKey = Buffer.alloc(4);
  private maskOffset = 0;

  /**
   * @param sink receives headers and payload pieces.
   * @param expectMasked true for a server: RFC 6455 §5.1 requires client frames masked.
   */
  constructor(
    private readonly sink: FrameSink,
    private readonly expectMasked = true,
  ) {}

  /** Decode a chunk. Throws ProtocolError at the first violation. */
  push(chunk: Buffer): void {
    const end = chunk.length;
    let pos = 0;
    while (pos < end) {
      if (this.inPayload) {
        pos = this.payload(chunk, pos);
      } else if (this.headerLength === 0) {
        const used = this.parseHeader(chunk, pos, end);
        if (used === 0) {
          chunk.copy(this.header, 0, pos, end);
          this.headerLength = end - pos;
          return;
        }
        pos += used;
      } else {
        // A header split across chunks: complete it in the stash.
        const take = Math.min(MAX_HEADER - this.headerLength, end - pos);
        chunk.copy(this.header, this.headerLength, pos, pos + take);
        const had = this.headerLength;
        const used = this.parseHeader(this.header, 0, had + take);
        if (used === 0) {
          this.headerLength = had + take;
          return;
        }
        this.headerLength = 0;
        pos += used - had;
      }
    }
  }

  /** Parse a header at buf[pos, end). Returns its size, or 0 if more bytes are needed. */
  private parseHeader(buf: Buffer, pos: number, end: number): number {
    const available = end - pos;
    const b0 = buf[pos];
    const fin = (b0 & 0x80) !== 0;
    const rsv = b0 & 0x70;
    const opcode = b0 & 0x0f;
    // RFC 6455 §5.2: RSV bits MUST be 0 unless an extension is negotiated.
    if ((rsv & ~this.allowedRsv) !== 0) {
      throw new ProtocolError('RESERVED_BITS', `reserved bits 0x${rsv.toString(16)} set`);
    }
    // RFC 6455 §5.2: opcodes 0x3-0x7 and 0xB-0xF are reserved.
    if ((opcode > 0x2 && opcode < 0x8) || opcode > 0xa) {
      throw new ProtocolError('RESERVED_OPCODE', `reserved opcode 0x${opcode.toString(16)}`);
    }
    const control = isControlOpcode(opcode);
    // RFC 6455 §5.5: control frames MUST NOT be fragmented.
    if (control && !fin) {
      throw new ProtocolError('FRAGMENTED_CONTROL_FRAME', 'control frame without FIN');
    }
    if (available < 2) return 0;

    const b1 = buf[pos + 1];
    const masked = (b1 & 0x80) !== 0;
    // RFC 6455 §5.1: a server MUST close on an unmasked client frame.
    if (masked !== this.expectMasked) {
      throw new ProtocolError('UNMASKED_FRAME', masked ? 'masked server frame' : 'unmasked client frame');
    }
    let length = b1 & 0x7f;
    // RFC 6455 §5.5: control frames carry at most 125 bytes.
    if (control && length > 125) {
      throw new ProtocolError('CONTROL_FRAME_TOO_LONG', 'control frame payload over 125 bytes');
    }
    const lengthBytes = length === 126 ? 2 : length === 127 ? 8 : 0;
    const size = 2 + lengthBytes + (masked ? 4 : 0);
    if (available < size) return 0;

    if (lengthBytes === 2) {
      length = buf.readUInt16BE(pos + 2);
      // RFC 6455 §5.2: the minimal number of bytes MUST be used.
      if (length < 126) throw new ProtocolError('NON_MINIMAL_LENGTH', `length ${length} in 16 bits`);
    } else if (lengthBytes === 8) {
      const high = buf.readUInt32BE(pos + 2);
      // RFC 6455 §5.2: the most significant bit MUST be 0.
      if (high >= 0x80000000) {
        throw new ProtocolError('LENGTH_OUT_OF_RANGE', '64-bit length with the top bit set');
      }
      length = high * 0x100000000 + buf.readUInt32BE(pos + 6);
      if (length < 0x10000) throw new ProtocolError('NON_MINIMAL_LENGTH', `length ${length} in 64 bits`);
    }
    this.masked = masked;
    if (masked) {
      const k = pos + 2 + lengthBytes;
      this.maskKey[0] = buf[k];
      this.maskKey[1] = buf[k + 1];
      this.maskKey[2] = buf[k + 2];
      this.maskKey[3] = buf[k + 3];
      this.maskOffset = 0;
    }
    this.sink.onFrameHeader(fin, rsv, opcode, length);
    if (length === 0) {
      this.sink.onFrameEnd();
    } else {
      this.remaining = length;
      this.inPayload = true;
    }
    return size;
  }

  private payload(chunk: Buffer, pos: number): number {
    const n = Math.min(this.remaining, chunk.length - pos);
    const piece = chunk.subarray(pos, pos + n);
    if (this.masked) {
      applyMask(piece, this.maskKey, this.maskOffset);
      this.maskOffset = (this.maskOffset + n) & 3;
    }
    this.remaining -= n;
    if (this.remaining === 0) this.inPayload = false;
    this.sink.onFramePayload(piece);
    if (!this.inPayload) this.sink.onFrameEnd();
    return pos + n;
  }
}

export interface FrameOptions {
  fin?: boolean;
  rsv?: number;
  /** A 4-byte key: masks the payload, as a client must (RFC 6455 §5.3). */
  mask?: Uint8Array;
}

/** The header of a frame, with the minimal length encoding (RFC 6455 §5.2). */
export function encodeFrameHeader(opcode: number, length: number, options: FrameOptions = {}): Buffer {
  const { fin = true, rsv = 0, mask } = options;
  const lengthBytes = length < 126 ? 0 : length < 0x10000 ? 2 : 8;
  const header = Buffer.allocUnsafe(2 + lengthBytes + (mask ? 4 : 0));
  header[0] = (fin ? 0x80 : 0) | rsv | opcode;
  const maskBit = mask ? 0x80 : 0;
  if (lengthBytes === 0) {
    header[1] = maskBit | length;
  } else if (lengthBytes === 2) {
    header[1] = maskBit | 126;
    header.writeUInt16BE(length, 2);
  } else {
    header[1] = maskBit | 127;
    header.writeUInt32BE(Math.floor(length / 0x100000000), 2);
    header.writeUInt32BE(length >>> 0, 6);
  }
  if (mask) header.set(mask.subarray(0, 4), 2 + lengthBytes);
  return header;
}

/** A whole frame in one buffer. The payload is copied (and masked if asked). */
export function encodeFrame(opcode: number, payload: Uint8Array, options: FrameOptions = {}): Buffer {
  const header = encodeFrameHeader(opcode, payload.length, options);
  const frame = Buffer.allocUnsafe(header.length + payload.length);
  header.copy(frame, 0);
  frame.set(payload, header.length);
  if (options.mask) applyMask(frame.subarray(header.length), options.mask, 0);
  return frame;
}
