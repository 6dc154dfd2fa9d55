/**
 * Compressing large messages off the event loop (docs/deflate.md): zlib's
 * one-shot deflateRaw on libuv's threadpool, a few jobs at a time for the
 * whole process. Each job holds a zlib deflate state (up to a few hundred
 * KiB) while it waits and runs, so more than the threadpool can run would
 * only hold memory; ws limits its zlib jobs for the same reason.
 */
import { type ZlibOptions, deflateRaw } from 'node:zlib';

/**
 * Messages of this many bytes or more are compressed on the threadpool; smaller
 * ones in the sender's turn of the event loop, where they cost under a
 * millisecond (docs/deflate.md has the measurements).
 */
export const ASYNC_DEFLATE_BYTES = 64 * 1024;

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
