/**
 * Listeners run outside the parser's way (issue #11 item 3): terminate(),
 * close() or an abort inside a 'message', 'ping' or 'pong' listener stop the
 * delivery of the rest of what was read, and readyState is CLOSING at once;
 * the same after a heartbeat abort and the peer's FIN. A listener that
 * throws fails the connection with 1011 and is reported as LISTENER_ERROR.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocket as ServerSocket } from '../../src/server/index.js';
import { OP, clientClose, clientFrame, connections, delay, waitFor } from './support.js';

const pool = connections({ closeTimeout: 1_000 });
afterEach(() => pool.cleanup());
const connected = pool.connected;



/** Three text messages, a ping and a pong, in one write. */
const burst = () =>
  Buffer.concat([
    clientFrame(OP.TEXT, 'one'),
    clientFrame(OP.PING, 'p1'),
    clientFrame(OP.TEXT, 'two'),
    clientFrame(OP.PONG, 'q1'),
    clientFrame(OP.TEXT, 'three'),
  ]);

type Stop = 'terminate' | 'close';

function stopper(ws: ServerSocket, how: Stop, states: number[]) {
  return () => {
    if (how === 'terminate') ws.terminate();
    else ws.close(1000, 'enough');
    states.push(ws.readyState);
  };
}

describe('stopping inside a listener stops the delivery of what was already read', () => {
  it.each<[string, Stop]>([
    ['message', 'terminate'],
    ['message', 'close'],
    ['ping', 'terminate'],
    ['ping', 'close'],
    ['pong', 'terminate'],
    ['pong', 'close'],
  ])("%s listener calls %s(): no further events from the same read, readyState CLOSING at once", async (event, how) => {
    const { ws, client } = await connected();
    const events: string[] = [];
    const states: number[] = [];
    ws.on('message', (data: Buffer) => events.push(`message:${data}`));
    ws.on('ping', (data: Buffer) => events.push(`ping:${data}`));
    ws.on('pong', (data: Buffer) => events.push(`pong:${data}`));
    ws.once(event, stopper(ws, how, states));
    const closed = new Promise((resolve) => ws.once('close', resolve));
    client.send(burst());
    if (how === 'close') {
      await client.closeFrame();
      client.send(clientClose(1000));
    }
    await closed;
    const first = { message: 'message:one', ping: 'ping:p1', pong: 'pong:q1' }[event]!;
    expect(events.at(-1)).toBe(first);
    expect(events).toEqual(['message:one', 'ping:p1', 'message:two', 'pong:q1', 'message:three'].slice(0, events.indexOf(first) + 1));
    expect(states).toEqual([2]);
    expect(ws.readyState).toBe(3);
  });

  it('after close() in a listener, a ping in the same read is still answered (RFC 6455 §5.5.2), not reported', async () => {
    const { ws, client } = await connected();
    const events: string[] = [];
    ws.on('ping', () => events.push('ping'));
    ws.once('message', () => ws.close(1000));
    client.send(Buffer.concat([clientFrame(OP.TEXT, 'one'), clientFrame(OP.PING, 'late'), clientFrame(OP.TEXT, 'two')]));
    await client.until(() => client.frames.length >= 2, 10_000, 'close and pong');
    expect(client.frames.map((f) => [f.opcode, f.payload.toString('latin1').slice(2)])).toEqual([
      [OP.CLOSE, ''],
      [OP.PONG, 'te'],
    ]);
    expect(events).toEqual([]);
  });

  it('the heartbeat abort makes readyState CLOSING before its error is reported', async () => {
    const { ws } = await connected({ heartbeat: { interval: 100, timeout: 100 } });
    const seen = await new Promise<[string | undefined, number]>((resolve) =>
      ws.on('error', (error: Error & { code?: string }) => resolve([error.code, ws.readyState])),
    );
    expect(seen).toEqual(['HEARTBEAT_TIMEOUT', 2]);
  });

  it("after the peer's FIN, readyState leaves OPEN, sends are refused and 'close' reports 1006", async () => {
    const { ws, client } = await connected({}, { allowHalfOpen: true });
    const messages: string[] = [];
    ws.on('message', (data: Buffer) => messages.push(String(data)));
    client.socket.end(clientFrame(OP.TEXT, 'last words'));
    const closed = new Promise<number>((resolve) => ws.once('close', resolve));
    await waitFor(() => ws.readyState !== 1, 10_000, 'readyState to leave OPEN');
    expect(messages).toEqual(['last words']);
    const error = await new Promise<Error | null | undefined>((resolve) => ws.send('late', resolve));
    expect((error as { code?: string }).code).toBe('NOT_OPEN');
    // Our side ends too, with no close frame (the peer can no longer answer one): 1006.
    expect(await closed).toBe(1006);
    expect(client.frames).toEqual([]);
  });
});

describe('a listener that throws', () => {
  it("fails the connection with 1011: LISTENER_ERROR with the exception as cause, nothing more delivered", async () => {
    const { ws, client } = await connected();
    const messages: string[] = [];
    const errors: Array<Error & { code?: string; closeCode?: number; cause?: unknown }> = [];
    ws.on('error', (error: Error) => errors.push(error));
    const boom = new Error('boom');
    ws.on('message', (data: Buffer) => {
      messages.push(String(data));
      throw boom;
    });
    client.send(Buffer.concat([clientFrame(OP.TEXT, 'one'), clientFrame(OP.TEXT, 'two')]));
    expect(await client.closeFrame()).toEqual({ code: 1011, reason: '' });
    expect(messages).toEqual(['one']);
    expect(errors.map((e) => [e.code, e.closeCode, e.cause])).toEqual([['LISTENER_ERROR', 1011, boom]]);
    expect(ws.readyState).toBe(2);
    await client.socketClosed();
    await delay(20);
    expect(ws.readyState).toBe(3);
  });
});
