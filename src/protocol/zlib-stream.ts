/**
 * A raw DEFLATE stream (RFC 1951) kept across messages and driven
 * synchronously: the engine behind permessage-deflate's context takeover
 * (RFC 7692 §7.1.1, §7.2) when node:zlib allows it.
 *
 * node:zlib keeps a stream's state between calls only in its asynchronous
 * API; its synchronous path closes the engine after one call. Node's own
 * synchronous path drives the engine's native handle (`_handle.writeSync`,
 * with the counts left in `_writeState`), and so does this module. That is
 * not public API, so `zlibStreamsWork` checks once, with a round trip that
 * must keep its context, that it behaves; when it does not, deflate.ts uses
 * one-shot calls with a preset dictionary instead (docs/deflate.md).
 *
 * A zlib stream is computation, not I/O: it lives in the sans-I/O core,
 * which stays synchronous. Output never grows past the limit a caller sets,
 * so inflating stays bounded by maxPayload with a stream kept open.
 */
import { type ZlibOptions, constants, createDeflateRaw, createInflateRaw } from 'node:zlib';

/** The native handle's synchronous write (node's lib/zlib.js processChunkSync). */
interface Handle {
  writeSync(flush: number, input: Buffer, inOff: number, inLen: number, out: Buffer, outOff: number, outLen: number): void;
}

/** The parts of a node:zlib stream object this module uses. */
interface Engine {
  _handle?: Handle | null;
  _writeState?: unknown;
  destroyed: boolean;
  errored: Error | null;
  on(event: 'error', listener: () => void): unknown;
  reset(): void;
  close(): void;
}

/** How a `run` ended. */
export const enum Run {
  /** The input is used up and its output flushed. */
  Done,
  /** The output would pass the limit: the stream is mid-message and must not be used again. */
  Over,
  /**
   * The DEFLATE stream has ended (a block with BFINAL set): what is left of
   * the input is not read, and the stream makes no more output.
   */
  Ended,
}

// Output goes first to one shared buffer (everything here is synchronous),
// then to chunks that double in size; the caller gets one buffer of the exact size.
const SCRATCH_BYTES = 64 * 1024;
const EMPTY = Buffer.alloc(0);
const MIN_CHUNK_BYTES = 16 * 1024;
const MAX_CHUNK_BYTES = 256 * 1024;
let scratch: Buffer | undefined;

/** The output of one message: at most `limit` bytes are ever given room. */
export class Output {
  private chunks: Buffer[] = [];
  private last: Buffer = EMPTY;
  private used = 0;
  /** Bytes of output so far. */
  length = 0;
  private room = 0;

  /** Start a message's output: `limit` bytes at most (zlib is offered limit + 1, to tell "over"). */
  begin(limit: number): void {
    this.chunks = [];
    this.last = (scratch ??= Buffer.allocUnsafeSlow(SCRATCH_BYTES));
    this.used = 0;
    this.length = 0;
    this.room = limit + 1;
  }

  /** Where zlib may write next: a buffer, its offset, how many bytes. 0 bytes: the limit is passed. */
  next(): [Buffer, number, number] {
    if (this.length === this.room) return [this.last, this.used, 0];
    if (this.used === this.last.length) {
      // zlib filled its room and may have more: chunks from 16 KiB, doubling up to 256 KiB
      // (larger, freed ones would make malloc serve later ones from the heap, which then stays large).
      const size = this.chunks.length === 0 ? MIN_CHUNK_BYTES : Math.min(this.last.length * 2, MAX_CHUNK_BYTES);
      this.chunks.push(this.last);
      this.last = Buffer.allocUnsafeSlow(Math.min(size, this.room - this.length));
      this.used = 0;
    }
    return [this.last, this.used, Math.min(this.last.length - this.used, this.room - this.length)];
  }

  advance(bytes: number): void {
    this.used += bytes;
    this.length += bytes;
  }

  /** Let go of the output (a message over its limit: up to `limit` bytes that nobody needs). */
  clear(): void {
    this.chunks = [];
    this.last = EMPTY;
    this.used = 0;
    this.length = 0;
  }

  /** The output as one buffer of its own (it outlives the next message). */
  take(): Buffer {
    const result = Buffer.allocUnsafe(this.length);
    let at = 0;
    for (const chunk of this.chunks) at += chunk.copy(result, at);
    this.last.copy(result, at, 0, this.used);
    this.clear();
    return result;
  }
}

function noop(): void {}

/** A zlib failure with node:zlib's code for it (Z_STREAM_ERROR). */
export function zlibFailure(message: string): Error {
  return Object.assign(new Error(message), { code: 'Z_STREAM_ERROR' });
}

/** A zlib error as thrown by node:zlib (it carries a Z_* `code`). */
function engineError(engine: Engine): Error {
  return engine.errored ?? zlibFailure('zlib stream failed');
}

export class ZlibStream {
  private constructor(
    private readonly engine: Engine,
    private readonly handle: Handle,
    private readonly state: Uint32Array,
  ) {}

  /** Input bytes the last `run` read. */
  consumed = 0;

  private static wrap(engine: Engine): ZlibStream | undefined {
    const handle = engine._handle;
    const state = engine._writeState;
    if (typeof handle?.writeSync !== 'function' || !(state instanceof Uint32Array) || state.length < 2) {
      engine.close();
      return undefined;
    }
    // A failure destroys the node:zlib object, which then emits 'error'; `run` reports it instead.
    engine.on('error', noop);
    return new ZlibStream(engine, handle, state);
  }

  // Node allocates an output chunk per stream object; `run` never uses it, so it is the smallest allowed.
  private static readonly options: ZlibOptions = { chunkSize: constants.Z_MIN_CHUNK };

  /** A raw deflater, or undefined if node:zlib's internals are not as this module expects. */
  static deflater(windowBits: number, memLevel: number, level: number, dictionary?: Buffer): ZlibStream | undefined {
    return ZlibStream.wrap(createDeflateRaw({ ...ZlibStream.options, windowBits, memLevel, level, dictionary }) as unknown as Engine);
  }

  /** A raw inflater, or undefined if node:zlib's internals are not as this module expects. */
  static inflater(windowBits: number, dictionary?: Buffer): ZlibStream | undefined {
    return ZlibStream.wrap(createInflateRaw({ ...ZlibStream.options, windowBits, dictionary }) as unknown as Engine);
  }

  /**
   * Put `input` through the stream with `flush` (Z_NO_FLUSH, Z_SYNC_FLUSH),
   * appending what comes out to `out`, within its limit. Each call of zlib
   * either reads input or fills the room it was given, so this is linear in
   * input plus output. Throws node:zlib's error (with its Z_* code) for data
   * that does not inflate; the stream is then closed.
   */
  run(input: Buffer, flush: number, out: Output): Run {
    const state = this.state;
    let offset = 0;
    let left = input.length;
    this.consumed = 0;
    for (;;) {
      const [buffer, at, room] = out.next();
      if (room === 0) return Run.Over;
      this.handle.writeSync(flush, input, offset, left, buffer, at, room);
      if (this.engine.destroyed) throw engineError(this.engine);
      const outLeft = state[0];
      const inLeft = state[1];
      out.advance(room - outLeft);
      offset += left - inLeft;
      this.consumed = offset;
      left = inLeft;
      if (outLeft === 0) continue; // the room is full: there may be more
      // Room left over and input not read: zlib stopped at the end of the stream.
      return left === 0 ? Run.Done : Run.Ended;
    }
  }

  /** Back to the state it was created in (its dictionary included): RFC 7692 §7.1.1's reset. */
  reset(): void {
    this.engine.reset();
  }

  /** Free the engine's memory now (zlib's state is outside the V8 heap). */
  close(): void {
    this.engine.close();
  }
}

let works: boolean | undefined;

/**
 * Whether `ZlibStream` works on this Node: checked once, by compressing the
 * same text twice on one stream (the second time it must refer back to the
 * first) and inflating both on another.
 */
export function zlibStreamsWork(): boolean {
  return (works ??= probe());
}

function probe(): boolean {
  let deflater: ZlibStream | undefined;
  let inflater: ZlibStream | undefined;
  try {
    deflater = ZlibStream.deflater(15, 8, constants.Z_BEST_SPEED);
    inflater = ZlibStream.inflater(15);
    if (!deflater || !inflater) return false;
    const text = Buffer.from('permessage-deflate keeps its context from one message to the next. '.repeat(4));
    const out = new Output();
    const sizes: number[] = [];
    for (let i = 0; i < 2; i++) {
      out.begin(2 * text.length);
      if (deflater.run(text, constants.Z_SYNC_FLUSH, out) !== Run.Done) return false;
      const compressed = out.take();
      sizes.push(compressed.length);
      out.begin(2 * text.length);
      if (inflater.run(compressed, constants.Z_SYNC_FLUSH, out) !== Run.Done) return false;
      if (!out.take().equals(text)) return false;
    }
    return sizes[1] < sizes[0];
  } catch {
    return false;
  } finally {
    deflater?.close();
    inflater?.close();
  }
}
