// FrameDecoder as it was before issue #7 (git HEAD 0757cfd), for the micro-benchmarks only.
import { ProtocolError } from '../../src/protocol/errors.js';
import { type FrameSink, isControlOpcode } from '../../src/protocol/frame.js';
import { applyMaskV0 as applyMask } from './baseline.js';

const MAX_HEADER = 14;

/**
 * Incremental frame decoder. Frames may be split at any byte and many frames
 * may share one chunk. Payload pieces are views of the input chunk, unmasked
 * in place: no copy is made of a payload.
 */
export class FrameDecoderV0 {
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

