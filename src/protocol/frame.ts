/**
 * RFC 6455 §5.2: the base framing protocol. An incremental decoder that
 * enforces the frame-level rules, and an encoder for server frames.
 */
import { ArgumentTypeError, ProtocolError } from './errors.js';
import { applyMask, applyMaskWord, maskWord } from './mask.js';

export const Opcode = {
  CONTINUATION: 0x0,
  TEXT: 0x1,
  BINARY: 0x2,
  CLOSE: 0x8,
  PING: 0x9,
  PONG: 0xa,
} as const;

/** A payload of no bytes, shared: never written to. */
export const EMPTY_BUFFER: Buffer = Buffer.alloc(0);

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

// Bits of FrameDecoder#modes; the RSV bits (0x70) hold allowedRsv.
const STOPPED = 0x1;
const HOLDING = 0x2;
const EXPECT_MASKED = 0x4;
const RSV_BITS = RSV1 | RSV2 | RSV3;

/**
 * Buffer's own constructor for views: `new FastBuffer(arrayBuffer, offset,
 * length)` is what Buffer#subarray makes, at a third of its cost on Node 20
 * (bench/micro parse; `ws` does the same).
 */
const FastBuffer = (Buffer as unknown as { [Symbol.species]: new (b: ArrayBufferLike, o: number, l: number) => Buffer })[
  Symbol.species
];

/**
 * Incremental frame decoder. Frames may be split at any byte and many frames
 * may share one chunk. Payload pieces are views of the input chunk, unmasked
 * in place: no copy is made of a payload.
 *
 * Its state is a handful of numbers: the mask key is one 32-bit word, and
 * the stash for a header split across chunks exists only while one is.
 */
export class FrameDecoder implements FrameSink {
  /** The start of a header split across chunks, while one is. */
  private stash: Buffer | undefined = undefined;
  private stashLength = 0;
  /** Payload bytes of the current frame still to come; > 0 means inside a payload. */
  private remaining = 0;
  /** The frame's masking key as a native-order word (mask.ts), and how far into it the next byte is. */
  private maskKey = 0;
  private maskOffset = 0;
  /** STOPPED, HOLDING, EXPECT_MASKED and allowedRsv, in one number (one field per connection, not four). */
  private modes: number;
  /** Bytes read while paused, or left in the chunk where the pause took effect: parsed on resume. */
  private rest: Buffer | undefined = undefined;

  /** Given to the constructor, or none: a subclass's own FrameSink methods take what is found. */
  declare private readonly sink: FrameSink;

  /**
   * @param sink receives headers and payload pieces; `undefined` for a
   *   subclass that overrides the FrameSink methods (MessageAssembler: one object, not two).
   * @param expectMasked true for a server: RFC 6455 §5.1 requires client frames masked.
   */
  constructor(sink: FrameSink | undefined, expectMasked = true) {
    this.modes = expectMasked ? EXPECT_MASKED : 0;
    if (sink) this.sink = sink;
    else if (new.target === FrameDecoder) throw new ArgumentTypeError('INVALID_ARGUMENT', 'FrameDecoder: a sink is required');
  }

  /** RSV bits an extension has given meaning to (RFC 6455 §5.2, §9). */
  get allowedRsv(): number {
    return this.modes & RSV_BITS;
  }

  set allowedRsv(bits: number) {
    this.modes = (this.modes & ~RSV_BITS) | (bits & RSV_BITS);
  }

  private get stopped(): boolean {
    return (this.modes & STOPPED) !== 0;
  }

  private get holding(): boolean {
    return (this.modes & HOLDING) !== 0;
  }

  private get expectMasked(): boolean {
    return (this.modes & EXPECT_MASKED) !== 0;
  }

  // FrameSink: what is found goes to the sink (a subclass overrides these instead).

  onFrameHeader(fin: boolean, rsv: number, opcode: number, length: number): void {
    this.sink.onFrameHeader(fin, rsv, opcode, length);
  }

  onFramePayload(data: Buffer): void {
    this.sink.onFramePayload(data);
  }

  onFrameEnd(): void {
    this.sink.onFrameEnd();
  }

  /** Decode nothing more: the rest of the current chunk and later chunks are ignored. */
  stop(): void {
    this.modes |= STOPPED;
    this.rest = undefined;
  }

  /**
   * Decode no further frame until `resume`: takes effect at the end of the
   * frame being decoded. What is left of the chunk, and chunks pushed
   * meanwhile, are kept as they are (views, no copy) and counted in `pending`.
   */
  pause(): void {
    this.modes |= HOLDING;
  }

  /** Decode what was kept while paused (which may pause again). Throws as `push` does. */
  resume(): void {
    if (!this.holding) return;
    this.modes &= ~HOLDING;
    const rest = this.rest;
    this.rest = undefined;
    if (rest) this.push(rest);
  }

  get isPaused(): boolean {
    return this.holding;
  }

  /** Bytes received and not decoded yet (kept while paused). */
  get pending(): number {
    return this.rest?.length ?? 0;
  }

  /** Decode a chunk. Throws ProtocolError at the first violation. */
  push(chunk: Buffer): void {
    if (this.stopped) return;
    if (this.holding) {
      this.rest = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
      return;
    }
    const end = chunk.length;
    let pos = 0;
    while (pos < end) {
      if (this.stopped) return;
      if (this.holding) {
        this.rest = chunk.subarray(pos);
        return;
      }
      if (this.remaining > 0) {
        pos = this.payload(chunk, pos);
      } else if (this.stashLength === 0) {
        const used = this.parseHeader(chunk, pos, end);
        if (used === 0) {
          this.stash = Buffer.allocUnsafe(MAX_HEADER);
          this.stashLength = chunk.copy(this.stash, 0, pos, end);
          return;
        }
        pos += used;
      } else {
        // A header split across chunks: complete it in the stash.
        const stash = this.stash!;
        const had = this.stashLength;
        const take = Math.min(MAX_HEADER - had, end - pos);
        chunk.copy(stash, had, pos, pos + take);
        const used = this.parseHeader(stash, 0, had + take);
        if (used === 0) {
          this.stashLength = had + take;
          return;
        }
        this.stash = undefined;
        this.stashLength = 0;
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
      length = (buf[pos + 2] << 8) | buf[pos + 3];
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
    if (masked) {
      this.maskKey = maskWord(buf, pos + 2 + lengthBytes);
      this.maskOffset = 0;
    }
    this.onFrameHeader(fin, rsv, opcode, length);
    if (length === 0) this.onFrameEnd();
    else this.remaining = length;
    return size;
  }

  private payload(chunk: Buffer, pos: number): number {
    const n = Math.min(this.remaining, chunk.length - pos);
    const piece = new FastBuffer(chunk.buffer, chunk.byteOffset + pos, n);
    // Masked is what expectMasked says: parseHeader refuses anything else.
    if (this.expectMasked) {
      applyMaskWord(piece, this.maskKey, this.maskOffset);
      this.maskOffset = (this.maskOffset + n) & 3;
    }
    const done = (this.remaining -= n) === 0;
    this.onFramePayload(piece);
    if (done) this.onFrameEnd();
    return pos + n;
  }
}

export interface FrameOptions {
  fin?: boolean;
  rsv?: number;
  /** A 4-byte key: masks the payload, as a client must (RFC 6455 §5.3). */
  mask?: Uint8Array;
}

const NO_OPTIONS: FrameOptions = Object.freeze({});

/** Bytes of a header for a payload of `length`, with or without a masking key. */
function headerSize(length: number, masked: boolean): number {
  return (length < 126 ? 2 : length < 0x10000 ? 4 : 10) + (masked ? 4 : 0);
}

/** Write a header at `target[0..]`; returns its size. */
function writeHeader(target: Buffer, opcode: number, length: number, options: FrameOptions): number {
  const mask = options.mask;
  const maskBit = mask ? 0x80 : 0;
  target[0] = (options.fin === false ? 0 : 0x80) | (options.rsv ?? 0) | opcode;
  let at: number;
  if (length < 126) {
    target[1] = maskBit | length;
    at = 2;
  } else if (length < 0x10000) {
    target[1] = maskBit | 126;
    target[2] = length >>> 8;
    target[3] = length & 0xff;
    at = 4;
  } else {
    target[1] = maskBit | 127;
    target.writeUInt32BE(Math.floor(length / 0x100000000), 2);
    target.writeUInt32BE(length >>> 0, 6);
    at = 10;
  }
  if (mask) {
    target[at] = mask[0];
    target[at + 1] = mask[1];
    target[at + 2] = mask[2];
    target[at + 3] = mask[3];
    at += 4;
  }
  return at;
}

/** The header of a frame, with the minimal length encoding (RFC 6455 §5.2). */
export function encodeFrameHeader(opcode: number, length: number, options: FrameOptions = NO_OPTIONS): Buffer {
  const header = Buffer.allocUnsafe(headerSize(length, options.mask !== undefined));
  writeHeader(header, opcode, length, options);
  return header;
}

/**
 * A whole frame in one buffer. The payload is copied (and masked if asked).
 * For a payload of more than a few bytes, writing `encodeFrameHeader` and
 * then the payload itself costs less than the copy (bench/micro encode).
 */
export function encodeFrame(opcode: number, payload: Uint8Array, options: FrameOptions = NO_OPTIONS): Buffer {
  const length = payload.length;
  const frame = Buffer.allocUnsafe(headerSize(length, options.mask !== undefined) + length);
  const at = writeHeader(frame, opcode, length, options);
  frame.set(payload, at);
  if (options.mask) applyMask(new FastBuffer(frame.buffer, frame.byteOffset + at, length), options.mask, 0);
  return frame;
}
