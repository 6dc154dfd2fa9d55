/**
 * Backpressure, limits and errors of the runtime (issue #3): send()'s return
 * value against highWaterMark and the 'drain' event; the hard cap
 * maxBufferedAmount (1008); sends after close; 'error' without listeners;
 * maxPayload enforced from the frame header; and the invariant that echo
 * under backpressure returns every message, in order, byte-exact.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocketServer, WebSocket as ServerSocket } from '../../src/server/index.js';
import { OP, RawClient, type ServerFrame, clientClose, clientFrame, listen, waitFor } from './support.js';

const servers: WebSocketServer[] = [];
const clients: RawClient[] = [];
afterEach(async () => {
  // Raw clients never answer a close: drop them first so close() need not wait for closeTimeout.
  for (const client of clients.splice(0)) client.socket.destroy();
  await Promise.all(servers.splice(0).map((wss) => wss.close()));
});

async function connected(options: Parameters<typeof listen>[0] = {}, { readClient = true } = {}) {
  const server = await listen({ closeTimeout: 1_000, ...options });
  servers.push(server.wss);
  const accepted = new Promise<ServerSocket>((resolve) => server.wss.once('connection', resolve));
  const client = await RawClient.connect(server.port);
  clients.push(client);
  if (!readClient) client.socket.pause();
  const ws = await accepted;
  return { ...server, client, ws };
}

function closeEvent(ws: ServerSocket): Promise<[number, string]> {
  return new Promise((resolve) => ws.once('close', (code: number, reason: string) => resolve([code, reason])));
}

describe('send() and highWaterMark', () => {
  // 64 KiB is above the socket's own 16 KiB mark; 1 KiB is below it, where
  // the socket alone never emits 'drain'.
  it.each([64 * 1024, 1024])('highWaterMark %i: send() is true below it, false at it, and drain follows', async (hwm) => {
    const { ws, client } = await connected({ highWaterMark: hwm }, { readClient: false });
    const payload = randomBytes(2000);
    let drains = 0;
    ws.on('drain', () => drains++);
    const wrong: string[] = [];
    let sends = 0;
    for (;;) {
      const queued = ws.send(payload);
      sends++;
      const buffered = ws.bufferedAmount;
      if (queued && buffered >= hwm) wrong.push(`send #${sends} returned true with ${buffered} B buffered`);
      if (!queued) {
        if (buffered < hwm) wrong.push(`send #${sends} returned false with ${buffered} B buffered`);
        break;
      }
      if (sends > 100_000) throw new Error('send() never returned false for a peer that does not read');
    }
    expect(wrong).toEqual([]);
    expect(drains).toBe(0);

    client.socket.resume();
    await waitFor(() => drains > 0, 10_000, "'drain'");
    expect(ws.bufferedAmount).toBeLessThan(hwm);
    // Every message queued arrives intact.
    await client.until(() => client.frames.length === sends, 10_000, `${sends} frames`);
    expect(client.frames.every((f) => f.opcode === OP.BINARY && f.payload.equals(payload))).toBe(true);
    // Sending again works.
    expect(ws.send('after drain')).toBe(true);
  });

  it('the send callback is called once the data is written', async () => {
    const { ws, client } = await connected();
    const result = await new Promise<unknown>((resolve) => ws.send('with callback', resolve));
    expect(result ?? undefined).toBeUndefined();
    await client.until(() => client.frames.length === 1);
    expect(client.frames[0].payload.toString()).toBe('with callback');
  });

  it('past maxBufferedAmount the connection is closed with 1008 and error SEND_BUFFER_LIMIT', async () => {
    const { ws, client } = await connected({ highWaterMark: 16 * 1024, maxBufferedAmount: 256 * 1024 }, { readClient: false });
    const errors: Array<Error & { code?: string; closeCode?: number }> = [];
    ws.on('error', (error: Error) => errors.push(error));
    const closed = closeEvent(ws);
    const chunk = randomBytes(64 * 1024);
    let sends = 0;
    // A misbehaving sender that ignores false.
    while (ws.readyState === 1 && sends < 10_000) {
      ws.send(chunk);
      sends++;
    }
    expect(ws.readyState).toBe(2); // CLOSING
    expect(errors.map((e) => [e.code, e.closeCode])).toEqual([['SEND_BUFFER_LIMIT', 1008]]);
    expect(ws.send(chunk)).toBe(false);
    client.socket.resume();
    expect(await client.closeFrame()).toEqual({ code: 1008, reason: 'send buffer limit exceeded' });
    // What was queued before the cap arrived first.
    expect(client.frames.filter((f) => f.opcode === OP.BINARY)).toHaveLength(sends);
    expect((await closed)[0]).toBe(1008);
  });
});

describe('sends after close', () => {
  it('return false and pass a NOT_OPEN error to the callback, while CLOSING and once CLOSED', async () => {
    const { ws, client } = await connected();
    const notOpen = (call: (cb: (error?: Error | null) => void) => boolean) =>
      new Promise<{ returned: boolean; code: string | undefined }>((resolve) => {
        let returned = true;
        returned = call((error) => resolve({ returned, code: (error as { code?: string } | null | undefined)?.code }));
      });

    ws.close(4000, 'done');
    expect(ws.readyState).toBe(2);
    expect(await notOpen((cb) => ws.send('late', cb))).toEqual({ returned: false, code: 'NOT_OPEN' });
    expect(await notOpen((cb) => ws.send(Buffer.from('late'), { binary: true }, cb))).toEqual({ returned: false, code: 'NOT_OPEN' });
    expect(ws.send('no callback')).toBe(false);
    expect(() => ws.ping()).not.toThrow();

    const closed = closeEvent(ws);
    await client.closeFrame();
    client.send(clientClose(4000, 'done'));
    expect(await closed).toEqual([4000, 'done']);
    expect(ws.readyState).toBe(3);
    expect(await notOpen((cb) => ws.send('later', cb))).toEqual({ returned: false, code: 'NOT_OPEN' });
    expect(() => {
      ws.ping();
      ws.close();
      ws.terminate();
    }).not.toThrow();
    // No data frame reached the client: the close frame, and the ping sent while
    // CLOSING (control frames may follow our Close, RFC 6455 §5.5.1, §5.5.2).
    expect(client.frames.map((f) => f.opcode)).toEqual([OP.CLOSE, OP.PING]);
  });
});

describe("'error' events", () => {
  it('with no listener, a protocol error or a reset never crashes the process', async () => {
    // No 'error' listener anywhere: vitest fails the run on an uncaught exception.
    const first = await connected();
    const closed = closeEvent(first.ws);
    first.client.send(Buffer.from([0x81, 0x02, 0x68, 0x69])); // an unmasked text frame
    expect(await first.client.closeFrame()).toEqual({ code: 1002, reason: '' });
    expect((await closed)[0]).toBe(1002);

    const second = await connected();
    const reset = closeEvent(second.ws);
    second.client.socket.resetAndDestroy();
    expect((await reset)[0]).toBe(1006);
  });

  it('with a listener, the error carries a stable code and the close code sent', async () => {
    const { ws, client } = await connected();
    const errors: Array<Error & { code?: string; closeCode?: number }> = [];
    ws.on('error', (error: Error) => errors.push(error));
    client.send(clientFrame(OP.TEXT, Buffer.from([0xce, 0xba, 0xff]))); // invalid UTF-8
    expect((await client.closeFrame()).code).toBe(1007);
    await waitFor(() => errors.length > 0);
    expect(errors.map((e) => [e.name, e.code, e.closeCode])).toEqual([['ProtocolError', 'INVALID_UTF8', 1007]]);
  });
});

describe('message limits', () => {
  it('maxPayload is enforced from the frame header, before any payload is buffered', async () => {
    const { ws, client } = await connected(); // default maxPayload: 16 MiB
    const closed = closeEvent(ws);
    // Only a header that announces 16 MiB + 1 bytes; no payload follows.
    const header = Buffer.alloc(14);
    header[0] = 0x82;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(16 * 1024 * 1024 + 1), 2);
    randomBytes(4).copy(header, 10);
    client.send(header);
    expect(await client.closeFrame()).toEqual({ code: 1009, reason: '' });
    expect((await closed)[0]).toBe(1009);
  });

  it('maxFragments: one fragment too many closes with 1008', async () => {
    const { client } = await connected({ maxFragments: 3 });
    client.send(clientFrame(OP.TEXT, 'a', { fin: false }));
    client.send(clientFrame(OP.CONT, 'b', { fin: false }));
    client.send(clientFrame(OP.CONT, 'c', { fin: false }));
    client.send(clientFrame(OP.CONT, 'd', { fin: true }));
    expect(await client.closeFrame()).toEqual({ code: 1008, reason: '' });
  });
});

describe('echo under backpressure', () => {
  // A client that writes fast and reads slowly (not at all, at first) gets
  // every message back, in order, byte-exact: nothing accepted is lost.
  it.each([1024, 1024 * 1024])('highWaterMark %i: every message comes back in order, byte-exact', async (hwm) => {
    const server = await listen({ highWaterMark: hwm });
    servers.push(server.wss);
    let refusals = 0;
    server.wss.on('connection', (ws) =>
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        if (!ws.send(data, { binary: isBinary })) refusals++;
      }),
    );
    const client = await RawClient.connect(server.port);
    clients.push(client);
    client.socket.pause();

    // ~24 MiB in 1,000 messages from 0 B to 48 KiB, text and binary.
    const messages = Array.from({ length: 1000 }, (_, i) => {
      const size = i % 10 === 0 ? 0 : Math.floor(Math.random() * 48 * 1024);
      return i % 2 === 0
        ? { opcode: OP.BINARY as number, payload: randomBytes(size) }
        : { opcode: OP.TEXT as number, payload: Buffer.from('é'.repeat(size >> 1) + `#${i}`) };
    });
    const frames = messages.map((m) => clientFrame(m.opcode, m.payload));

    // Write until the kernel and the server stop taking more (or all is written).
    const stalledAt = await writeUntilStalled(client, frames, 500);
    let written = stalledAt;
    const backlog = client.socket.writableLength;
    // Then read, and write the rest.
    client.socket.resume();
    for (; written < frames.length; written++) {
      if (!client.send(frames[written])) await new Promise((resolve) => client.socket.once('drain', resolve));
    }
    await client.until(() => client.frames.length >= messages.length, 30_000, `${messages.length} echoes`);

    expect(refusals).toBeGreaterThan(0); // the server did hit its high-water mark
    expect(client.frames).toHaveLength(messages.length);
    const wrong = client.frames.flatMap((f: ServerFrame, i) =>
      f.opcode === messages[i].opcode && f.payload.equals(messages[i].payload) ? [] : [i],
    );
    expect(wrong).toEqual([]);
    expect(client.frames.some((f) => f.opcode === OP.CLOSE)).toBe(false);
    console.info(
      `echo under backpressure (highWaterMark ${hwm}): ${stalledAt} of ${frames.length} messages written ` +
        `before the client read (${backlog} B still queued in the client); send() returned false ${refusals} times`,
    );
  });
});

/** Write frames while the socket takes them; stop at the first write not drained within `stallMs`. */
async function writeUntilStalled(client: RawClient, frames: Buffer[], stallMs: number): Promise<number> {
  for (let i = 0; i < frames.length; i++) {
    if (client.send(frames[i])) continue;
    const drained = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        client.socket.off('drain', onDrain);
        resolve(false);
      }, stallMs);
      const onDrain = () => {
        clearTimeout(timer);
        resolve(true);
      };
      client.socket.once('drain', onDrain);
    });
    if (!drained) return i + 1;
  }
  return frames.length;
}

