/**
 * The runtime's side of permessage-deflate's zlib use (docs/deflate.md):
 *
 * - Compressing large messages off the event loop: zlib's one-shot
 *   deflateRaw on libuv's threadpool, a few jobs at a time for the whole
 *   process. Each job holds a zlib deflate state (up to a few hundred KiB)
 *   while it waits and runs, so more than the threadpool can run would only
 *   hold memory; ws limits its zlib jobs for the same reason.
 * - Closing the zlib streams of connections that have gone idle: one timer
 *   for the process, running while some connection holds a stream.
 */
import { type ZlibOptions, deflateRaw } from 'node:zlib';
import type { PerMessageDeflate } from '../protocol/index.js';

/**
 * Messages of this many bytes or more are compressed on the threadpool when
 * each message is a one-shot zlib call; smaller ones in the sender's turn of
 * the event loop, where they cost under a millisecond (docs/deflate.md has
 * the measurements).
 */
export const ASYNC_DEFLATE_BYTES = 64 * 1024;

/** The same, when the connection keeps a zlib stream: each byte costs less, so the same time holds more. */
export const ASYNC_STREAM_DEFLATE_BYTES = 128 * 1024;

/** The size from which `codec` compresses a message on the threadpool. */
export function asyncDeflateBytes(codec: PerMessageDeflate): number {
  return codec.streams ? ASYNC_STREAM_DEFLATE_BYTES : ASYNC_DEFLATE_BYTES;
}

/** zlib jobs on the threadpool at once, process-wide (libuv runs 4 threads by default). */
const CONCURRENCY = 4;

let running = 0;
const waiting: Array<() => void> = [];

/** Compress `data` with zlib's deflateRaw and `options`, on the threadpool; `done` gets the output. */
export function deflateOffLoop(data: Buffer, options: ZlibOptions, done: (out: Buffer | undefined) => void): void {
  const run = (): void => {
    running++;
    deflateRaw(data, options, (error, out) => {
      running--;
      waiting.shift()?.();
      // A failure (none is expected with valid options) sends the message uncompressed.
      done(error ? undefined : out);
    });
  };
  if (running < CONCURRENCY) run();
  else waiting.push(run);
}

/** How often idle connections' zlib streams are closed: after one to two of these without a message. */
export const DEFLATE_IDLE_MS = 5_000;

const holding = new Set<PerMessageDeflate>();
let sweeper: NodeJS.Timeout | undefined;

/** A connection's codec opened a zlib stream (PerMessageDeflate's onEngine): watch it for idleness. */
export function watchDeflateIdle(codec: PerMessageDeflate): void {
  holding.add(codec);
  sweeper ??= setInterval(sweepIdleDeflate, DEFLATE_IDLE_MS).unref();
}

/** Close the zlib streams of the codecs no message went through since the last sweep. */
export function sweepIdleDeflate(): void {
  for (const codec of holding) if (codec.releaseIfIdle()) holding.delete(codec);
  if (holding.size === 0 && sweeper) {
    clearInterval(sweeper);
    sweeper = undefined;
  }
}

/** Codecs holding a zlib stream, as the sweep sees them (for tests). */
export function deflateCodecsWatched(): number {
  return holding.size;
}
