/**
 * permessage-deflate in the runtime (RFC 7692): the `perMessageDeflate`
 * option, the 101 and `ws.extensions`, compressed echo with a real client,
 * broadcast frames, and `strictws echo --deflate` with its flags, against
 * decompression bombs (the server's RSS stays flat).
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { encodeMessage } from '../../src/index.js';
import { RSV1 } from '../../src/protocol/index.js';
import { WebSocketServer, type WebSocket as ServerSocket } from '../../src/server/index.js';
import { OP, frame } from '../helpers.js';
import { BIN, type RunningServer, startCli } from '../support/cli.js';
import { clientDeflate, clientInflate, zeroBomb } from '../support/deflate.js';
import { deflateCodecsWatched, sweepIdleDeflate } from '../../src/server/deflate-pool.js';
import { RawClient, clientFrame, echo, listen } from './support.js';

const MiB = 1024 * 1024;

function extensionsHeader(response: string): string | undefined {
  return /^sec-websocket-extensions: (.*)$/im.exec(response)?.[1]?.trim();
}

/** JSON-like text: compressible, as real messages are. */
function jsonText(bytes: number): string {
  let out = '';
  for (let i = 0; out.length < bytes; i++) out += `${JSON.stringify({ id: i, user: `user${(i * 7919) % 1000}`, status: i % 3 ? 'ok' : 'error' })}\n`;
  return out.slice(0, bytes);
}

/**
 * What the server echoes of each message, as its frames arrive: one raw
 * connection that offers permessage-deflate with server_no_context_takeover,
 * so each compressed message is zlib's output for that message alone.
 */
async function echoedFrames(port: number, messages: readonly string[]): Promise<Array<{ rsv: number; payload: Buffer }>> {
  const client = await RawClient.connect(port, { headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate; server_no_context_takeover' } });
  try {
    expect(extensionsHeader(client.response)).toMatch(/^permessage-deflate; server_no_context_takeover/);
    for (const message of messages) client.send(clientFrame(OP.TEXT, message));
    await client.until(() => client.frames.length >= messages.length, 20_000, 'the echoes');
    return client.frames.map(({ rsv, payload }) => ({ rsv, payload }));
  } finally {
    client.socket.destroy();
  }
}

describe('WebSocketServer perMessageDeflate', () => {
  it('is off by default: an offer is declined (no header, extensions ""), and a malformed header still gets 400', async () => {
    const { wss, port } = await listen();
    const seen: ServerSocket[] = [];
    wss.on('connection', (ws) => seen.push(ws));
    try {
      const client = await RawClient.connect(port, { headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate; client_max_window_bits' } });
      expect(extensionsHeader(client.response)).toBeUndefined();
      await new Promise((resolve) => setImmediate(resolve));
      expect(seen[0].extensions).toBe('');
      client.socket.destroy();
      await expect(RawClient.connect(port, { headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate; x="a b"' } })).rejects.toThrow(/400 Bad Request/);
    } finally {
      await wss.close();
    }
  });

  it('answers an offer with what was agreed, in the 101 and in ws.extensions', async () => {
    const { wss, port } = await listen({ perMessageDeflate: { serverMaxWindowBits: 12 } });
    const seen: ServerSocket[] = [];
    wss.on('connection', (ws) => seen.push(ws));
    try {
      const offer = 'x-unknown, permessage-deflate; server_max_window_bits=8, permessage-deflate; client_no_context_takeover; client_max_window_bits=10';
      const client = await RawClient.connect(port, { headers: { 'Sec-WebSocket-Extensions': offer } });
      const agreed = 'permessage-deflate; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=10';
      expect(extensionsHeader(client.response)).toBe(agreed);
      await new Promise((resolve) => setImmediate(resolve));
      expect(seen[0].extensions).toBe(agreed);
      client.socket.destroy();
      // No acceptable offer: the handshake succeeds without the extension.
      const none = await RawClient.connect(port, { headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate; foo=bar' } });
      expect(extensionsHeader(none.response)).toBeUndefined();
      none.socket.destroy();
    } finally {
      await wss.close();
    }
  });

  it('refuses options it cannot honour when constructed', () => {
    expect(() => new WebSocketServer({ noServer: true, perMessageDeflate: { serverMaxWindowBits: 8 } })).toThrow(RangeError);
    expect(() => new WebSocketServer({ noServer: true, perMessageDeflate: { memLevel: 12 } })).toThrow(RangeError);
    expect(() => new WebSocketServer({ noServer: true, perMessageDeflate: { level: 10 } })).toThrow(RangeError);
  });

  it('perMessageDeflate.level reaches zlib on the wire: 1 by default, 9 smaller, 0 uncompressed; large messages (threadpool) too', async () => {
    // 64 KiB is compressed in the sender's turn, 256 KiB on the threadpool (deflate-pool.ts).
    const messages = [jsonText(64 * 1024), jsonText(256 * 1024)];
    const sizes = new Map<number | undefined, number[]>();
    for (const level of [undefined, 0, 1, 9]) {
      const { wss, port } = await listen({ perMessageDeflate: level === undefined ? true : { level } });
      echo(wss);
      try {
        const frames = await echoedFrames(port, messages);
        for (const [i, { rsv, payload }] of frames.entries()) {
          if (level === 0) {
            expect(rsv, 'level 0: sent uncompressed').toBe(0);
            expect(payload.toString()).toBe(messages[i]);
            continue;
          }
          expect(rsv, `level ${level}`).toBe(RSV1);
          expect(clientInflate(payload).toString()).toBe(messages[i]);
          // Byte for byte what zlib makes at that level (and at 1 when no level is given).
          expect(payload.equals(clientDeflate(messages[i], { level: level ?? 1 })), `level ${level}, message ${i}`).toBe(true);
        }
        sizes.set(level, frames.map((f) => f.payload.length));
      } finally {
        await wss.close();
      }
    }
    for (const i of [0, 1]) {
      expect(sizes.get(9)![i]).toBeLessThan(sizes.get(1)![i]);
      expect(sizes.get(1)![i]).toBeLessThan(messages[i].length / 4);
    }
  });

  it('echoes through the ws client with compression: large compressible messages cross compressed', async () => {
    const { wss, url } = await listen({ perMessageDeflate: true });
    echo(wss);
    try {
      const ws = new WebSocket(url, { perMessageDeflate: true });
      await once(ws, 'open');
      expect(ws.extensions).toBe('permessage-deflate');
      const messages = [jsonText(MiB), 'small', jsonText(64 * 1024), Buffer.from(jsonText(300_000))];
      const received: Buffer[] = [];
      const done = new Promise<void>((resolve) =>
        ws.on('message', (data: Buffer) => {
          received.push(Buffer.from(data));
          if (received.length === messages.length) resolve();
        }),
      );
      for (const m of messages) ws.send(m);
      await done;
      expect(received.map((r) => r.length)).toEqual(messages.map((m) => Buffer.byteLength(m)));
      messages.forEach((m, i) => expect(received[i].equals(Buffer.from(m)), `message ${i}`).toBe(true));
      // About 1.4 MB of messages each way; far fewer bytes crossed.
      const socket = (ws as unknown as { _socket: import('node:net').Socket })._socket;
      expect(socket.bytesRead).toBeLessThan(400_000);
      expect(socket.bytesWritten).toBeLessThan(400_000);
      ws.close();
      await once(ws, 'close');
    } finally {
      await wss.close();
    }
  });

  it('an idle connection\'s zlib streams are closed by the sweep, and the next messages still cross compressed both ways', async () => {
    const { wss, url } = await listen({ perMessageDeflate: true });
    echo(wss);
    try {
      sweepIdleDeflate();
      sweepIdleDeflate();
      expect(deflateCodecsWatched()).toBe(0);
      const ws = new WebSocket(url, { perMessageDeflate: true });
      await once(ws, 'open');
      const roundTrip = async (text: string) => {
        ws.send(text);
        const [data] = (await once(ws, 'message')) as [Buffer];
        expect(data.toString()).toBe(text);
      };
      const first = jsonText(20_000);
      await roundTrip(first);
      expect(deflateCodecsWatched()).toBe(1);
      sweepIdleDeflate(); // a message since the last sweep: kept
      expect(deflateCodecsWatched()).toBe(1);
      sweepIdleDeflate(); // none since: closed
      expect(deflateCodecsWatched()).toBe(0);
      // The ws client kept its context both ways: it refers back into the first message, and inflates what we send.
      await roundTrip(`${first} again`);
      expect(deflateCodecsWatched()).toBe(1);
      const socket = (ws as unknown as { _socket: import('node:net').Socket })._socket;
      expect(socket.bytesRead + socket.bytesWritten).toBeLessThan(20_000);
      ws.close();
      await once(ws, 'close');
    } finally {
      await wss.close();
    }
  });

  it('a broadcast frame (encodeMessage + sendFrame) reaches a compressing client uncompressed, and valid', async () => {
    const { wss, url } = await listen({ perMessageDeflate: true });
    const text = jsonText(5000);
    wss.on('connection', (ws) => ws.sendFrame(encodeMessage(Buffer.from(text), false)));
    try {
      const ws = new WebSocket(url, { perMessageDeflate: true });
      const [data, isBinary] = (await once(ws, 'message')) as [Buffer, boolean];
      expect(ws.extensions).toBe('permessage-deflate');
      expect([data.toString(), isBinary]).toEqual([text, false]);
      ws.close();
      await once(ws, 'close');
    } finally {
      await wss.close();
    }
  });
});

describe('large messages compressed on the threadpool (128 KiB and more; 64 KiB without zlib streams)', () => {
  /** A server whose connection handler is `onConnection`, and a compressing ws client. */
  async function pair(onConnection: (ws: ServerSocket) => void, options: { highWaterMark?: number } = {}) {
    const { wss, url } = await listen({ perMessageDeflate: true, ...options });
    wss.on('connection', onConnection);
    const client = new WebSocket(url, { perMessageDeflate: true });
    const received: Array<{ data: Buffer; isBinary: boolean }> = [];
    client.on('message', (data: Buffer, isBinary: boolean) => received.push({ data: Buffer.from(data), isBinary }));
    const closed = once(client, 'close') as Promise<[number, Buffer]>;
    await once(client, 'open');
    return { wss, client, received, closed };
  }

  it('keep their order with small messages, broadcast frames and close, and the window carries across them', async () => {
    const big = Buffer.from(jsonText(300_000));
    const sent: Array<Buffer | string> = [];
    const results: Array<string> = [];
    let bufferedAfter = 0;
    let stateAfterClose = 0;
    let sendAfterClose: boolean | undefined;
    const { wss, client, received, closed } = await pair((ws) => {
      const done = (label: string) => (error?: Error | null) => results.push(`${label}:${error ? (error as Error & { code?: string }).code : 'ok'}`);
      const messages: Array<[Buffer | string, boolean]> = [
        [big, false],
        [big.subarray(big.length - 2000).toString(), false], // small, compressed at once, after the big one: refers back into it
        ['tiny', false],
        [Buffer.concat([big.subarray(100), Buffer.from('!')]), true], // large again
        [big.subarray(5000, 9000), true],
      ];
      messages.forEach(([data, isBinary], i) => {
        ws.send(data, { binary: isBinary }, done(`m${i}`));
        sent.push(data);
        if (i === 2) ws.sendFrame(encodeMessage(Buffer.from('a broadcast frame'), false), done('frame'));
      });
      bufferedAfter = ws.bufferedAmount;
      ws.close(4000, 'done');
      stateAfterClose = ws.readyState;
      sendAfterClose = ws.send('too late', done('late'));
    });
    try {
      const [code, reason] = await closed;
      expect([code, reason.toString()]).toEqual([4000, 'done']);
      const expected = [sent[0], sent[1], sent[2], 'a broadcast frame', sent[3], sent[4]].map((d) => (typeof d === 'string' ? Buffer.from(d) : d));
      expect(received.map((r) => r.data.length)).toEqual(expected.map((e) => e.length));
      received.forEach((r, i) => expect(r.data.equals(expected[i]), `message ${i}`).toBe(true));
      expect(received.map((r) => r.isBinary)).toEqual([false, false, false, false, true, true]);
      // Held behind the first large message: counted in bufferedAmount.
      expect(bufferedAfter).toBeGreaterThan(big.length);
      expect(stateAfterClose).toBe(WebSocket.CLOSING);
      expect(sendAfterClose).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(results).toEqual(['late:NOT_OPEN', 'm0:ok', 'm1:ok', 'm2:ok', 'frame:ok', 'm3:ok', 'm4:ok']);
    } finally {
      client.terminate();
      await wss.close();
    }
  });

  it('a bad close code or reason throws at once, also behind held messages', async () => {
    let thrown: unknown;
    const { wss, client } = await pair((ws) => {
      ws.send(jsonText(200_000));
      try {
        ws.close(1004);
      } catch (error) {
        thrown = error;
      }
      ws.close(1000);
    });
    try {
      await once(client, 'close');
      expect(thrown).toBeInstanceOf(RangeError);
    } finally {
      await wss.close();
    }
  });

  it('held messages whose connection goes first are dropped, and their callbacks get NOT_OPEN', async () => {
    const errors: string[] = [];
    const { wss, client } = await pair((ws) => {
      const note = (error?: Error | null) => errors.push((error as (Error & { code?: string }) | undefined)?.code ?? 'ok');
      ws.send(jsonText(500_000), note);
      ws.send('after', note);
      ws.terminate();
    });
    try {
      await once(client, 'close');
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(errors).toEqual(['NOT_OPEN', 'NOT_OPEN']);
    } finally {
      await wss.close();
    }
  });

  it('backpressure counts held bytes: send() returns false over highWaterMark, and drain follows', async () => {
    let firstSend: boolean | undefined;
    let drained = false;
    const { wss, client, received } = await pair(
      (ws) => {
        firstSend = ws.send(jsonText(MiB));
        ws.once('drain', () => {
          drained = true;
          ws.send('after drain');
        });
      },
      { highWaterMark: 64 * 1024 },
    );
    try {
      await new Promise<void>((resolve) => {
        const check = () => (received.length === 2 ? resolve() : setTimeout(check, 10));
        check();
      });
      expect(firstSend).toBe(false);
      expect(drained).toBe(true);
      expect(received[1].data.toString()).toBe('after drain');
    } finally {
      client.terminate();
      await wss.close();
    }
  });
});

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]) * 1024;
}

describe('strictws echo --deflate', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startCli('echo', ['--deflate', '--log-level', 'warn']);
  });
  afterAll(async () => {
    expect(await server?.stop()).toBe(0);
  });

  it('decompression bombs: each 1 MiB message that inflates to 1 GiB closes with 1009 at once, and RSS stays flat', async () => {
    const bomb = frame({ opcode: OP.BINARY, rsv: 0x40, payload: zeroBomb(1024) });
    const pid = server.process.pid!;
    const start = rssOf(pid);
    const explode = async () => {
      const client = await RawClient.connect(server.port, { headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate' } });
      client.send(bomb);
      const close = await client.closeFrame();
      await client.socketClosed();
      return { code: close.code };
    };
    // Warm up: the first bombs size the allocator's arenas.
    for (let i = 0; i < 3; i++) expect((await explode()).code).toBe(1009);
    const warm = rssOf(pid);
    for (let i = 0; i < 20; i++) expect((await explode()).code).toBe(1009);
    const end = rssOf(pid);
    // 20 GiB offered after the warm-up: RSS stays flat (each inflate stops at the cap).
    expect(end - warm).toBeLessThan(24 * MiB);
    expect(end - start).toBeLessThan(96 * MiB);
  });

  it('a 1 MiB repetitive text message round-trips compressed both ways', async () => {
    const ws = new WebSocket(server.url, { perMessageDeflate: true });
    await once(ws, 'open');
    const text = 'strictws speaks permessage-deflate. '.repeat(30_000);
    ws.send(text);
    const [data] = (await once(ws, 'message')) as [Buffer];
    expect(data.toString()).toBe(text);
    const socket = (ws as unknown as { _socket: import('node:net').Socket })._socket;
    expect(socket.bytesRead).toBeLessThan(50_000);
    ws.close();
    await once(ws, 'close');
  });
});

describe('strictws echo --deflate flags', () => {
  it('--deflate-window-bits and --deflate-no-context-takeover shape the answer', async () => {
    const server = await startCli('echo', ['--deflate', '--deflate-window-bits', '12', '--deflate-no-context-takeover', '--deflate-mem-level', '4', '--deflate-threshold', '0']);
    try {
      const client = await RawClient.connect(server.port, { headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate; client_max_window_bits' } });
      expect(extensionsHeader(client.response)).toBe(
        'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=12',
      );
      client.socket.destroy();
    } finally {
      await server.stop();
    }
  });

  it('--deflate-level sets zlib\'s level (default 1): the echo is byte for byte zlib\'s output at that level', async () => {
    const message = jsonText(64 * 1024);
    for (const [args, level] of [[[], 1], [['--deflate-level', '9'], 9], [['--deflate-level', '0'], 0]] as const) {
      const server = await startCli('echo', ['--deflate', '--log-level', 'warn', ...args]);
      try {
        const [echoed] = await echoedFrames(server.port, [message]);
        if (level === 0) expect(echoed).toEqual({ rsv: 0, payload: Buffer.from(message) });
        else expect(echoed.payload.equals(clientDeflate(message, { level })), args.join(' ') || 'default').toBe(true);
      } finally {
        await server.stop();
      }
    }
  });

  it('chat and vote take --deflate too', async () => {
    for (const command of ['chat', 'vote']) {
      const server = await startCli(command, ['--deflate']);
      try {
        const client = await RawClient.connect(server.port, { headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate; client_max_window_bits' } });
        expect(extensionsHeader(client.response), command).toBe('permessage-deflate');
        client.socket.destroy();
      } finally {
        await server.stop();
      }
    }
  });

  it('refuses bad values, and --deflate-* without --deflate, with a usage error (exit 2)', () => {
    for (const [args, message] of [
      [['--deflate-threshold', '1k'], '--deflate-threshold needs --deflate'],
      [['--deflate-no-context-takeover'], '--deflate-no-context-takeover needs --deflate'],
      [['--deflate', '--deflate-window-bits', '8'], '--deflate-window-bits must be an integer from 9 to 15'],
      [['--deflate', '--deflate-window-bits', '16'], '--deflate-window-bits must be an integer from 9 to 15'],
      [['--deflate', '--deflate-mem-level', '0'], '--deflate-mem-level must be an integer from 1 to 9'],
      [['--deflate', '--deflate-level', '10'], '--deflate-level must be an integer from 0 to 9'],
      [['--deflate', '--deflate-level=-1'], '--deflate-level must be an integer from 0 to 9'],
      [['--deflate', '--deflate-level', 'fast'], '--deflate-level must be an integer from 0 to 9'],
      [['--deflate-level', '9'], '--deflate-level needs --deflate'],
      [['--deflate', '--deflate-threshold', 'lots'], '--deflate-threshold must be a positive byte count'],
    ] as const) {
      const result = spawnSync(process.execPath, [BIN, 'echo', '--port', '0', ...args], { encoding: 'utf8', timeout: 15_000 });
      expect(result.status, args.join(' ')).toBe(2);
      expect(result.stderr).toContain(message);
    }
    // chat and vote take the same flags.
    for (const command of ['chat', 'vote']) {
      const result = spawnSync(process.execPath, [BIN, command, '--port', '0', '--deflate', '--deflate-window-bits', '8'], { encoding: 'utf8', timeout: 15_000 });
      expect(result.status, command).toBe(2);
      expect(result.stderr).toContain('--deflate-window-bits must be an integer from 9 to 15');
      const badLevel = spawnSync(process.execPath, [BIN, command, '--port', '0', '--deflate', '--deflate-level', '10'], { encoding: 'utf8', timeout: 15_000 });
      expect(badLevel.status, command).toBe(2);
      expect(badLevel.stderr).toContain('--deflate-level must be an integer from 0 to 9');
    }
  });

  it('--help lists them', () => {
    const result = spawnSync(process.execPath, [BIN, '--help'], { encoding: 'utf8' });
    for (const flag of ['--deflate ', '--deflate-threshold', '--deflate-window-bits', '--deflate-mem-level', '--deflate-level', '--deflate-no-context-takeover']) {
      expect(result.stdout).toContain(flag);
    }
  });
});
