// The request reader fed one byte per push, at growing head sizes (docs/security.md): a linear
// reader takes about 4x as long for 4x the bytes; one that re-copies what it buffered, far more.
//
//   npx tsx bench/head-bytes.ts
import { RequestReader } from '../src/protocol/index.js';

/** Best of 3: milliseconds to read a head of one `n`-byte header value, one byte per push. */
function time(n: number): number {
  const head = Buffer.from(`GET / HTTP/1.1\r\nHost: a\r\nX: a${'b'.repeat(n)}b\r\n\r\n`);
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    // Caps out of the way: the sizes here pass the 16 KiB default on purpose.
    const reader = new RequestReader({ maxHeaderBytes: 1 << 24, maxRequestLine: 1 << 24 });
    const started = performance.now();
    for (let i = 0; i < head.length; i++) reader.push(head.subarray(i, i + 1));
    best = Math.min(best, performance.now() - started);
  }
  return best;
}

console.log(`node ${process.version}`);
for (const n of [16_000, 64_000, 256_000]) console.log(`${n.toLocaleString('en')} bytes in 1-byte pushes: ${time(n).toFixed(1)} ms`);
