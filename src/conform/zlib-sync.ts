/**
 * The conformance client's zlib context for one direction of a connection,
 * used synchronously: a message goes through it in one call, no thread-pool
 * round trip, and the context stays for the next message (RFC 7692 §7.2's
 * context takeover) until `reset`.
 *
 * node:zlib keeps a context across calls only in its stream objects, which
 * are asynchronous; their native handle also has the synchronous `writeSync`
 * that node's own one-shot functions use, reporting what is left of the
 * output room and the input in `_writeState`. Neither is public API, so
 * `open` checks they are there and `SyncZlib.works` once that they behave;
 * ClientDeflate falls back to one-shot calls with a preset dictionary when
 * they do not. Independent of src/protocol's zlib code by design (the
 * conformance client shares nothing with what it tests).
 */
import { constants, createDeflateRaw, createInflateRaw, deflateRawSync } from 'node:zlib';

interface NativeHandle {
  writeSync(flush: number, input: Uint8Array, inOffset: number, inLength: number, output: Uint8Array, outOffset: number, outLength: number): void;
}

/** What is used of a node:zlib stream object. */
interface StreamObject {
  _handle?: NativeHandle | null;
  _writeState?: unknown;
  readonly destroyed: boolean;
  readonly errored: Error | null;
  on(event: 'error', listener: (error: Error) => void): unknown;
  reset(): void;
  close(): void;
}

/** Output goes here first (everything here is synchronous, so one buffer serves every context). */
const ROOM_BYTES = 256 * 1024;
let room: Buffer | undefined;

/** Output past the caller's limit: the message is abandoned and the context must not be used again. */
export class OutputLimitError extends RangeError {
  constructor(readonly limit: number) {
    super(`inflates to more than ${limit} bytes`);
  }
}

export class SyncZlib {
  private dead: Error | undefined;
  /** The DEFLATE stream ended (a block with BFINAL set) in the last `pass`; the caller decides what that means. */
  ended = false;

  private constructor(
    private readonly stream: StreamObject,
    private readonly handle: NativeHandle,
    private readonly counts: Uint32Array,
  ) {
    // A zlib error destroys the stream object, which emits it later; `pass` throws it at once instead.
    stream.on('error', () => undefined);
  }

  private static open(stream: StreamObject): SyncZlib | undefined {
    const { _handle: handle, _writeState: counts } = stream;
    if (handle && typeof handle.writeSync === 'function' && counts instanceof Uint32Array && counts.length >= 2) return new SyncZlib(stream, handle, counts);
    stream.close();
    return undefined;
  }

  /** A raw inflater with a window of 2^windowBits, or undefined when node:zlib's internals differ. */
  static inflater(windowBits: number): SyncZlib | undefined {
    return SyncZlib.open(createInflateRaw({ windowBits, chunkSize: constants.Z_MIN_CHUNK }) as unknown as StreamObject);
  }

  /** A raw deflater, or undefined when node:zlib's internals differ. */
  static deflater(windowBits: number, level: number): SyncZlib | undefined {
    return SyncZlib.open(createDeflateRaw({ windowBits, level, chunkSize: constants.Z_MIN_CHUNK }) as unknown as StreamObject);
  }

  /**
   * Put `parts` through the context, in order, the last with a sync flush,
   * and return all the output in one new buffer. Throws zlib's error for input
   * that does not inflate, and OutputLimitError once the output would pass
   * `limit` (zlib is never given room for more than limit + 1 bytes). Linear:
   * every call of zlib either fills its room or uses up its input. `memory`,
   * if given, provides the buffer of at least `size` bytes the result is a
   * view of.
   */
  pass(parts: readonly Buffer[], limit = Infinity, memory?: (size: number) => Buffer): Buffer {
    if (this.dead) throw this.dead;
    const out = (room ??= Buffer.allocUnsafeSlow(ROOM_BYTES));
    const full: Buffer[] = [];
    let used = 0;
    let total = 0;
    this.ended = false;
    for (let p = 0; p < parts.length && !this.ended; p++) {
      const last = p === parts.length - 1;
      const input = parts[p];
      if (input.length === 0 && !last) continue;
      let at = 0;
      let left = input.length;
      for (;;) {
        if (used === out.length) {
          full.push(Buffer.from(out));
          used = 0;
        }
        const offered = Math.min(out.length - used, limit + 1 - total);
        this.handle.writeSync(last ? constants.Z_SYNC_FLUSH : constants.Z_NO_FLUSH, input, at, left, out, used, offered);
        if (this.stream.destroyed) {
          this.dead = this.stream.errored ?? new Error('zlib failed');
          throw this.dead;
        }
        const made = offered - this.counts[0];
        used += made;
        total += made;
        at += left - this.counts[1];
        left = this.counts[1];
        if (total > limit) {
          this.dead = new OutputLimitError(limit);
          this.stream.close();
          throw this.dead;
        }
        if (this.counts[0] === 0) continue; // the room was filled: more may come
        // Room to spare and input unread: zlib reached the end of the DEFLATE stream.
        this.ended = left > 0;
        break;
      }
    }
    const result = memory ? memory(total).subarray(0, total) : Buffer.allocUnsafe(total);
    let at = 0;
    for (const piece of full) at += piece.copy(result, at);
    out.copy(result, at, 0, used);
    return result;
  }

  /** Back to a fresh context (RFC 7692 §7.1.1: no context takeover). */
  reset(): void {
    if (!this.dead) this.stream.reset();
  }

  close(): void {
    this.dead ??= new Error('the zlib context is closed');
    this.stream.close();
  }

  private static checked: boolean | undefined;

  /**
   * Whether the synchronous path behaves on this Node, checked once: the same
   * text deflated twice on one context (the second time it must be shorter,
   * referring back) inflates back on another, and a reset forgets.
   */
  static get works(): boolean {
    if (SyncZlib.checked !== undefined) return SyncZlib.checked;
    const text = Buffer.from('permessage-deflate keeps its LZ77 window from message to message; '.repeat(4));
    const deflater = SyncZlib.deflater(15, constants.Z_BEST_SPEED);
    const inflater = SyncZlib.inflater(15);
    let ok = false;
    try {
      if (deflater && inflater) {
        const one = deflater.pass([text]);
        const two = deflater.pass([text]);
        deflater.reset();
        const again = deflater.pass([text]);
        ok =
          two.length < one.length &&
          again.equals(deflateRawSync(text, { windowBits: 15, level: constants.Z_BEST_SPEED, finishFlush: constants.Z_SYNC_FLUSH })) &&
          inflater.pass([one]).equals(text) &&
          inflater.pass([two]).equals(text);
      }
    } catch {
      ok = false;
    } finally {
      deflater?.close();
      inflater?.close();
    }
    return (SyncZlib.checked = ok);
  }
}
