/**
 * RFC 6455 §5.2 frames written and read by hand, independently of the
 * encoder and decoder under test. Plain module (no vitest), so scripts can
 * use it too.
 */

export const OP = { CONT: 0x0, TEXT: 0x1, BINARY: 0x2, CLOSE: 0x8, PING: 0x9, PONG: 0xa } as const;

/** The masking key used when a test does not care which. */
export const DEFAULT_KEY = Uint8Array.from([0x37, 0xfa, 0x21, 0x3d]);

/** Reference masking, byte by byte (RFC 6455 §5.3): returns a new buffer. */
export function xorMask(data: Uint8Array, key: Uint8Array, offset = 0): Buffer {
  const out = Buffer.alloc(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] ^ key[(offset + i) % 4];
  return out;
}

export interface FrameSpec {
  opcode: number;
  payload?: Uint8Array | string;
  fin?: boolean;
  /** Raw RSV bits as they sit in the first byte: 0x40, 0x20, 0x10. */
  rsv?: number;
  /** A 4-byte key, or null for an unmasked frame. */
  mask?: Uint8Array | null;
  /** Force a length encoding: 7-bit, 16-bit (126) or 64-bit (127). */
  lengthBits?: 7 | 16 | 64;
  /** The length to declare in the header, if not the payload's. */
  declaredLength?: number | bigint;
}

export function toBytes(payload: Uint8Array | string | undefined): Buffer {
  if (payload === undefined) return Buffer.alloc(0);
  return typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload);
}

/** The header of a client frame per RFC 6455 §5.2, written field by field. */
export function frameHeader(spec: FrameSpec & { length: number | bigint }): Buffer {
  const { opcode, fin = true, rsv = 0, mask = DEFAULT_KEY, length } = spec;
  const n = BigInt(length);
  const bits = spec.lengthBits ?? (n < 126n ? 7 : n < 65536n ? 16 : 64);
  const extended = bits === 7 ? 0 : bits === 16 ? 2 : 8;
  const header = Buffer.alloc(2 + extended + (mask ? 4 : 0));
  header[0] = (fin ? 0x80 : 0) | rsv | opcode;
  header[1] = (mask ? 0x80 : 0) | (bits === 7 ? Number(n) : bits === 16 ? 126 : 127);
  if (bits === 16) header.writeUInt16BE(Number(n), 2);
  if (bits === 64) header.writeBigUInt64BE(n, 2);
  if (mask) header.set(mask, 2 + extended);
  return header;
}

/** A whole client frame: masked with DEFAULT_KEY unless `mask` says otherwise. */
export function frame(spec: FrameSpec): Buffer {
  const payload = toBytes(spec.payload);
  const header = frameHeader({ ...spec, length: spec.declaredLength ?? payload.length });
  const mask = spec.mask === undefined ? DEFAULT_KEY : spec.mask;
  return Buffer.concat([header, mask ? xorMask(payload, mask) : payload]);
}

export interface FrameHead {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  /** Payload length. */
  length: number;
  /** Header bytes, masking key included. */
  size: number;
}

/** The header at `bytes[pos]`, or undefined while it has not all arrived. */
export function readFrameHead(bytes: Uint8Array, pos = 0): FrameHead | undefined {
  if (bytes.length - pos < 2) return undefined;
  const b0 = bytes[pos];
  const b1 = bytes[pos + 1];
  const masked = (b1 & 0x80) !== 0;
  const code = b1 & 0x7f;
  const extended = code === 126 ? 2 : code === 127 ? 8 : 0;
  const size = 2 + extended + (masked ? 4 : 0);
  if (bytes.length - pos < size) return undefined;
  const view = Buffer.from(bytes.buffer, bytes.byteOffset + pos, size);
  const length = extended === 2 ? view.readUInt16BE(2) : extended === 8 ? Number(view.readBigUInt64BE(2)) : code;
  return { fin: (b0 & 0x80) !== 0, rsv: b0 & 0x70, opcode: b0 & 0x0f, masked, length, size };
}

export interface ParsedFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  payload: Buffer;
}

/** The whole frames at the start of `bytes` (unmasked if masked), and how many bytes they take. */
export function takeFrames(bytes: Buffer): { frames: ParsedFrame[]; used: number } {
  const frames: ParsedFrame[] = [];
  let pos = 0;
  for (let head = readFrameHead(bytes, pos); head; head = readFrameHead(bytes, pos)) {
    const start = pos + head.size;
    if (start + head.length > bytes.length) break;
    const raw = bytes.subarray(start, start + head.length);
    const { fin, rsv, opcode, masked } = head;
    const payload = masked ? xorMask(raw, bytes.subarray(start - 4, start)) : Buffer.from(raw);
    frames.push({ fin, rsv, opcode, masked, payload });
    pos = start + head.length;
  }
  return { frames, used: pos };
}

/** Every frame in `bytes`, which must hold whole frames only. */
export function parseServerFrames(bytes: Buffer): ParsedFrame[] {
  const { frames, used } = takeFrames(bytes);
  if (used !== bytes.length) throw new Error(`truncated frame at ${used}`);
  return frames;
}
