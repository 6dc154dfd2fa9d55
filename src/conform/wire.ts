/**
 * The conformance client's own view of the wire, written from RFC 6455 and
 * RFC 3629 and deliberately independent of src/: a client frame encoder, an
 * incremental parser for server frames that checks every server-side MUST,
 * and a UTF-8 checker. A bug shared with the server's codec must not be able
 * to hide itself, so nothing here is imported from src/.
 */
import { randomFillSync } from 'node:crypto';

/** RFC 6455 §11.8 opcodes. */
export const OP = {
  CONT: 0x0,
  TEXT: 0x1,
  BINARY: 0x2,
  CLOSE: 0x8,
  PING: 0x9,
  PONG: 0xa,
} as const;

export const OPCODE_NAMES: Record<number, string> = {
  0x0: 'continuation',
  0x1: 'text',
  0x2: 'binary',
  0x8: 'close',
  0x9: 'ping',
  0xa: 'pong',
};

export function opcodeName(opcode: number): string {
  return OPCODE_NAMES[opcode] ?? `reserved opcode 0x${opcode.toString(16)}`;
}

export interface FrameSpec {
  opcode: number;
  payload?: Uint8Array | string;
  /** Default true. */
  fin?: boolean;
  /** RSV1..RSV3 as a 3-bit number: 4 = RSV1, 2 = RSV2, 1 = RSV3. */
  rsv?: number;
  /** A 4-byte key, `false` for an unmasked frame, or undefined for a fresh random key (RFC 6455 §5.3). */
  mask?: Uint8Array | false;
  /** Force the length encoding: 7-bit, 16-bit or 64-bit (RFC 6455 §5.2), e.g. to send a non-minimal one. */
  lengthForm?: 7 | 16 | 64;
  /** Write this in the length field instead of the payload length (e.g. to set the 64-bit MSB). */
  declaredLength?: bigint | number;
}

export function toBytes(data: Uint8Array | string | undefined): Buffer {
  if (data === undefined) return Buffer.alloc(0);
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** XOR `data` with `key` in place (RFC 6455 §5.3), starting at key offset 0. */
export function xorMask(data: Buffer, key: Uint8Array): void {
  const n = data.length;
  // Byte by byte up to a 4-byte boundary of the memory, then four bytes at a time.
  let i = 0;
  for (; i < n && (data.byteOffset + i) % 4 !== 0; i++) data[i] ^= key[i & 3];
  const words = (n - i) >>> 2;
  if (words > 0) {
    const word = new Uint32Array(data.buffer, data.byteOffset + i, words);
    // The key as it lines up from byte i, read in the platform's byte order.
    const k = new Uint32Array(Uint8Array.from([key[i & 3], key[(i + 1) & 3], key[(i + 2) & 3], key[(i + 3) & 3]]).buffer)[0];
    for (let w = 0; w < words; w++) word[w] ^= k;
    i += words * 4;
  }
  for (; i < n; i++) data[i] ^= key[i & 3];
}

/** Masking keys, drawn from the system's strong random source a pool at a time (RFC 6455 §5.3, §10.3). */
const keyPool = Buffer.alloc(4096);
let keyAt = keyPool.length;

/** A fresh masking key: a view of the pool, to use at once (the pool is refilled later). */
function maskKey(): Buffer {
  if (keyAt === keyPool.length) {
    randomFillSync(keyPool);
    keyAt = 0;
  }
  keyAt += 4;
  return keyPool.subarray(keyAt - 4, keyAt);
}

/** Encode one client frame (RFC 6455 §5.2). The payload is copied, never modified. */
export function frame(spec: FrameSpec): Buffer {
  return encodeFrames([spec]);
}

/**
 * Encode frames one after another into one buffer, for a single write (RFC
 * 6455 §5.2), each payload copied, never modified. `unmasked`: every frame
 * goes without a mask, whatever its spec says (the server seat, §5.1). With
 * `memory` large enough, the frames are written at its start (a view of it is
 * returned) instead of into new memory.
 */
export function encodeFrames(specs: readonly FrameSpec[], unmasked = false, memory?: Buffer): Buffer {
  const layouts = specs.map((spec) => layout(spec, unmasked));
  const size = layouts.reduce((n, l) => n + l.headerLength + l.payload.length, 0);
  // Every byte is written below.
  const out = memory && memory.length >= size ? memory.subarray(0, size) : Buffer.allocUnsafe(size);
  let at = 0;
  for (let i = 0; i < specs.length; i++) at = writeFrame(specs[i], layouts[i], out, at);
  return out;
}

interface Layout {
  payload: Buffer;
  key: Uint8Array | undefined;
  declared: bigint;
  form: 7 | 16 | 64;
  headerLength: number;
}

function layout(spec: FrameSpec, unmasked: boolean): Layout {
  const payload = toBytes(spec.payload);
  const key = unmasked || spec.mask === false ? undefined : spec.mask ?? maskKey();
  const declared = BigInt(spec.declaredLength ?? payload.length);
  const form = spec.lengthForm ?? (declared < 126n ? 7 : declared < 0x10000n ? 16 : 64);
  const headerLength = 2 + (form === 7 ? 0 : form === 16 ? 2 : 8) + (key ? 4 : 0);
  return { payload, key, declared, form, headerLength };
}

/** Write one frame at `at`; returns where the next one goes. */
function writeFrame(spec: FrameSpec, { payload, key, declared, form, headerLength }: Layout, out: Buffer, at: number): number {
  const fin = spec.fin ?? true;
  const rsv = spec.rsv ?? 0;
  out[at] = (fin ? 0x80 : 0) | ((rsv & 7) << 4) | (spec.opcode & 0x0f);
  const maskBit = key ? 0x80 : 0;
  if (form === 7) {
    out[at + 1] = maskBit | Number(declared & 0x7fn);
  } else if (form === 16) {
    out[at + 1] = maskBit | 126;
    out.writeUInt16BE(Number(declared & 0xffffn), at + 2);
  } else {
    out[at + 1] = maskBit | 127;
    out.writeBigUInt64BE(declared, at + 2);
  }
  if (key) out.set(key.subarray(0, 4), at + headerLength - 4);
  const body = out.subarray(at + headerLength, at + headerLength + payload.length);
  body.set(payload);
  if (key) xorMask(body, key);
  return at + headerLength + payload.length;
}

/** Concatenate frames (or any byte strings) for a single write. */
export function frames(...specs: (FrameSpec | Buffer)[]): Buffer {
  return Buffer.concat(specs.map((s) => (Buffer.isBuffer(s) ? s : frame(s))));
}

/** A close frame body: 2-byte status code and a reason (RFC 6455 §5.5.1). */
export function closeBody(code: number, reason: Uint8Array | string = ''): Buffer {
  const r = toBytes(reason);
  const out = Buffer.alloc(2 + r.length);
  out.writeUInt16BE(code, 0);
  out.set(r, 2);
  return out;
}

/** One frame as the server sent it, already checked against RFC 6455 §5. */
export interface ServerFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  /** The payload in the pieces it arrived in (not joined: a large one spans reads); none when empty. */
  parts: Buffer[];
}

/** Pieces of bytes as one buffer (the piece itself when there is one). */
export function joined(parts: readonly Buffer[]): Buffer {
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

/**
 * Incremental parser of server-to-client frames. A frame that breaks a rule a
 * server MUST follow is reported through `violation` and stops the parser:
 * masked server frames (§5.1), RSV bits with no extension (§5.2), reserved
 * opcodes (§5.2), non-minimal or out-of-range lengths (§5.2), fragmented or
 * oversized control frames (§5.5). With permessage-deflate negotiated
 * (`allowRsv1`), RSV1 is allowed on data frames; the connection checks it is
 * only on the first frame of a message (RFC 7692 §6).
 */
export class FrameParser {
  violation: string | undefined;
  /** permessage-deflate was negotiated: RSV1 may mark a compressed message. */
  allowRsv1 = false;
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Who sends the frames parsed ('server', or 'client' when we are the server): names them in violations. */
  private readonly who: string;

  /** With `fromClient`, the frames are a client's: each MUST be masked (RFC 6455 §5.1) and is unmasked here. */
  constructor(
    private readonly onFrame: (frame: ServerFrame) => void,
    private readonly fromClient = false,
  ) {
    this.who = fromClient ? 'client' : 'server';
  }

  push(chunk: Buffer): void {
    if (this.violation !== undefined) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (this.violation === undefined && this.parseOne()) {
      /* keep going */
    }
  }

  /** Bytes received that do not yet form a whole frame. */
  get pending(): number {
    return this.buffered;
  }

  /** The first `n` (at most 14: a header) bytes buffered; a copy when they straddle reads. */
  private peek(n: number): Buffer {
    if (this.chunks[0].length >= n) return this.chunks[0].subarray(0, n);
    const head = Buffer.allocUnsafe(n);
    for (let i = 0, at = 0; at < n; i++) at += this.chunks[i].copy(head, at, 0, n - at);
    return head;
  }

  /** The next `n` bytes, in the pieces they arrived in. */
  private take(n: number): Buffer[] {
    const parts: Buffer[] = [];
    let need = n;
    while (need > 0) {
      const head = this.chunks[0];
      if (head.length <= need) {
        parts.push(head);
        this.chunks.shift();
        need -= head.length;
      } else {
        parts.push(head.subarray(0, need));
        this.chunks[0] = head.subarray(need);
        need = 0;
      }
    }
    this.buffered -= n;
    return parts;
  }

  private fail(reason: string): false {
    this.violation = reason;
    return false;
  }

  private parseOne(): boolean {
    if (this.buffered < 2) return false;
    const h = this.peek(2);
    const fin = (h[0] & 0x80) !== 0;
    const rsv = (h[0] >> 4) & 7;
    const opcode = h[0] & 0x0f;
    const masked = (h[1] & 0x80) !== 0;
    const len7 = h[1] & 0x7f;
    const control = opcode >= 0x8;
    if (rsv !== 0 && !(this.allowRsv1 && rsv === 4)) {
      return this.fail(`${this.who} frame has RSV bits 0b${rsv.toString(2).padStart(3, '0')} set with no extension that defines them (RFC 6455 §5.2)`);
    }
    if (rsv === 4 && control) return this.fail(`${this.who} ${opcodeName(opcode)} frame has RSV1 set: control frames are never compressed (RFC 7692 §6)`);
    if (OPCODE_NAMES[opcode] === undefined) return this.fail(`${this.who} frame uses reserved opcode 0x${opcode.toString(16)} (RFC 6455 §5.2)`);
    if (masked && !this.fromClient) return this.fail('server frame is masked (RFC 6455 §5.1: a server MUST NOT mask)');
    if (!masked && this.fromClient) return this.fail('client frame is not masked (RFC 6455 §5.1: a client MUST mask)');
    if (control && !fin) return this.fail(`${this.who} ${opcodeName(opcode)} frame is fragmented (RFC 6455 §5.5)`);
    if (control && len7 > 125) return this.fail(`${this.who} ${opcodeName(opcode)} frame announces more than 125 bytes (RFC 6455 §5.5)`);
    const extra = (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (masked ? 4 : 0);
    if (this.buffered < 2 + extra) return false;
    let length = len7;
    if (len7 === 126) {
      length = this.peek(4).readUInt16BE(2);
      if (length < 126) return this.fail(`${this.who} frame length ${length} in 16 bits is not minimal (RFC 6455 §5.2)`);
    } else if (len7 === 127) {
      const big = this.peek(10).readBigUInt64BE(2);
      if (big >> 63n) return this.fail(`${this.who} frame 64-bit length has its most significant bit set (RFC 6455 §5.2)`);
      if (big < 0x10000n) return this.fail(`${this.who} frame length ${big} in 64 bits is not minimal (RFC 6455 §5.2)`);
      if (big > BigInt(Number.MAX_SAFE_INTEGER)) return this.fail(`${this.who} frame length ${big} is absurd`);
      length = Number(big);
    }
    if (this.buffered < 2 + extra + length) return false;
    const key = masked ? Buffer.from(this.peek(2 + extra).subarray(-4)) : undefined;
    this.take(2 + extra);
    let parts = length === 0 ? [] : this.take(length);
    if (key && length > 0) {
      // A copy of its own, unmasked (the bytes read stay as they came).
      const payload = Buffer.concat(parts, length);
      xorMask(payload, key);
      parts = [payload];
    }
    this.onFrame({ fin, rsv, opcode, parts });
    return true;
  }
}

/**
 * Where our own outgoing byte stream stands: inside an opening handshake
 * request (client seat, until its blank line, RFC 9112 §2.1), between frames,
 * or inside a frame (its header or payload, as the header's length fields
 * say, RFC 6455 §5.2). Fed every byte we write, in order, so that a frame we
 * add by ourselves (a pong) goes only where a frame may start: never inside
 * another frame, however the case split it into writes.
 */
export class OutgoingFrames {
  /** The last bytes of the request head seen so far (its end may span writes). */
  private head: Buffer | undefined;
  /** Header bytes of the current frame, while incomplete. */
  private header: number[] = [];
  /** Payload bytes of the current frame still to come. */
  private remaining = 0;

  /** `request`: the stream starts with an HTTP request head (the client seat). */
  constructor(request: boolean) {
    this.head = request ? Buffer.alloc(0) : undefined;
  }

  /** Between frames (or still in the request head): a whole frame may be written now. */
  get atBoundary(): boolean {
    return this.head !== undefined || (this.header.length === 0 && this.remaining === 0);
  }

  push(bytes: Uint8Array): void {
    let i = 0;
    if (this.head !== undefined) {
      const joined = Buffer.concat([this.head, bytes]);
      const end = joined.indexOf('\r\n\r\n');
      if (end < 0) {
        this.head = Buffer.from(joined.subarray(-3));
        return;
      }
      i = end + 4 - this.head.length;
      this.head = undefined;
    }
    while (i < bytes.length) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, bytes.length - i);
        this.remaining -= n;
        i += n;
        continue;
      }
      this.header.push(bytes[i++]);
      const need = headerLength(this.header);
      if (this.header.length < need) continue;
      this.remaining = payloadLength(this.header);
      this.header = [];
    }
  }
}

/** A frame header's length in bytes, from its first two bytes (2 until both are known). */
function headerLength(h: number[]): number {
  if (h.length < 2) return 2;
  const len7 = h[1] & 0x7f;
  return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (h[1] & 0x80 ? 4 : 0);
}

/** The payload length a complete header announces (Infinity past 2^53: the frame never ends). */
function payloadLength(h: number[]): number {
  const len7 = h[1] & 0x7f;
  if (len7 < 126) return len7;
  if (len7 === 126) return (h[2] << 8) | h[3];
  let n = 0;
  for (let k = 2; k < 10; k++) n = n * 256 + h[k];
  return n > Number.MAX_SAFE_INTEGER ? Infinity : n;
}

/**
 * RFC 3629 §4 checker, written as the syntax table reads (not as a DFA):
 * returns the index of the first byte after which the input can no longer be
 * the prefix of valid UTF-8, `length` if the input is complete and valid, or
 * -1 if it is a valid prefix that ends inside a character (truncated).
 */
export function utf8Check(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i];
    if (b <= 0x7f) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b === 0xe0) { need = 2; lo = 0xa0; }
    else if ((b >= 0xe1 && b <= 0xec) || b === 0xee || b === 0xef) need = 2;
    else if (b === 0xed) { need = 2; hi = 0x9f; }
    else if (b === 0xf0) { need = 3; lo = 0x90; }
    else if (b >= 0xf1 && b <= 0xf3) need = 3;
    else if (b === 0xf4) { need = 3; hi = 0x8f; }
    else return i; // 80-C1 and F5-FF never start a character
    for (let k = 1; k <= need; k++) {
      if (i + k >= n) return -1;
      const c = bytes[i + k];
      const min = k === 1 ? lo : 0x80;
      const max = k === 1 ? hi : 0xbf;
      if (c < min || c > max) return i + k;
    }
    i += need + 1;
  }
  return n;
}

/** Lower-case hex with a space between bytes. */
export function hex(bytes: Uint8Array, limit = bytes.length): string {
  let out = '';
  const n = Math.min(limit, bytes.length);
  for (let i = 0; i < n; i++) out += (i ? ' ' : '') + bytes[i].toString(16).padStart(2, '0');
  return out;
}

/** Deterministic bytes (xorshift32), so a failing case can be replayed exactly. */
export function pseudoRandomBytes(length: number, seed = 0x9e3779b9): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  let i = 0;
  for (; i + 4 <= length; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out.writeUInt32LE(x >>> 0, i);
  }
  for (; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** ASCII text of exactly `length` bytes (a readable repeating pattern). */
export function asciiText(length: number): Buffer {
  const pattern = Buffer.from('strictws conformance: the quick brown fox jumps over the lazy dog 0123456789. ');
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i += pattern.length) pattern.copy(out, i, 0, Math.min(pattern.length, length - i));
  return out;
}

/** Valid UTF-8 text of exactly `length` bytes mixing 1- to 4-byte characters. */
export function mixedText(length: number): Buffer {
  const unit = Buffer.from('aκό€𝄞z', 'utf8'); // 1+2+2+3+4+1 = 13 bytes
  const out = Buffer.alloc(length, 0x61);
  const whole = length - (length % unit.length);
  for (let i = 0; i < whole; i += unit.length) unit.copy(out, i);
  return out;
}

export function sizeLabel(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n}-byte`;
}
