/**
 * The conformance suite's own connection (src/conform/client.ts): what it
 * writes by itself must never land inside a frame it is writing in pieces.
 */
import { type AddressInfo, type Socket, connect, createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Conn } from '../../src/conform/client.js';
import { OP, frame } from '../../src/conform/wire.js';

const sockets: Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
});

/** A connected pair: `ours` (for Conn.accept) and `theirs` (raw bytes). */
async function pair(): Promise<{ ours: Socket; theirs: Socket }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const theirs = connect((server.address() as AddressInfo).port, '127.0.0.1');
  const ours = await accepted;
  server.close();
  sockets.push(ours, theirs);
  return { ours, theirs };
}

describe('Conn.sendChopped', () => {
  it('answers a ping that arrives mid-frame only once the whole frame is written (RFC 6455 §5.4)', async () => {
    const { ours, theirs } = await pair();
    const received: Buffer[] = [];
    theirs.on('data', (chunk: Buffer) => received.push(chunk));
    // We are the server seat: our frames are unmasked, the peer's ping is masked.
    const conn = Conn.accept(ours, 'test', Buffer.alloc(0));
    const data = frame({ opcode: OP.BINARY, payload: Buffer.alloc(4096, 0xfe), mask: false });
    const sending = conn.sendChopped(data, 1000);
    // The peer's ping is read after the first piece went out and before the rest.
    ours.emit('data', frame({ opcode: OP.PING, payload: Buffer.from('hb'), mask: Buffer.from([1, 2, 3, 4]) }));
    expect(conn.serverPings).toBe(1);
    await sending;
    const pong = frame({ opcode: OP.PONG, payload: Buffer.from('hb'), mask: false });
    const total = data.length + pong.length;
    while (received.reduce((n, c) => n + c.length, 0) < total) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(Buffer.concat(received).equals(Buffer.concat([data, pong]))).toBe(true);
  });
});
