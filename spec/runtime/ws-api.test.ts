/**
 * `ws` call forms on the server's WebSocket (issue #11 item 5): readyState
 * constants on instances, ping/pong(data?, mask?, cb?), close with a Buffer
 * reason, send options { binary, compress, fin, mask } (fin: false makes
 * real fragmented sends), binaryType, and the on* properties refused with
 * the alternative named. Also: a WebSocket over a plain Duplex (item 6).
 */
import { once } from 'node:events';
import { type AddressInfo, type Socket, connect, createServer } from 'node:net';
import { duplexPair } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from '../../src/server/index.js';
import { DEFAULT_KEY, frame, takeFrames } from '../support/frames.js';
import { OP, clientClose, clientFrame, connections, waitFor } from './support.js';

const pool = connections({ closeTimeout: 1_000 });
afterEach(() => pool.cleanup());
const connected = pool.connected;


const DEFLATE = { 'Sec-WebSocket-Extensions': 'permessage-deflate' };


const written = (cb: (done: (error?: Error | null) => void) => void) =>
  new Promise<Error | null | undefined>((resolve) => cb(resolve));

describe('readyState constants', () => {
  it('are on every instance through the prototype, and static', async () => {
    const { ws } = await connected();
    expect([ws.CONNECTING, ws.OPEN, ws.CLOSING, ws.CLOSED]).toEqual([0, 1, 2, 3]);
    expect([WebSocket.CONNECTING, WebSocket.OPEN, WebSocket.CLOSING, WebSocket.CLOSED]).toEqual([0, 1, 2, 3]);
    expect(Object.hasOwn(ws, 'OPEN')).toBe(false);
    expect(ws.readyState === ws.OPEN).toBe(true);
  });
});

describe('ping and pong', () => {
  it('take (cb), (data, cb) and (data, mask, cb); each callback is called once the frame is written', async () => {
    const { ws, client } = await connected();
    expect(await written((cb) => ws.ping(cb))).toBeFalsy();
    expect(await written((cb) => ws.ping('a', cb))).toBeFalsy();
    expect(await written((cb) => ws.ping(Buffer.from('b'), false, cb))).toBeFalsy();
    expect(await written((cb) => ws.pong('c', undefined, cb))).toBeFalsy();
    ws.pong();
    await client.until(() => client.frames.length === 5);
    expect(client.frames.map((f) => [f.opcode, String(f.payload)])).toEqual([
      [OP.PING, ''],
      [OP.PING, 'a'],
      [OP.PING, 'b'],
      [OP.PONG, 'c'],
      [OP.PONG, ''],
    ]);
  });

  it('a truthy mask throws a TypeError: a server does not mask (RFC 6455 §5.1)', async () => {
    const { ws } = await connected();
    expect(() => ws.ping('x', true)).toThrow(/does not mask.*§5\.1/);
    expect(() => ws.pong('x', true, () => {})).toThrow(TypeError);
    expect(() => ws.send('x', { mask: true })).toThrow(/does not mask/);
    expect(() => ws.ping(Buffer.alloc(126))).toThrow(RangeError);
  });

  it('the callback hears NOT_OPEN once the connection is closed', async () => {
    const { ws, client } = await connected();
    const closed = new Promise((resolve) => ws.once('close', resolve));
    client.send(clientClose(1000));
    await closed;
    const error = await written((cb) => ws.ping(cb));
    expect((error as { code?: string }).code).toBe('NOT_OPEN');
  });
});

describe('close(code, reason)', () => {
  it('takes the reason as a Buffer of UTF-8', async () => {
    const { ws, client } = await connected();
    ws.close(4001, Buffer.from('bye ✓'));
    expect(await client.closeFrame()).toEqual({ code: 4001, reason: 'bye ✓' });
  });

  it('refuses a Buffer reason that is not UTF-8 or over 123 bytes, and a reason of another type', async () => {
    const { ws } = await connected();
    expect(() => ws.close(4001, Buffer.from([0xc3]))).toThrow(RangeError);
    expect(() => ws.close(4001, Buffer.alloc(124, 0x61))).toThrow(RangeError);
    expect(() => ws.close(4001, 42 as unknown as string)).toThrow(TypeError);
    expect(ws.readyState).toBe(1);
  });
});

describe('send options', () => {
  it('fin: false sends real fragments: the first frame with the opcode, then continuations, FIN on the last', async () => {
    const { ws, client } = await connected();
    ws.send('Hel', { fin: false });
    ws.ping('between');
    ws.send('lo, ', { fin: false });
    ws.send('world', { fin: true });
    ws.send(Buffer.from([1, 2]), { binary: true, fin: false });
    ws.send(Buffer.from([3]));
    await client.until(() => client.frames.length === 6);
    expect(client.frames.map((f) => [f.opcode, f.fin, f.payload.toString('latin1')])).toEqual([
      [OP.TEXT, false, 'Hel'],
      [OP.PING, true, 'between'],
      [OP.CONT, false, 'lo, '],
      [OP.CONT, true, 'world'],
      [OP.BINARY, false, '\x01\x02'],
      [OP.CONT, true, '\x03'],
    ]);
  });

  it('a continuation with a different explicit binary, or sendFrame inside a fragmented message, throws', async () => {
    const { ws } = await connected();
    ws.send('text', { fin: false });
    expect(() => ws.send(Buffer.from('x'), { binary: true })).toThrow(/binary/);
    expect(() => ws.sendFrame(Buffer.from([0x81, 0]))).toThrow(/fragmented/);
  });

  it('compress: false skips permessage-deflate for that message; fragmented messages go uncompressed', async () => {
    const { ws, client } = await connected({ perMessageDeflate: { threshold: 0 } }, { headers: DEFLATE });
    const text = 'a'.repeat(4000);
    ws.send(text);
    ws.send(text, { compress: false });
    ws.send(text, { fin: false });
    ws.send(text, { fin: true });
    await client.until(() => client.frames.length === 4);
    expect(client.frames.map((f) => [f.rsv, f.payload.length < 4000])).toEqual([
      [0x40, true],
      [0, false],
      [0, false],
      [0, false],
    ]);
  });

  it('an unknown option key throws a TypeError naming it; known keys pass', async () => {
    const { ws } = await connected();
    expect(() => ws.send('x', { binray: true } as never)).toThrow(/unknown option "binray"/);
    expect(() => ws.send('x', null as never)).toThrow(TypeError);
    expect(ws.send('x', { binary: false, compress: true, fin: true, mask: false })).toBe(true);
  });
});

describe('binaryType', () => {
  it("'nodebuffer' (default), 'arraybuffer' and 'fragments' as in ws; anything else throws", async () => {
    const { ws, client } = await connected();
    const got: unknown[] = [];
    ws.on('message', (data: unknown) => got.push(data));
    expect(ws.binaryType).toBe('nodebuffer');
    client.send(clientFrame(OP.BINARY, Buffer.from([1])));
    await waitFor(() => got.length === 1);
    ws.binaryType = 'arraybuffer';
    client.send(Buffer.concat([clientFrame(OP.BINARY, Buffer.from([2, 3])), clientFrame(OP.TEXT, 'text stays a Buffer')]));
    await waitFor(() => got.length === 3);
    ws.binaryType = 'fragments';
    client.send(clientFrame(OP.BINARY, Buffer.from([4])));
    await waitFor(() => got.length === 4);
    expect(Buffer.isBuffer(got[0])).toBe(true);
    expect(got[1]).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(got[1] as ArrayBuffer)]).toEqual([2, 3]);
    expect(Buffer.isBuffer(got[2])).toBe(true);
    expect(Array.isArray(got[3]) && Buffer.concat(got[3] as Buffer[]).equals(Buffer.from([4]))).toBe(true);
    expect(() => {
      ws.binaryType = 'blob' as never;
    }).toThrow(TypeError);
  });
});

describe('on* properties', () => {
  it.each([
    ['onmessage', "ws.on('message'"],
    ['onclose', "ws.on('close'"],
    ['onerror', "ws.on('error'"],
    ['onopen', "'connection' event"],
  ])('setting %s throws a TypeError naming the alternative', async (name, instead) => {
    const { ws } = await connected();
    expect(() => {
      (ws as unknown as Record<string, unknown>)[name] = () => {};
    }).toThrow(instead);
  });
});

describe('EventEmitter behaviour', () => {
  it('names that Object.prototype has are no listeners; eventNames, removal and re-adding work as on any EventEmitter', async () => {
    const { ws } = await connected();
    for (const name of ['constructor', 'toString', 'hasOwnProperty', '__proto__']) {
      expect(ws.listenerCount(name)).toBe(0);
      expect(ws.emit(name)).toBe(false);
    }
    const seen: string[] = [];
    const a = () => seen.push('a');
    const b = () => seen.push('b');
    ws.on('custom', a);
    ws.on('custom', b);
    ws.once('other', a);
    expect(ws.eventNames()).toEqual(['custom', 'other']);
    expect(ws.emit('other')).toBe(true);
    expect(ws.eventNames()).toEqual(['custom']);
    ws.off('custom', a);
    expect(ws.emit('custom')).toBe(true);
    ws.off('custom', b);
    expect(ws.eventNames()).toEqual([]);
    ws.on('custom', a);
    expect(ws.emit('custom')).toBe(true);
    expect(seen).toEqual(['a', 'b', 'a']);
  });

  it("on a net.Socket ours is the only 'end' listener (Node's does nothing on a half-open socket); a stream's other listeners stay", async () => {
    const options = { highWaterMark: 1024, maxBufferedAmount: 1 << 20, closeTimeout: 1000, messageTimeout: 1000 };
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
    const [socket] = (await once(server, 'connection')) as [Socket];
    const ws = new WebSocket(socket, options);
    expect(socket.listenerCount('end')).toBe(1);
    // The peer's FIN still ends the connection: ours ends, 'close' reports 1006.
    const closed = new Promise<number>((resolve) => ws.once('close', resolve));
    client.on('data', () => {});
    client.end();
    expect(await closed).toBe(1006);
    client.destroy();
    server.close();

    const [stream] = duplexPair();
    const mine = () => {};
    stream.on('end', mine);
    new WebSocket(stream, options);
    expect(stream.listeners('end')).toContain(mine);
    expect(stream.listenerCount('end')).toBe(2);
    stream.destroy();
  });
});

describe('over any Duplex (issue #11 item 6)', () => {
  it('echoes and closes over a stream that is not a net.Socket', async () => {
    const [server, peer] = duplexPair();
    const ws = new WebSocket(server, { highWaterMark: 1024, maxBufferedAmount: 1 << 20, closeTimeout: 1000, messageTimeout: 1000 });
    ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
    const closed = new Promise<number>((resolve) => ws.once('close', resolve));
    let bytes = Buffer.alloc(0);
    peer.on('data', (chunk: Buffer) => (bytes = Buffer.concat([bytes, chunk])));
    server.resume();
    peer.write(frame({ opcode: OP.TEXT, payload: 'over a pair', mask: DEFAULT_KEY }));
    await waitFor(() => takeFrames(bytes).frames.length === 1);
    expect(ws.remoteAddress).toBeUndefined();
    peer.write(frame({ opcode: OP.CLOSE, payload: Buffer.from([0x03, 0xe8]), mask: DEFAULT_KEY }));
    await waitFor(() => takeFrames(bytes).frames.length === 2);
    expect(takeFrames(bytes).frames.map((f) => [f.opcode, f.payload.toString('hex')])).toEqual([
      [OP.TEXT, Buffer.from('over a pair').toString('hex')],
      [OP.CLOSE, '03e8'],
    ]);
    peer.end();
    peer.destroy();
    expect(await closed).toBe(1000);
  });
});
