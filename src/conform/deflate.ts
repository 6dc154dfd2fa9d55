/**
 * The conformance client's own permessage-deflate (RFC 7692), independent of
 * src/: reading the server's answer, and compressing and inflating messages
 * with node:zlib as §7.2 describes. Each direction's LZ77 window is the last
 * 2^bits bytes of the messages that went through it, handed to zlib as the
 * preset dictionary of the next message, unless no_context_takeover applies.
 */
import { constants, createDeflateRaw, createInflateRaw, deflateRawSync, inflateRawSync } from 'node:zlib';

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

/** zlib's output buffer: each one filled is a trip back from zlib's thread pool, so room for a 128 KiB message at once. */
const CHUNK = 128 * 1024;

/** The most a server message may inflate to before the client gives up on it (bounded memory). */
export const MAX_INFLATED = 64 * 1024 * 1024;

/**
 * A zlib stream used one message at a time: write it with a sync flush (the
 * stream's `flush` option), take the output. Kept for the connection's life, so its window is the context that
 * RFC 7692 §7.2 takes over from message to message (reset when it is not).
 */
class Flusher {
  private out: Buffer[] = [];
  private size = 0;
  private fail: ((error: Error) => void) | undefined;
  private broken: Error | undefined;

  constructor(
    private readonly z: ReturnType<typeof createDeflateRaw> | ReturnType<typeof createInflateRaw>,
    private readonly limit = Infinity,
  ) {
    z.on('data', (chunk: Buffer) => {
      this.size += chunk.length;
      if (this.size > this.limit) z.destroy(new RangeError(`inflates to more than ${this.limit} bytes`));
      else this.out.push(chunk);
    });
    z.on('error', (error: Error) => {
      this.broken = error;
      this.fail?.(error);
    });
  }

  run(input: Buffer): Promise<Buffer> {
    if (this.broken) return Promise.reject(this.broken);
    return new Promise((resolve, reject) => {
      this.fail = reject;
      // The stream was made with a sync flush for every write: one pass through zlib per message.
      this.z.write(input, () => {
        this.fail = undefined;
        if (this.broken) return reject(this.broken);
        const out = this.out.length === 1 ? this.out[0] : Buffer.concat(this.out);
        this.out = [];
        this.size = 0;
        resolve(out);
      });
    });
  }

  reset(): void {
    this.z.reset();
  }

  close(): void {
    this.z.close();
  }
}

/**
 * Compressed payloads by key, least recently used first out once they hold
 * more than `limit` bytes; a payload being compressed is shared by whoever
 * asks for it meanwhile.
 */
export class PayloadCache {
  private readonly entries = new Map<string, { payload: Promise<Buffer>; bytes: number }>();
  private bytes = 0;
  constructor(private readonly limit: number) {}

  get(key: string, make: () => Promise<Buffer>): Promise<Buffer> {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.payload;
    }
    const entry = { payload: make(), bytes: 0 };
    this.entries.set(key, entry);
    entry.payload.then(
      (payload) => {
        if (this.entries.get(key) !== entry) return;
        entry.bytes = payload.length;
        this.bytes += payload.length;
        for (const [k, e] of this.entries) {
          if (this.bytes <= this.limit) break;
          this.entries.delete(k);
          this.bytes -= e.bytes;
        }
      },
      () => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      },
    );
    return entry.payload;
  }
}

/** Payloads compressed without context takeover, shared by the connections of a run (Autobahn 12.x/13.x repeat messages across cases). */
const sharedPayloads = new PayloadCache(256 * 1024 * 1024);

/** The client's side of permessage-deflate on one connection. */
export class ClientDeflate {
  private readonly sent: History;
  private compressor: Flusher | undefined;
  private readonly inflater: Flusher;

  constructor(readonly agreement: Agreement) {
    this.sent = new History(2 ** agreement.clientMaxWindowBits);
    this.inflater = new Flusher(createInflateRaw({ windowBits: agreement.serverMaxWindowBits, flush: constants.Z_SYNC_FLUSH, chunkSize: CHUNK }), MAX_INFLATED);
  }

  /**
   * A message's compressed payload, to send with RSV1 (§7.2.1), compressed on
   * its own with the window of the messages `compress` sent before. `level` 0
   * makes stored blocks. Not to be mixed with `compressNext` on a connection.
   */
  compress(data: Buffer, level?: number): Buffer {
    const keep = !this.agreement.clientNoContextTakeover;
    // zlib cannot deflate with 8 window bits; 9 keeps its matches within 250 bytes.
    const out = deflateRawSync(data, {
      windowBits: Math.max(9, this.agreement.clientMaxWindowBits),
      finishFlush: constants.Z_SYNC_FLUSH,
      dictionary: keep ? this.sent.dictionary : undefined,
      level,
    });
    if (keep) this.sent.add(data);
    return out.subarray(0, out.length - TAIL.length);
  }

  /**
   * The same from one long-lived zlib stream (fast for many messages); zlib's
   * fastest level. With `key` (naming `data`'s content exactly) and without
   * context takeover, the payload comes from `sharedPayloads` when another
   * connection already compressed the same message: the same bytes in give
   * the same bytes out.
   */
  compressNext(data: Buffer, key?: string): Promise<Buffer> {
    if (key === undefined || !this.agreement.clientNoContextTakeover) return this.compressFresh(data);
    return sharedPayloads.get(`${Math.max(9, this.agreement.clientMaxWindowBits)} ${key}`, () => this.compressFresh(data));
  }

  private async compressFresh(data: Buffer): Promise<Buffer> {
    this.compressor ??= new Flusher(
      createDeflateRaw({ windowBits: Math.max(9, this.agreement.clientMaxWindowBits), level: constants.Z_BEST_SPEED, flush: constants.Z_SYNC_FLUSH, chunkSize: CHUNK }),
    );
    const out = await this.compressor.run(data);
    if (this.agreement.clientNoContextTakeover) this.compressor.reset();
    return out.subarray(0, out.length - TAIL.length);
  }

  /** Inflate a message the server compressed (§7.2.2), in order; rejects if it does not inflate. */
  async inflate(payload: Buffer): Promise<Buffer> {
    const data = await this.inflater.run(Buffer.concat([payload, TAIL]));
    if (this.agreement.serverNoContextTakeover) this.inflater.reset();
    return data;
  }

  /** Release the zlib streams. */
  close(): void {
    this.compressor?.close();
    this.inflater.close();
  }

  /** Inflate with no window, as a message compressed on its own must (server_no_context_takeover). */
  inflateAlone(payload: Buffer, windowBits = this.agreement.serverMaxWindowBits): Buffer {
    return inflateRawSync(Buffer.concat([payload, TAIL]), { windowBits, finishFlush: constants.Z_SYNC_FLUSH });
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
