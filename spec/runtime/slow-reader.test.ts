/**
 * A slow reader does not grow the server's memory unboundedly (issue #3).
 *
 * A raw client offers `strictws echo` (a child process, default options)
 * 200 MiB of 1 MiB binary messages and never reads. Every echo queues for a
 * peer that does not read, so once the server's send queue passes
 * highWaterMark it stops reading that peer: TCP then stalls the client's
 * writes, and the server's memory stays flat. We sample the child's RSS
 * (VmRSS) throughout.
 *
 * The documented bound (docs/api.md, "Memory per connection"): a peer that
 * does not read holds at most about highWaterMark + 2 × maxPayload in the
 * server (its send queue past the mark by at most one message, plus one
 * message being assembled). We allow 16 MiB more for V8 and the allocator
 * (buffers read before the pause are garbage not yet collected). With the
 * defaults that is 1 + 2 × 16 + 16 = 49 MiB of RSS growth, less than the
 * 64 MiB a server that kept reading would queue before maxBufferedAmount
 * closed the connection.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import WebSocket from 'ws';
import { DEFAULTS } from '../../src/server/index.js';
import { startCli } from '../support/cli.js';
import { RawClient, delay } from './support.js';

const MiB = 1024 * 1024;
const OFFERED = 200 * MiB;
const SLACK = 16 * MiB;
const BOUND = DEFAULTS.highWaterMark + 2 * DEFAULTS.maxPayload + SLACK;
/** Give up on a write that has not drained in this long: the server has stopped reading. */
const STALL_MS = 1_500;
const TIME_LIMIT_MS = 15_000;

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]) * 1024;
}

it('a client that sends 200 MiB and never reads: the server stops reading it and its RSS stays bounded', async () => {
  const server = await startCli('echo');
  const pid = server.process.pid!;
  try {
    await delay(200);
    const baseline = rssOf(pid);
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 25);

    const client = await RawClient.connect(server.port);
    client.socket.pause(); // never reads
    // One masked 1 MiB frame, written 200 times (the payload is random either way).
    const header = Buffer.alloc(14);
    header[0] = 0x82;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(MiB), 2);
    randomBytes(4).copy(header, 10);
    const frame = Buffer.concat([header, randomBytes(MiB)]);

    const started = Date.now();
    let offered = 0;
    let stalled = false;
    while (offered < OFFERED && Date.now() - started < TIME_LIMIT_MS) {
      offered += MiB;
      if (client.send(frame)) continue;
      const drained = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          client.socket.off('drain', onDrain);
          resolve(false);
        }, STALL_MS);
        const onDrain = () => {
          clearTimeout(timer);
          resolve(true);
        };
        client.socket.once('drain', onDrain);
      });
      if (!drained) {
        stalled = true;
        break;
      }
    }
    const elapsed = Date.now() - started;
    // Taken by TCP (client and server kernels) and the server, not left in our queue.
    const accepted = offered - client.socket.writableLength;
    await delay(300);
    clearInterval(sampler);
    peak = Math.max(peak, rssOf(pid));

    // The server is still serving others meanwhile.
    const other = new WebSocket(server.url);
    await once(other, 'open');
    other.send('still here');
    const [reply] = (await once(other, 'message')) as [Buffer];
    expect(reply.toString()).toBe('still here');
    other.close();

    const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;
    console.info(
      `slow reader: offered ${mib(offered)} in ${elapsed} ms, TCP and the server took ${mib(accepted)} before the writes stalled; ` +
        `server RSS baseline ${mib(baseline)}, peak ${mib(peak)}, growth ${mib(peak - baseline)} (bound ${mib(BOUND)})`,
    );
    expect(stalled).toBe(true); // the server stopped reading: 200 MiB could not be pushed
    expect(accepted).toBeLessThan(OFFERED / 2);
    expect(peak - baseline).toBeLessThan(BOUND);
    // Not closed: the server waits for the reader (maxBufferedAmount is never reached by echo).
    expect(client.closed).toBe(false);
    expect(server.log()).not.toMatch(/closed 10(08|13)/);
    client.socket.destroy();
  } finally {
    expect(await server.stop()).toBe(0);
  }
});
