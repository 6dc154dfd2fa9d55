/**
 * RFC 7692: the permessage-deflate extension. Its negotiation (§5, §7.1)
 * and the per-connection codec (§6, §7.2), synchronous like the rest of the
 * core: a message goes in, its compressed or inflated bytes come out.
 *
 * How zlib runs (docs/deflate.md has the measurements): synchronously, a
 * zlib stream per direction kept from message to message (zlib-stream.ts),
 * or one-shot calls with a preset dictionary where node:zlib does not allow
 * that; a runtime may run the compression of a large message elsewhere
 * (deflateOptions, then finishDeflate), as src/server does on the
 * threadpool, and closes the streams of idle connections (releaseIfIdle).
 *
 * The RSV1 rules of §6 (only on the first frame of a data message) live in
 * message.ts, where messages are assembled; the size cap on inflated bytes is
 * the one message.ts applies to every message.
 */
import { type ZlibOptions, constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { ArgumentRangeError, ArgumentTypeError, OptionError, ProtocolError } from './errors.js';
import { EMPTY_BUFFER } from './frame.js';
import type { ExtensionOffer } from './extensions.js';
import type { MessageInflater } from './message.js';
import { Output, Run, ZlibStream, zlibFailure, zlibStreamsWork } from './zlib-stream.js';

export const PERMESSAGE_DEFLATE = 'permessage-deflate';

/** What a server asks for and how it compresses. Every field is optional. */
export interface DeflateOptions {
  /** Ask to compress each message on its own (RFC 7692 §7.1.1.1). Default false. */
  serverNoContextTakeover?: boolean;
  /** Ask the client to compress each message on its own (§7.1.1.2). Default false. */
  clientNoContextTakeover?: boolean;
  /** The most window bits we compress with, 9-15 (§7.1.2.1). Default 15. */
  serverMaxWindowBits?: number;
  /**
   * The most window bits we let the client compress with, 8-15 (§7.1.2.2).
   * Only a client that offers client_max_window_bits can be asked; default:
   * what the client offers.
   */
  clientMaxWindowBits?: number;
  /** zlib memLevel for compressing, 1-9. Default 8. */
  memLevel?: number;
  /**
   * zlib compression level, 0-9: 1 costs the least CPU per byte on large
   * messages, 9 gives the smallest output (docs/deflate.md#compression-level).
   * Default 1 (zlib's own default is 6): what a client makes the server
   * spend per byte it has it send (docs/deflate.md). 0 sends every message
   * uncompressed, still inflating the client's.
   */
  level?: number;
  /** Messages smaller than this many bytes are sent uncompressed. Default 1024. */
  threshold?: number;
}

export interface ResolvedDeflateOptions {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number;
  clientMaxWindowBits: number | undefined;
  memLevel: number;
  level: number;
  threshold: number;
}

export const DEFLATE_DEFAULTS: Readonly<ResolvedDeflateOptions> = {
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: undefined,
  memLevel: 8,
  level: 1,
  threshold: 1024,
};

function integerIn(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ArgumentRangeError('INVALID_OPTION', `perMessageDeflate.${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

function flag(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new ArgumentTypeError('INVALID_OPTION', `perMessageDeflate.${name} must be a boolean, got ${String(value)}`);
  return value;
}

/**
 * Check a server's `perMessageDeflate` option and fill in the defaults:
 * false or undefined turns the extension off, true takes every default.
 * Throws TypeError or RangeError for a value zlib or RFC 7692 cannot honour
 * (serverMaxWindowBits 8 included: zlib does not compress with a 256-byte window).
 */
export function resolveDeflateOptions(options: boolean | DeflateOptions | undefined): ResolvedDeflateOptions | undefined {
  if (options === undefined || options === false) return undefined;
  if (options === true) return { ...DEFLATE_DEFAULTS };
  if (typeof options !== 'object' || options === null) {
    throw new ArgumentTypeError('INVALID_OPTION', 'perMessageDeflate must be a boolean or an options object');
  }
  const known = new Set(Object.keys(DEFLATE_DEFAULTS));
  for (const key of Object.keys(options)) if (!known.has(key)) throw new OptionError(`unknown perMessageDeflate option "${key}"`);
  const o = { ...DEFLATE_DEFAULTS, ...options };
  return {
    serverNoContextTakeover: flag('serverNoContextTakeover', o.serverNoContextTakeover),
    clientNoContextTakeover: flag('clientNoContextTakeover', o.clientNoContextTakeover),
    serverMaxWindowBits: integerIn('serverMaxWindowBits', o.serverMaxWindowBits, 9, 15),
    clientMaxWindowBits: o.clientMaxWindowBits === undefined ? undefined : integerIn('clientMaxWindowBits', o.clientMaxWindowBits, 8, 15),
    memLevel: integerIn('memLevel', o.memLevel, 1, 9),
    level: integerIn('level', o.level, 0, 9),
    threshold: integerIn('threshold', o.threshold, 0, Number.MAX_SAFE_INTEGER),
  };
}

// ---------------------------------------------------------------------------
// Negotiation (RFC 7692 §5, §7.1)
// ---------------------------------------------------------------------------

/** What one permessage-deflate offer asks for. */
export interface DeflateOffer {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  /** server_max_window_bits, if offered. */
  serverMaxWindowBits: number | undefined;
  /** client_max_window_bits: absent (undefined), without a value (true), or its value. */
  clientMaxWindowBits: number | true | undefined;
}

/** The parameters in force on a connection (both window sizes always known). */
export interface DeflateParams {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number;
  clientMaxWindowBits: number;
}

export interface DeflateAgreement {
  params: DeflateParams;
  /** The Sec-WebSocket-Extensions value of the 101: exactly what was agreed. */
  response: string;
}

// RFC 7692 §7.1.2.1, §7.1.2.2: a decimal integer from 8 to 15, no leading zeroes.
const WINDOW_BITS = /^(?:8|9|1[0-5])$/;

/**
 * Read one offer's parameters (RFC 7692 §7.1). Returns what it asks for, or
 * why a server must decline it: a parameter not defined for an offer, a
 * parameter given twice, or a value that is not valid for it.
 */
export function readDeflateOffer(offer: ExtensionOffer): DeflateOffer | string {
  if (offer.name !== PERMESSAGE_DEFLATE) return `not ${PERMESSAGE_DEFLATE}`;
  const result: DeflateOffer = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: undefined,
    clientMaxWindowBits: undefined,
  };
  const seen = new Set<string>();
  for (const { name, value } of offer.params) {
    if (seen.has(name)) return `${name} appears more than once`;
    seen.add(name);
    switch (name) {
      case 'server_no_context_takeover':
      case 'client_no_context_takeover':
        // §7.1.1.1, §7.1.1.2: these have no value.
        if (value !== undefined) return `${name} takes no value`;
        if (name === 'server_no_context_takeover') result.serverNoContextTakeover = true;
        else result.clientNoContextTakeover = true;
        break;
      case 'server_max_window_bits':
        // §7.1.2.1: a value is required.
        if (value === undefined || !WINDOW_BITS.test(value)) return `server_max_window_bits=${value ?? ''} is not 8-15`;
        result.serverMaxWindowBits = Number(value);
        break;
      case 'client_max_window_bits':
        // §7.1.2.2: with or without a value.
        if (value !== undefined && !WINDOW_BITS.test(value)) return `client_max_window_bits=${value} is not 8-15`;
        result.clientMaxWindowBits = value === undefined ? true : Number(value);
        break;
      default:
        return `unknown parameter ${name}`;
    }
  }
  return result;
}

/**
 * Accept one offer with the server's options, or say why not. The only
 * well-formed offer declined is one with server_max_window_bits=8: zlib
 * cannot compress with a 256-byte window (it uses 512 bytes instead), and a
 * server that does not support the offered configuration declines it (§7.1).
 */
export function acceptDeflateOffer(offer: DeflateOffer, options: ResolvedDeflateOptions): DeflateAgreement | string {
  if (offer.serverMaxWindowBits === 8) return 'server_max_window_bits=8: zlib cannot compress with a 256-byte window';
  // §7.1.1.1: the server resets its context if asked to, or if it wants to.
  const serverNoContextTakeover = offer.serverNoContextTakeover || options.serverNoContextTakeover;
  // §7.1.1.2: a client that offers client_no_context_takeover resets its own
  // context whatever the answer; saying so in the answer lets us reset ours.
  const clientNoContextTakeover = offer.clientNoContextTakeover || options.clientNoContextTakeover;
  // §7.1.2.1: at most what the client allows; we may also ask for less.
  const serverMaxWindowBits = Math.min(offer.serverMaxWindowBits ?? 15, options.serverMaxWindowBits);
  const sayServerBits = offer.serverMaxWindowBits !== undefined || serverMaxWindowBits < 15;
  // §7.1.2.2: only a client that offers client_max_window_bits may be told a
  // value, at most the one it offered. Echoing its value lets us inflate with
  // no more window than it uses.
  const offeredClientBits = offer.clientMaxWindowBits === true ? 15 : offer.clientMaxWindowBits;
  let clientMaxWindowBits = 15;
  let sayClientBits = false;
  if (offeredClientBits !== undefined) {
    clientMaxWindowBits = Math.min(offeredClientBits, options.clientMaxWindowBits ?? offeredClientBits);
    sayClientBits = offer.clientMaxWindowBits !== true || options.clientMaxWindowBits !== undefined;
  }
  const params: DeflateParams = { serverNoContextTakeover, clientNoContextTakeover, serverMaxWindowBits, clientMaxWindowBits };
  const parts = [PERMESSAGE_DEFLATE];
  if (serverNoContextTakeover) parts.push('server_no_context_takeover');
  if (clientNoContextTakeover) parts.push('client_no_context_takeover');
  if (sayServerBits) parts.push(`server_max_window_bits=${serverMaxWindowBits}`);
  if (sayClientBits) parts.push(`client_max_window_bits=${clientMaxWindowBits}`);
  return { params, response: parts.join('; ') };
}

export interface DeflateNegotiation {
  /** The agreement on the first acceptable offer, if any. */
  agreement: DeflateAgreement | undefined;
  /** The permessage-deflate offers declined before it, with the reason. */
  declined: Array<{ offer: ExtensionOffer; reason: string }>;
}

/**
 * RFC 7692 §5: accept the first acceptable permessage-deflate offer, in the
 * client's order of preference; offers of other extensions are ignored.
 * No acceptable offer means no extension: the handshake still succeeds.
 */
export function negotiateDeflate(offers: readonly ExtensionOffer[], options: ResolvedDeflateOptions): DeflateNegotiation {
  const declined: DeflateNegotiation['declined'] = [];
  for (const offer of offers) {
    if (offer.name !== PERMESSAGE_DEFLATE) continue;
    const read = readDeflateOffer(offer);
    const result = typeof read === 'string' ? read : acceptDeflateOffer(read, options);
    if (typeof result !== 'string') return { agreement: result, declined };
    declined.push({ offer, reason: result });
  }
  return { agreement: undefined, declined };
}

// ---------------------------------------------------------------------------
// The codec (RFC 7692 §6, §7.2)
// ---------------------------------------------------------------------------

/** §7.2.1, §7.2.2: the tail a sync flush ends with; removed when sending, put back to inflate. */
const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/**
 * The last `size` bytes that went through one direction's compressor: the
 * LZ77 window the peer's side of that direction holds (§7.2.1, §7.2.2). A
 * ring: appending copies only the new bytes.
 */
class SlidingWindow {
  private buffer: Buffer | undefined;
  /** Where the next byte goes; once full, also where the oldest is. */
  private end = 0;
  private length = 0;

  constructor(private readonly size: number) {}

  /** The window's bytes in order (a view while it has not wrapped, else a copy), or undefined while empty. */
  get contents(): Buffer | undefined {
    const buffer = this.buffer;
    if (this.length === 0 || !buffer) return undefined;
    if (this.length < this.size || this.end === 0) return buffer.subarray(0, this.length);
    return Buffer.concat([buffer.subarray(this.end), buffer.subarray(0, this.end)], this.size);
  }

  append(data: Buffer): void {
    if (data.length === 0) return;
    const size = this.size;
    // Allocated on first use, outside the shared pool: an idle connection holds nothing.
    const buffer = (this.buffer ??= Buffer.allocUnsafeSlow(size));
    if (data.length >= size) {
      data.copy(buffer, 0, data.length - size);
      this.end = 0;
      this.length = size;
      return;
    }
    const first = data.copy(buffer, this.end);
    if (first < data.length) data.copy(buffer, 0, first);
    this.end = (this.end + data.length) % size;
    this.length = Math.min(size, this.length + data.length);
  }

  /** How many bytes it holds allocated (for tests and docs). */
  get allocated(): number {
    return this.buffer?.length ?? 0;
  }

  clear(): void {
    this.buffer = undefined;
    this.end = 0;
    this.length = 0;
  }
}

function zlibCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function invalidData(error: unknown): ProtocolError {
  return new ProtocolError('INVALID_COMPRESSED_DATA', `compressed message does not inflate: ${(error as Error).message}`);
}

/** Where zlib's output goes: one for the process, since every call is synchronous. */
const zlibOutput = new Output();

/** How a PerMessageDeflate runs zlib; the defaults suit a server. */
export interface DeflateEngineOptions {
  /**
   * Keep a zlib stream per direction between messages (default: when
   * `zlibStreamsWork()`); false runs each message through one-shot calls
   * with the window as preset dictionary.
   */
  streams?: boolean;
  /**
   * Called when the codec opens a zlib stream while it holds none: a runtime
   * that wants idle connections cheap calls `releaseIfIdle` from then on.
   */
  onEngine?: (codec: PerMessageDeflate) => void;
}

/**
 * One connection's permessage-deflate state, for a server: it inflates what
 * the client compressed and compresses what the server sends.
 *
 * Context takeover (§7.1.1) is kept by a zlib stream per direction, used
 * message after message, and by the last 2^window-bits bytes of each
 * direction (the window): when a stream is let go (`releaseIfIdle`, a
 * message compressed elsewhere, a stream the peer ended), the next message
 * opens a new one with the window as its preset dictionary. Such a stream
 * refers back into those bytes as the old one would, and the peer's side
 * holds the same bytes: the peer cannot tell the difference. Without
 * working streams (`zlibStreamsWork`), every message is one-shot with the
 * window as dictionary, which costs more CPU per message.
 */
export class PerMessageDeflate implements MessageInflater {
  readonly params: DeflateParams;
  /** Whether zlib streams are kept between messages (else one-shot calls). */
  readonly streams: boolean;
  private readonly memLevel: number;
  private readonly level: number;
  private readonly threshold: number;
  private readonly onEngine: ((codec: PerMessageDeflate) => void) | undefined;
  /** Client-to-server: what we inflated, while the client keeps its context. */
  private readonly inflated: SlidingWindow | undefined;
  /** Server-to-client: what we compressed, while we keep ours. */
  private readonly compressed: SlidingWindow | undefined;
  private inflater: ZlibStream | undefined;
  private deflater: ZlibStream | undefined;
  /** A message went through since the last `releaseIfIdle`. */
  private used = false;

  constructor(
    params: DeflateParams,
    options: Partial<Pick<ResolvedDeflateOptions, 'memLevel' | 'level' | 'threshold'>> = {},
    engine: DeflateEngineOptions = {},
  ) {
    this.params = params;
    this.memLevel = options.memLevel ?? DEFLATE_DEFAULTS.memLevel;
    this.level = options.level ?? DEFLATE_DEFAULTS.level;
    // zlib's level 0 makes stored blocks, never shorter than the message: every message goes uncompressed (§6).
    this.threshold = this.level === 0 ? Number.POSITIVE_INFINITY : (options.threshold ?? DEFLATE_DEFAULTS.threshold);
    this.streams = engine.streams ?? zlibStreamsWork();
    this.onEngine = engine.onEngine;
    this.inflated = params.clientNoContextTakeover ? undefined : new SlidingWindow(2 ** params.clientMaxWindowBits);
    this.compressed = params.serverNoContextTakeover ? undefined : new SlidingWindow(2 ** params.serverMaxWindowBits);
  }

  /**
   * The most compressed bytes a message of `maxPayload` inflated bytes can
   * take: DEFLATE's worst case is a literal in 9 bits (fixed Huffman codes,
   * RFC 1951 §3.2.6), so 9/8 of the data, plus block headers. It bounds what
   * is buffered before inflating; the cap that counts is on inflated bytes.
   */
  compressedLimit(maxPayload: number): number {
    return maxPayload + Math.ceil(maxPayload / 8) + 1024;
  }

  /**
   * §7.2.2: inflate one whole message, given its frames' payloads in order
   * (0x00 0x00 0xff 0xff is appended here). Returns undefined as soon as the
   * output would pass `limit` bytes: zlib is never given room for more, so a
   * small message that inflates to gigabytes costs at most `limit` bytes and
   * the time to make them. Throws ProtocolError INVALID_COMPRESSED_DATA
   * (1007) for data that does not inflate. Data after a final block (BFINAL,
   * §7.2.3.4) is not read, and the next message starts a new DEFLATE stream.
   */
  inflate(pieces: readonly Buffer[], limit: number): Buffer | undefined {
    if (!this.streams) return this.inflateOnce(pieces, limit);
    // §7.2.3.6: no payload at all is an empty message; the stream is not touched.
    if (pieces.every((piece) => piece.length === 0)) return EMPTY_BUFFER;
    this.used = true;
    const out = zlibOutput;
    let stream = this.inflater ?? this.openInflater();
    let reopened = false;
    let ended = false;
    out.begin(limit);
    try {
      for (let i = 0; i <= pieces.length && !ended; i++) {
        const piece = i < pieces.length ? pieces[i] : TAIL;
        if (piece.length === 0) continue;
        const run = stream.run(piece, constants.Z_SYNC_FLUSH, out);
        if (run === Run.Over) {
          out.clear();
          this.closeInflater();
          return undefined;
        }
        if (run !== Run.Ended) continue;
        if (out.length === 0 && stream.consumed === 0 && !reopened) {
          // The stream ended with an earlier message, exactly at its end: this
          // message starts a new one, after the same window.
          this.closeInflater();
          stream = this.openInflater();
          reopened = true;
          i = -1;
          continue;
        }
        // Like a one-shot inflate, what follows the end of the stream is not read.
        ended = true;
      }
    } catch (error) {
      out.clear();
      this.closeInflater();
      if (zlibCode(error)?.startsWith('Z_')) throw invalidData(error);
      throw error;
    }
    const output = out.take();
    // §7.1.1.2: without the client's context takeover, each message starts afresh.
    if (ended) this.closeInflater();
    else if (!this.inflated) stream.reset();
    this.inflated?.append(output);
    return output;
  }

  private inflateOnce(pieces: readonly Buffer[], limit: number): Buffer | undefined {
    const window = this.inflated;
    let output: Buffer;
    try {
      output = inflateRawSync(Buffer.concat([...pieces, TAIL]), {
        windowBits: this.params.clientMaxWindowBits,
        finishFlush: constants.Z_SYNC_FLUSH,
        // zlib checks after each output chunk (16 KiB): at most limit + 16 KiB is made.
        maxOutputLength: Math.max(1, limit),
        dictionary: window?.contents,
      });
    } catch (error) {
      const code = zlibCode(error);
      if (code === 'ERR_BUFFER_TOO_LARGE') return undefined;
      if (code?.startsWith('Z_')) throw invalidData(error);
      throw error;
    }
    if (output.length > limit) return undefined;
    window?.append(output);
    return output;
  }

  /**
   * §7.2.1: compress a message to send. Returns the payload to send with RSV1
   * set, or undefined to send the message uncompressed (§6: allowed at any
   * time): when it is under the threshold, or when compressing does not make
   * it smaller. An uncompressed message does not enter the peer's window, so
   * a stream that compressed it is let go.
   */
  deflate(data: Buffer): Buffer | undefined {
    if (!this.streams) {
      const options = this.deflateOptions(data);
      return options && this.finishDeflate(data, deflateRawSync(data, options));
    }
    if (data.length < this.threshold || data.length === 0) return undefined;
    this.used = true;
    const stream = this.deflater ?? this.openDeflater();
    const out = zlibOutput;
    // Room for a payload shorter than `data` and its tail: a longer one is not sent.
    out.begin(data.length + TAIL.length - 1);
    let run: Run;
    try {
      run = stream.run(data, constants.Z_SYNC_FLUSH, out);
    } catch {
      run = Run.Over; // not expected with valid options: the message goes uncompressed
    }
    const payload = run === Run.Done ? this.payload(data, out.take()) : (out.clear(), undefined);
    if (!payload) this.closeDeflater();
    else if (!this.compressed) stream.reset(); // §7.1.1.1: each message on its own
    return payload;
  }

  /**
   * `deflate` in two steps, for a caller that runs zlib itself (the runtime
   * compresses large messages on the threadpool): the options for zlib's
   * deflateRaw, or undefined to send `data` uncompressed (under the
   * threshold). Then `finishDeflate` with zlib's output. One message at a
   * time, in the order they are sent: each one's window is the one before's.
   */
  deflateOptions(data: Buffer): ZlibOptions | undefined {
    if (data.length < this.threshold || data.length === 0) return undefined;
    this.used = true;
    // Compressed elsewhere, the message passes our stream by: it is let go.
    if (this.compressed) this.closeDeflater();
    const window = this.compressed?.contents;
    return {
      windowBits: this.params.serverMaxWindowBits,
      memLevel: this.memLevel,
      level: this.level,
      finishFlush: constants.Z_SYNC_FLUSH,
      // A copy: zlib may read it after the window has moved on.
      dictionary: window && Buffer.from(window),
    };
  }

  /** The payload to send with RSV1 from zlib's output `out` for `data`, or undefined to send `data` uncompressed. */
  finishDeflate(data: Buffer, out: Buffer): Buffer | undefined {
    return this.payload(data, out);
  }

  /** zlib's sync-flushed output for `data` without its tail, if shorter than `data`; it then enters the window. */
  private payload(data: Buffer, out: Buffer): Buffer | undefined {
    // A sync flush ends with an empty stored block: 0x00 0x00 0xff 0xff.
    if (out.length < TAIL.length || !out.subarray(out.length - TAIL.length).equals(TAIL)) return undefined;
    const payload = out.subarray(0, out.length - TAIL.length);
    if (payload.length >= data.length) return undefined;
    this.compressed?.append(data);
    return payload;
  }

  private openInflater(): ZlibStream {
    const stream = ZlibStream.inflater(this.params.clientMaxWindowBits, this.inflated?.contents);
    if (!stream) throw zlibFailure('zlib streams stopped working');
    this.opened();
    return (this.inflater = stream);
  }

  private openDeflater(): ZlibStream {
    const stream = ZlibStream.deflater(this.params.serverMaxWindowBits, this.memLevel, this.level, this.compressed?.contents);
    if (!stream) throw zlibFailure('zlib streams stopped working');
    this.opened();
    return (this.deflater = stream);
  }

  private opened(): void {
    if (!this.inflater && !this.deflater) this.onEngine?.(this);
  }

  private closeInflater(): void {
    this.inflater?.close();
    this.inflater = undefined;
  }

  private closeDeflater(): void {
    this.deflater?.close();
    this.deflater = undefined;
  }

  /** Whether it holds a zlib stream (zlib's memory, outside the V8 heap). */
  get holdsEngine(): boolean {
    return this.inflater !== undefined || this.deflater !== undefined;
  }

  /**
   * For a runtime's idle sweep: if no message went through since the last
   * call, close both zlib streams and forget our own window (the next message
   * we send starts afresh, which §7.1.1.1 allows); the client's window stays,
   * since it may refer back into it. True when no stream is held afterwards.
   */
  releaseIfIdle(): boolean {
    if (this.used) {
      this.used = false;
      return !this.holdsEngine;
    }
    this.closeInflater();
    this.closeDeflater();
    this.compressed?.clear();
    return true;
  }

  /** Bytes held for context takeover, both directions (0 until a message used them). */
  get windowBytes(): number {
    return (this.inflated?.allocated ?? 0) + (this.compressed?.allocated ?? 0);
  }

  /** Let go of the streams and windows (the connection is closed). */
  dispose(): void {
    this.closeInflater();
    this.closeDeflater();
    this.inflated?.clear();
    this.compressed?.clear();
  }
}
