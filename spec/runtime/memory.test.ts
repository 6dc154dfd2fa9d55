/**
 * Memory bounds of the runtime (issue #10 defects 2 and 3): backpressure per
 * message, so one read holding several compressed messages that each
 * inflate to maxPayload does not queue them all for a peer that does not
 * read; and a deadline for finishing a message once it has started.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer as Server } from '../../src/server/index.js';
import { frame } from '../support/frames.js';
import { zeroBomb } from '../support/deflate.js';
import { OP, clientClose, clientFrame, connections, delay } from './support.js';

const pool = connections({ closeTimeout: 1_000 });
afterEach(() => pool.cleanup());
const connected = pool.connected;



describe('per-message backpressure (issue #10 defect 2)', () => {
  it('one read of compressed messages that each inflate to maxPayload: none is dispatched while the queue is past highWaterMark', async () => {
    const MiB = 1 << 20;
    const highWaterMark = 16 * 1024;
    const { ws, client } = await connected(
      { perMessageDeflate: true, maxPayload: MiB, highWaterMark },
      { headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate; client_no_context_takeover' } },
    );
    expect(ws.extensions).toContain('permessage-deflate');
    // The queue each message found when it was dispatched.
    const queuedAtDispatch: number[] = [];
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      queuedAtDispatch.push(ws.bufferedAmount);
      expect(data.length).toBe(MiB);
      ws.send(data, { binary: isBinary, compress: false });
    });
    client.socket.pause();
    const bomb = zeroBomb(1);
    const count = 8;
    const one = frame({ opcode: OP.BINARY, rsv: 0x40, payload: bomb, mask: Buffer.from([1, 2, 3, 4]) });
    // One TCP write, a few KiB, that inflates to 8 MiB.
    client.send(Buffer.concat(Array<Buffer>(count).fill(one)));
    await delay(500);
    // Each message was taken out of what was read only once the queue was below the mark.
    expect(queuedAtDispatch.length).toBeGreaterThanOrEqual(1);
    expect(queuedAtDispatch.length).toBeLessThan(count);
    expect(Math.max(...queuedAtDispatch)).toBeLessThanOrEqual(highWaterMark);
    // Nothing is lost: once the client reads, every echo arrives.
    client.socket.resume();
    await client.until(() => client.frames.length === count, 20_000, `${count} echoes`);
    expect(client.frames.every((f) => f.opcode === OP.BINARY && f.payload.length === MiB)).toBe(true);
    expect(Math.max(...queuedAtDispatch)).toBeLessThanOrEqual(highWaterMark);
  });
});

describe('messageTimeout: a deadline for finishing a started message (issue #10 defect 3)', () => {
  it('a message started and not finished in time closes the connection with 1008, error MESSAGE_TIMEOUT', async () => {
    const { ws, client } = await connected({ messageTimeout: 300, heartbeat: false });
    const errors: Array<Error & { code?: string; closeCode?: number }> = [];
    ws.on('error', (error: Error) => errors.push(error));
    const closed = new Promise<number>((resolve) => ws.once('close', resolve));
    client.send(clientFrame(OP.TEXT, 'a', { fin: false }));
    // Control frames and more fragments do not extend it.
    await delay(150);
    client.send(Buffer.concat([clientFrame(OP.PING), clientFrame(OP.CONT, 'b', { fin: false })]));
    expect(await client.closeFrame(5_000)).toEqual({ code: 1008, reason: 'message not finished in time' });
    expect(errors.map((e) => [e.code, e.closeCode])).toEqual([['MESSAGE_TIMEOUT', 1008]]);
    expect(ws.readyState).toBe(2);
    // A closing handshake: the peer's answer completes it.
    client.send(clientClose(1008));
    expect(await closed).toBe(1008);
  });

  it('messages finished in time, even over several reads, keep the connection open', async () => {
    const { ws, client } = await connected({ messageTimeout: 2_000, heartbeat: false });
    const messages: string[] = [];
    ws.on('message', (data: Buffer) => messages.push(String(data)));
    for (let i = 0; i < 3; i++) {
      client.send(clientFrame(OP.TEXT, 'x', { fin: false }));
      await delay(100);
      client.send(clientFrame(OP.CONT, String(i)));
      await delay(900);
    }
    expect(messages).toEqual(['x0', 'x1', 'x2']);
    expect(ws.readyState).toBe(1);
    expect(client.frames).toEqual([]);
  });

  it('a value setTimeout cannot honour throws a RangeError', () => {
    for (const messageTimeout of [0, -1, 1.5, 2 ** 31, Number.POSITIVE_INFINITY]) {
      expect(() => new Server({ noServer: true, messageTimeout })).toThrow(RangeError);
    }
    // Not a number at all: the options check says so (a TypeError).
    expect(() => new Server({ noServer: true, messageTimeout: '5' as unknown as number })).toThrow(TypeError);
  });
});
