/**
 * Nothing accepted is lost (issue #10 defect 4): the automatic reply to the
 * peer's Close, close() and a half-close all queue behind the data already
 * accepted for sending, compressed on the threadpool or not (RFC 6455
 * §5.5.1 lets us finish the current message before our Close).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocket as ServerSocket } from '../../src/server/index.js';
import { ASYNC_DEFLATE_BYTES, ASYNC_STREAM_DEFLATE_BYTES } from '../../src/server/deflate-pool.js';
import { clientDeflate, clientInflate } from '../support/deflate.js';
import { frame } from '../support/frames.js';
import { OP, type RawClient, clientClose, clientFrame, connections, delay, waitFor } from './support.js';

const pool = connections({ closeTimeout: 2_000 });
afterEach(() => pool.cleanup());
const connected = pool.connected;

/** Echo like `strictws echo`, on a connection already accepted. */
function echo(ws: ServerSocket): void {
  ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
}


const NO_TAKEOVER = { 'Sec-WebSocket-Extensions': 'permessage-deflate; server_no_context_takeover; client_no_context_takeover' };


/** A text message of `n` bytes that compresses but not to nothing. */
function bigText(n: number): string {
  let s = '';
  for (let i = 0; s.length < n; i++) s += `line ${i} of the message; `;
  return s.slice(0, n);
}

/** The data frames and the close frame the client got, in order, inflated. */
function received(client: RawClient): string[] {
  return client.frames.map((f) => {
    if (f.opcode === OP.CLOSE) return 'close';
    const data = f.rsv & 0x40 ? clientInflate(f.payload) : f.payload;
    return `${f.opcode === OP.TEXT ? 'text' : 'binary'}:${data.length}`;
  });
}

describe('threadpool compression, then the peer\'s Close in the same write', () => {
  it('the echo of a message of 140 KB (compressed off the loop) arrives before the Close reply', async () => {
    const n = 140_000;
    // Off the loop whether the codec keeps zlib streams or not.
    expect(n).toBeGreaterThanOrEqual(Math.max(ASYNC_DEFLATE_BYTES, ASYNC_STREAM_DEFLATE_BYTES));
    const { ws, client } = await connected({ perMessageDeflate: true }, { headers: NO_TAKEOVER });
    echo(ws);
    const message = bigText(n);
    client.send(Buffer.concat([frame({ opcode: OP.TEXT, rsv: 0x40, payload: clientDeflate(message), mask: Buffer.from([9, 8, 7, 6]) }), clientClose(1000, 'bye')]));
    await client.until(() => client.frames.some((f) => f.opcode === OP.CLOSE), 10_000, 'the close reply');
    expect(received(client)).toEqual([`text:${n}`, 'close']);
    expect(clientInflate(client.frames[0].payload).toString()).toBe(message);
    expect(await client.closeFrame()).toEqual({ code: 1000, reason: 'bye' });
  });

  it('close() right after sends that wait behind a compression: every message, then the Close', async () => {
    const { ws, client } = await connected({ perMessageDeflate: true }, { headers: NO_TAKEOVER });
    const big = bigText(200_000);
    ws.send(big);
    ws.send('small, held behind it');
    ws.send(big);
    ws.ping('held ping');
    ws.close(1001, 'going away');
    expect(ws.readyState).toBe(2);
    expect(ws.send('refused')).toBe(false);
    await client.until(() => client.frames.some((f) => f.opcode === OP.CLOSE), 10_000, 'the close frame');
    // The ping does not wait behind the compression (control frames may go anywhere, RFC 6455 §5.4).
    expect(client.frames.map((f) => f.opcode)).toEqual([OP.PING, OP.TEXT, OP.TEXT, OP.TEXT, OP.CLOSE]);
    expect(received(client).slice(1, 4)).toEqual(['text:200000', 'text:21', 'text:200000']);
  });
});

describe('half-close: the peer\'s FIN', () => {
  it('the echo of a message compressed off the loop still goes out, then our FIN', async () => {
    const n = 140_000;
    const { ws, client } = await connected({ perMessageDeflate: true }, { headers: NO_TAKEOVER, allowHalfOpen: true });
    echo(ws);
    client.socket.end(frame({ opcode: OP.TEXT, rsv: 0x40, payload: clientDeflate(bigText(n)), mask: Buffer.from([1, 2, 3, 4]) }));
    const ended = new Promise<void>((resolve) => client.socket.once('end', resolve));
    await ended;
    expect(received(client)).toEqual([`text:${n}`]);
  });

  it('without compression, data queued for a paused reader goes out before our FIN', async () => {
    const { ws, client } = await connected({ highWaterMark: 16 * 1024 }, { allowHalfOpen: true });
    client.socket.pause();
    const chunk = Buffer.alloc(512 * 1024, 7);
    for (let i = 0; i < 8; i++) ws.send(chunk);
    client.socket.end();
    await waitFor(() => ws.readyState !== 1, 10_000, 'the FIN to arrive');
    client.socket.resume();
    await new Promise<void>((resolve) => client.socket.once('end', resolve));
    expect(received(client)).toEqual(Array(8).fill(`binary:${chunk.length}`));
  });
});

describe('a paused reader', () => {
  it("data queued past highWaterMark, then the peer's Close: all the data, then the Close reply", async () => {
    const { ws, client } = await connected({ perMessageDeflate: true, highWaterMark: 16 * 1024 }, { headers: NO_TAKEOVER });
    client.socket.pause();
    const big = bigText(160_000);
    for (let i = 0; i < 6; i++) {
      ws.send(big);
      ws.send(Buffer.alloc(200_000, i), { compress: false });
    }
    client.send(clientClose(1000));
    await delay(200);
    client.socket.resume();
    await client.until(() => client.frames.some((f) => f.opcode === OP.CLOSE), 20_000, 'the close reply');
    const expected = Array.from({ length: 6 }, () => ['text:160000', 'binary:200000']).flat();
    expect(received(client)).toEqual([...expected, 'close']);
  });

  it('a message the peer sent along with its Close is echoed before the reply, without compression too', async () => {
    const { ws, client } = await connected({});
    echo(ws);
    client.send(Buffer.concat([clientFrame(OP.BINARY, Buffer.alloc(100_000, 1)), clientClose(1000)]));
    await client.until(() => client.frames.some((f) => f.opcode === OP.CLOSE), 10_000, 'the close reply');
    expect(received(client)).toEqual(['binary:100000', 'close']);
  });
});
