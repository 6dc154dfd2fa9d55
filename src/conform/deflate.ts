/**
 * The conformance client's own permessage-deflate (RFC 7692), independent of
 * src/: reading the server's answer, and compressing and inflating messages
 * with node:zlib as §7.2 describes. Each direction's LZ77 window is the last
 * 2^bits bytes of the messages that went through it, handed to zlib as the
 * preset dictionary of the next message, unless no_context_takeover applies.
 */
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { SyncZlib } from './zlib-sync.js';

/** §7.2.1: the 4 octets a sync flush ends with, removed on the wire. */
export const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

export interface Agreement {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number;
  clientMaxWindowBits: number;
}

/**
 * The server's Sec-WebSocket-Extensions answer, read as a client must
 * (§7.1): exactly one permessage-deflate, known parameters, each once, valid
 * values. Returns the agreement, or a sentence saying what is wrong with it.
 */
export function readAgreement(value: string): Agreement | string {
  const elements = value.split(',').map((e) => e.trim()).filter(Boolean);
  if (elements.length !== 1) return `the answer lists ${elements.length} extensions`;
  const [name, ...params] = elements[0].split(';').map((p) => p.trim());
  if (name !== 'permessage-deflate') return `the answer agrees to "${name}"`;
  const agreement: Agreement = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };
  const seen = new Set<string>();
  for (const param of params) {
    const [key, raw] = param.split('=').map((s) => s.trim());
    if (seen.has(key)) return `the answer repeats ${key}`;
    seen.add(key);
    const bits = raw === undefined ? NaN : Number(raw.replace(/^"(.*)"$/, '$1'));
    if (key === 'server_no_context_takeover' && raw === undefined) agreement.serverNoContextTakeover = true;
    else if (key === 'client_no_context_takeover' && raw === undefined) agreement.clientNoContextTakeover = true;
    else if (key === 'server_max_window_bits' && Number.isInteger(bits) && bits >= 8 && bits <= 15) agreement.serverMaxWindowBits = bits;
    else if (key === 'client_max_window_bits' && Number.isInteger(bits) && bits >= 8 && bits <= 15) agreement.clientMaxWindowBits = bits;
    else return `the answer has an invalid parameter "${param}"`;
  }
  return agreement;
}

/** One direction's window: the last `size` bytes of the messages compressed in it. */
class History {
  private bytes: Buffer = Buffer.alloc(0);
  constructor(private readonly size: number) {}

  get dictionary(): Buffer | undefined {
    return this.bytes.length ? this.bytes : undefined;
  }

  add(data: Buffer): void {
    const joined = Buffer.concat([this.bytes, data]);
    this.bytes = Buffer.from(joined.subarray(Math.max(0, joined.length - this.size)));
  }
}

/** The most a server message may inflate to before the client gives up on it (bounded memory). */
export const MAX_INFLATED = 64 * 1024 * 1024;

/**
 * Compressed payloads by key, least recently used first out once they hold
 * more than `limit` bytes.
 */
export class PayloadCache {
  private readonly entries = new Map<string, Buffer>();
  private bytes = 0;
  constructor(private readonly limit: number) {}

  get(key: string, make: () => Buffer): Buffer {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const payload = make();
    this.entries.set(key, payload);
    this.bytes += payload.length;
    for (const [k, e] of this.entries) {
      if (this.bytes <= this.limit) break;
      this.entries.delete(k);
      this.bytes -= e.length;
    }
    return payload;
  }
}

/** Payloads compressed without context takeover, shared by the connections of a run (Autobahn 12.x/13.x repeat messages across cases). */
const sharedPayloads = new PayloadCache(256 * 1024 * 1024);

/** A message that does not inflate (RFC 7692 §7.2.2), or inflates to more than MAX_INFLATED. */
export class InflateError extends Error {}

/** Inflated messages at least this large go into memory handed back by `recycle` when there is some. */
const RECYCLED_BYTES = 16 * 1024;
/** How many such buffers a connection keeps. */
const SPARES = 4;

/**
 * The client's side of permessage-deflate on one connection. Each direction
 * keeps one zlib context for the connection's life (SyncZlib), reset after
 * every message when no_context_takeover applies; where node:zlib's internals
 * do not allow that (`sync` false), one-shot calls with the window as preset
 * dictionary do the same, more slowly.
 */
export class ClientDeflate {
  private readonly sent: History;
  /** The server's window, for the one-shot fallback only. */
  private readonly received: History | undefined;
  private compressor: SyncZlib | undefined;
  private readonly inflater: SyncZlib | undefined;
  /** zlib cannot deflate with 8 window bits; 9 keeps its matches within 250 bytes. */
  private readonly deflateBits: number;
  /** Memory this connection inflated messages into, and which of it was handed back. */
  private readonly lent = new WeakSet<ArrayBufferLike>();
  private readonly spares: Buffer[] = [];
  private readonly memory = (size: number): Buffer => {
    if (size < RECYCLED_BYTES) return Buffer.allocUnsafe(size);
    const i = this.spares.findIndex((b) => b.length >= size);
    if (i >= 0) return this.spares.splice(i, 1)[0];
    const fresh = Buffer.allocUnsafeSlow(size);
    this.lent.add(fresh.buffer);
    return fresh;
  };

  constructor(
    readonly agreement: Agreement,
    private readonly sync = SyncZlib.works,
  ) {
    this.sent = new History(2 ** agreement.clientMaxWindowBits);
    this.deflateBits = Math.max(9, agreement.clientMaxWindowBits);
    this.inflater = sync ? SyncZlib.inflater(agreement.serverMaxWindowBits) : undefined;
    if (!this.inflater) this.received = new History(2 ** agreement.serverMaxWindowBits);
  }

  /**
   * A message's compressed payload, to send with RSV1 (§7.2.1), compressed on
   * its own with the window of the messages `compress` sent before. `level` 0
   * makes stored blocks. Not to be mixed with `compressNext` on a connection.
   */
  compress(data: Buffer, level?: number): Buffer {
    const keep = !this.agreement.clientNoContextTakeover;
    const out = deflateRawSync(data, {
      windowBits: this.deflateBits,
      finishFlush: constants.Z_SYNC_FLUSH,
      dictionary: keep ? this.sent.dictionary : undefined,
      level,
    });
    if (keep) this.sent.add(data);
    return out.subarray(0, out.length - TAIL.length);
  }

  /**
   * The same from the connection's own zlib context (fast for many messages);
   * zlib's fastest level. With `key` (naming `data`'s content exactly) and
   * without context takeover, the payload comes from `sharedPayloads` when
   * another connection already compressed the same message: the same bytes in
   * give the same bytes out.
   */
  compressNext(data: Buffer, key?: string): Buffer {
    if (key === undefined || !this.agreement.clientNoContextTakeover) return this.compressFresh(data);
    return sharedPayloads.get(`${this.deflateBits} ${this.sync ? 'sync' : 'one-shot'} ${key}`, () => this.compressFresh(data));
  }

  private compressFresh(data: Buffer): Buffer {
    if (this.sync) this.compressor ??= SyncZlib.deflater(this.deflateBits, constants.Z_BEST_SPEED);
    if (!this.compressor) return this.compress(data, constants.Z_BEST_SPEED);
    const out = this.compressor.pass([data]);
    if (this.agreement.clientNoContextTakeover) this.compressor.reset();
    return out.subarray(0, out.length - TAIL.length);
  }

  /**
   * Inflate a message the server compressed (§7.2.2), given as its frames'
   * payloads, in order. Throws InflateError if it does not inflate or would
   * inflate to more than MAX_INFLATED; the connection is then done with.
   */
  inflate(payload: Buffer | readonly Buffer[]): Buffer {
    const parts = Buffer.isBuffer(payload) ? [payload, TAIL] : [...payload, TAIL];
    if (!this.inflater) return this.inflateOneShot(parts);
    let data: Buffer;
    try {
      data = this.inflater.pass(parts, MAX_INFLATED, this.memory);
    } catch (error) {
      throw new InflateError((error as Error).message);
    }
    // §7.2.3.3: a block with BFINAL set ends the DEFLATE stream (what follows it is not read, as
    // the one-shot path does not read it either); the next message starts a new one.
    if (this.inflater.ended || this.agreement.serverNoContextTakeover) this.inflater.reset();
    return data;
  }

  private inflateOneShot(parts: Buffer[]): Buffer {
    const keep = !this.agreement.serverNoContextTakeover;
    let data: Buffer;
    try {
      data = inflateRawSync(Buffer.concat(parts), {
        windowBits: this.agreement.serverMaxWindowBits,
        finishFlush: constants.Z_SYNC_FLUSH,
        dictionary: keep ? this.received!.dictionary : undefined,
        maxOutputLength: MAX_INFLATED,
      });
    } catch (error) {
      throw new InflateError((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' ? `inflates to more than ${MAX_INFLATED} bytes` : (error as Error).message);
    }
    if (keep) this.received!.add(data);
    return data;
  }

  /**
   * A message `inflate` returned is no longer needed by anyone: its memory
   * may hold a later one (fresh memory for each large message costs more than
   * inflating it). Anything else, or the same message twice, is ignored.
   */
  recycle(data: Buffer): void {
    const memory = data.buffer;
    if (!this.lent.has(memory) || this.spares.length >= SPARES || this.spares.some((b) => b.buffer === memory)) return;
    this.spares.push(Buffer.from(memory));
  }

  /** Release the zlib contexts. */
  close(): void {
    this.compressor?.close();
    this.inflater?.close();
  }
}

/**
 * The payload of a message of `mebibytes` MiB of zeros, built without holding
 * them: 1 MiB compressed alone, then 1 MiB compressed after a window of zeros
 * (byte-aligned by its sync flush) repeated. About 1 KiB per MiB.
 */
export function zeroBomb(mebibytes: number): Buffer {
  const block = Buffer.alloc(1 << 20);
  const first = deflateRawSync(block, { level: 9, finishFlush: constants.Z_SYNC_FLUSH });
  const next = deflateRawSync(block, { level: 9, finishFlush: constants.Z_SYNC_FLUSH, dictionary: Buffer.alloc(32 * 1024) });
  return Buffer.concat([first, ...Array<Buffer>(mebibytes - 1).fill(next)]).subarray(0, -TAIL.length);
}
