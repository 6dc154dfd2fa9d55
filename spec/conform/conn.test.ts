/**
 * The conformance suite's own connection (src/conform/client.ts): what it
 * writes by itself must never land inside a frame it is writing in pieces.
 */
import type { ClientHttp2Stream } from 'node:http2';
import { type AddressInfo, type Socket, connect, createServer } from 'node:net';
import { constants, deflateRawSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { Conn, buildRequest, sleep, targetFromUrl } from '../../src/conform/client.js';
import { TAIL } from '../../src/conform/deflate.js';
import { runConformance } from '../../src/conform/index.js';
import { OP, OutgoingFrames, frame } from '../../src/conform/wire.js';
import { WebSocketServer } from '../../src/server/index.js';

const sockets: Array<Socket | ClientHttp2Stream> = [];
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

/** Wait until `received` holds `total` bytes. */
async function bytesIn(received: Buffer[], total: number): Promise<Buffer> {
  while (received.reduce((n, c) => n + c.length, 0) < total) await sleep(5);
  return Buffer.concat(received);
}

const PING = frame({ opcode: OP.PING, payload: Buffer.from('hb'), mask: Buffer.from([1, 2, 3, 4]) });

describe('Conn.send: a frame split over separate writes', () => {
  it('holds the pong for a ping read between two writes of one frame until the frame is complete (server seat)', async () => {
    const { ours, theirs } = await pair();
    const received: Buffer[] = [];
    theirs.on('data', (chunk: Buffer) => received.push(chunk));
    const conn = Conn.accept(ours, 'test', Buffer.alloc(0));
    const data = frame({ opcode: OP.TEXT, payload: Buffer.alloc(300, 0x61), mask: false });
    // The split falls inside the 16-bit length, then inside the payload.
    await conn.send(data.subarray(0, 3));
    ours.emit('data', PING);
    await conn.send(data.subarray(3, 100));
    ours.emit('data', PING);
    expect(conn.serverPings).toBe(2);
    await conn.send(data.subarray(100));
    const pong = frame({ opcode: OP.PONG, payload: Buffer.from('hb'), mask: false });
    expect((await bytesIn(received, data.length + 2 * pong.length)).equals(Buffer.concat([data, pong, pong]))).toBe(true);
  });

  it('past the request head, tracks frames in the client seat, and answers at once between frames', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
    const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const conn = await Conn.connect(targetFromUrl(url));
    const theirs = await accepted;
    server.close();
    sockets.push(conn.socket, theirs);
    const received: Buffer[] = [];
    theirs.on('data', (chunk: Buffer) => received.push(chunk));
    const request = Buffer.from(buildRequest(targetFromUrl(url)).text, 'latin1');
    const unmaskedPing = frame({ opcode: OP.PING, payload: Buffer.from('hb'), mask: false });
    // The request head's blank line is split across writes, and the first frame starts in the same write.
    const data = frame({ opcode: OP.BINARY, payload: Buffer.alloc(70_000, 1) });
    await conn.send(request.subarray(0, -1));
    await conn.send(Buffer.concat([request.subarray(-1), data.subarray(0, 5)]));
    theirs.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`);
    theirs.write(unmaskedPing);
    while (conn.serverPings < 1) await sleep(5);
    await conn.send(data.subarray(5));
    // Between frames, a ping is answered at once.
    theirs.write(unmaskedPing);
    while (conn.serverPings < 2) await sleep(5);
    const all = await bytesIn(received, request.length + data.length + 2 * (2 + 4 + 2));
    expect(all.subarray(0, request.length + data.length).equals(Buffer.concat([request, data]))).toBe(true);
    for (const at of [request.length + data.length, request.length + data.length + 8]) {
      expect([all[at], all[at + 1]]).toEqual([0x80 | OP.PONG, 0x80 | 2]);
    }
  });

  it('OutgoingFrames reads 7-, 16- and 64-bit lengths, masked or not, byte by byte', () => {
    const out = new OutgoingFrames(false);
    for (const [size, mask] of [[0, false], [125, undefined], [126, false], [65_536, undefined]] as const) {
      const bytes = frame({ opcode: OP.BINARY, payload: Buffer.alloc(size), mask });
      const header = bytes.length - size;
      for (let i = 0; i < header + Math.min(size, 2); i++) {
        expect(out.atBoundary).toBe(i === 0);
        out.push(bytes.subarray(i, i + 1));
      }
      if (size > 2) out.push(bytes.subarray(header + 2, -1));
      expect(out.atBoundary).toBe(size === 0);
      if (size > 0) out.push(bytes.subarray(-1));
      expect(out.atBoundary).toBe(true);
    }
    // A header announcing more than will ever come keeps the frame open.
    out.push(frame({ opcode: OP.TEXT, payload: Buffer.alloc(10), declaredLength: 2n ** 63n, lengthForm: 64 }));
    expect(out.atBoundary).toBe(false);
  });
});

describe('Conn: a compressed message that does not inflate', () => {
  it('is a violation event after the messages before it, not a crash', async () => {
    const { ours } = await pair();
    // The server seat: the peer's frames are masked; our inflater reads them as ClientDeflate's "server".
    const conn = Conn.accept(ours, 'test', Buffer.alloc(0), { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 });
    const hello = deflateRawSync('Hello', { finishFlush: constants.Z_SYNC_FLUSH }).subarray(0, -TAIL.length);
    ours.emit(
      'data',
      Buffer.concat([
        frame({ opcode: OP.TEXT, rsv: 4, fin: false, payload: hello.subarray(0, 3) }),
        frame({ opcode: OP.CONT, payload: hello.subarray(3) }),
        frame({ opcode: OP.TEXT, rsv: 4, payload: Buffer.from([0xff, 0xff, 0xff, 0xff]) }),
        frame({ opcode: OP.TEXT, rsv: 4, payload: hello }),
      ]),
    );
    const got = await conn.next(1000);
    expect(got).toMatchObject({ type: 'text', frames: 2, compressed: true, wire: hello.length });
    expect(got.type === 'text' && got.data.toString()).toBe('Hello');
    expect(await conn.next(1000)).toMatchObject({ type: 'violation', reason: expect.stringMatching(/compressed message does not inflate: invalid .*RFC 7692 §7\.2\.2/) });
    // Nothing after it is delivered.
    expect(await conn.next(50)).toMatchObject({ type: 'timeout' });
  });
});

describe('cases that write one frame in pieces, against a server that pings meanwhile', () => {
  it('keep their verdicts: no pong lands inside the frame', async () => {
    // The first heartbeat ping comes 200 ms in, while 6.4.3 and 6.4.4 wait 1 s between writes of one text frame.
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, heartbeat: { interval: 200, timeout: 10_000 } });
    wss.on('connection', (ws) => {
      ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
    });
    await new Promise((resolve) => wss.once('listening', resolve));
    try {
      const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`;
      const run = await runConformance({ url, cases: '6.4.3,6.4.4' });
      expect(run.results.map((r) => `${r.id} ${r.behavior}/${r.behaviorClose}`)).toEqual(['6.4.3 OK/OK', '6.4.4 OK/OK']);
      expect(run.results.every((r) => r.wire[0].entries.some((e) => e.note?.startsWith('server ping')))).toBe(true);
    } finally {
      await new Promise((resolve) => wss.close(resolve));
    }
  }, 30_000);
});
