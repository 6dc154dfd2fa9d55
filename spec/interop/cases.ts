/**
 * The interop cases of issue #3, shared by every client. Each client file
 * supplies an adapter (InteropClient) that drives one real client library;
 * `describeInterop` runs the same table against it:
 *
 * - a real `strictws echo` (the CLI, as users run it) for the round trips and
 *   the client-initiated close, and a second one with `--max-payload 1k` for 1009;
 * - a third with `--deflate`: every client offers permessage-deflate by default,
 *   so there the client must report it negotiated, and the round trips run
 *   again, compressed, with large compressible messages added;
 * - an in-process WebSocketServer attached to an http.Server ("routes") for
 *   what the echo server does not do on demand: a server-initiated
 *   close(4000, reason) and a server ping whose pong the server observes.
 *   The http.Server also serves the blank page the browser runs in.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from '../../src/server/index.js';
import { type RunningServer, startCli } from '../support/cli.js';
import { type Peer, skipWithout } from '../support/peers.js';

export type Message = { type: 'text'; text: string } | { type: 'binary'; data: Buffer };

export interface CloseSeen {
  code: number;
  reason: string;
}

export interface Session {
  /** Messages received before the server closed. */
  received: Message[];
  /** The close code and reason the client reports. */
  close: CloseSeen;
  /** Payloads of the pings the client saw, where the client exposes them. */
  pings?: Buffer[];
}

/** One real client library, driven by a test. Each call opens its own connection. */
export interface InteropClient {
  /** Connect, send `messages` in order, wait for `expect` messages, close with 1000. */
  exchange(url: string, messages: readonly Message[], expect: number): Promise<Message[]>;
  /** Connect, close with `code` and `reason`; resolves with what the client's close event reports. */
  closeWith(url: string, code: number, reason: string): Promise<CloseSeen>;
  /** Connect, send `messages`, then read until the server closes. */
  untilClosed(url: string, messages: readonly Message[]): Promise<Session>;
  /** Where the client exposes it: send a ping with `payload`; resolves with the pong's payload. */
  ping?(url: string, payload: Buffer): Promise<Buffer>;
  /** Connect, close with 1000; resolves with the extensions the client reports as negotiated ('' for none). */
  extensions(url: string): Promise<string>;
  /** Where implemented: connect offering `protocols`, close with 1000; resolves with the subprotocol the client reports. */
  subprotocol?(url: string, protocols: string[]): Promise<string>;
  dispose(): Promise<void>;
}

export interface ClientSpec {
  name: string;
  /** A real peer the client needs (a browser, an interpreter), if any. */
  peer?: Peer;
  /** Whether `untilClosed` reports the pings the client received. */
  reportsPings: boolean;
  /** Whether the client can send a ping and observe the pong (then `ping` is implemented). */
  canPing: boolean;
  /** Whether `subprotocol` is implemented: the client offers subprotocols (issue #11). */
  offersSubprotocols?: boolean;
  create(context: { pageUrl: string }): Promise<InteropClient>;
}

// ---------------------------------------------------------------------------
// The cases
// ---------------------------------------------------------------------------

export const text = (text: string): Message => ({ type: 'text', text });
export const binary = (data: Buffer): Message => ({ type: 'binary', data });

/** A string of `count` characters cycling through 1-, 2-, 3- and 4-byte UTF-8. */
function mixedText(count: number): string {
  const chars = ['a', 'é', '€', '😀', 'Z', 'ß', '中', '𝄞'];
  let out = '';
  for (let i = 0; i < count; i++) out += chars[i % chars.length];
  return out;
}

const burst: Message[] = Array.from({ length: 1000 }, (_, i) => {
  if (i % 3 !== 2) return text(`message ${i} ✓`);
  const data = Buffer.alloc(4);
  data.writeUInt32BE(i);
  return binary(data);
});

export const ECHO_CASES: ReadonlyArray<{ name: string; messages: Message[] }> = [
  { name: 'text with 1-byte UTF-8 (ASCII)', messages: [text('Hello, strictws! ~\u007f')] },
  { name: 'text with 2-byte UTF-8', messages: [text('\u0080 é ß Ω Ж \u07ff')] },
  { name: 'text with 3-byte UTF-8', messages: [text('\u0800 € 中文 ✓ \ufffd \uffff')] },
  { name: 'text with 4-byte UTF-8', messages: [text('\u{10000} 𝄞 😀 🚀 \u{10ffff}')] },
  { name: 'text over 64 KiB mixing 1- to 4-byte UTF-8 (split across reads)', messages: [text(mixedText(40_000))] },
  { name: 'empty text', messages: [text('')] },
  { name: 'empty binary (0 B)', messages: [binary(Buffer.alloc(0))] },
  // 125, 126, 65535 and 65536 straddle the 7-, 16- and 64-bit length encodings (RFC 6455 §5.2).
  ...[125, 126, 65_535, 65_536, 1024 * 1024].map((size) => ({
    name: `binary of ${size === 1024 * 1024 ? '1 MiB' : `${size} B`} (random)`,
    messages: [binary(randomBytes(size))],
  })),
  { name: '1,000 small messages in a burst come back in order', messages: burst },
];

/** Messages that compress well, for the echo server with --deflate (RFC 7692). */
export const DEFLATE_CASES: ReadonlyArray<{ name: string; messages: Message[] }> = [
  { name: '1 MiB of repetitive text', messages: [text('strictws speaks permessage-deflate, RFC 7692. '.repeat(22_310).slice(0, 1024 * 1024))] },
  {
    name: '1 MiB of compressible binary',
    messages: [binary(Buffer.from(Array.from({ length: 1024 * 1024 }, (_, i) => (i % 251) ^ ((i >> 12) & 0x0f))))],
  },
  {
    name: '200 similar JSON messages of about 2 KiB (the LZ77 window carries over)',
    messages: Array.from({ length: 200 }, (_, i) =>
      text(JSON.stringify({ seq: i, items: Array.from({ length: 40 }, (_, k) => ({ id: k, name: `item ${k}`, price: (k * 37 + i) % 100 })) })),
    ),
  },
];

/** The reason the client closes with; multi-byte on purpose (RFC 6455 §5.5.1: UTF-8). */
export const CLIENT_CLOSE_REASON = 'client done — ünïcödé ✓';
export const SERVER_CLOSE_REASON = 'server done — ✓';
export const PING_PAYLOAD = Buffer.from('are you there? ✓');
export const PONG_SEEN = `pong seen: ${PING_PAYLOAD.toString('utf8')}`;
/** The second echo server's --max-payload. */
const SMALL_MAX_PAYLOAD = 1024;

// ---------------------------------------------------------------------------
// Assertions
// ---------------------------------------------------------------------------

function bytesOf(message: Message): Buffer {
  return message.type === 'text' ? Buffer.from(message.text, 'utf8') : message.data;
}

function describeMessage(message: Message | undefined): string {
  if (!message) return 'nothing';
  const bytes = bytesOf(message);
  return `${message.type} of ${bytes.length} B`;
}

/** Byte-exact, in order, same types; a short report instead of a megabyte diff. */
export function expectSameMessages(received: readonly Message[], sent: readonly Message[]): void {
  const problems: string[] = [];
  if (received.length !== sent.length) problems.push(`received ${received.length} messages, sent ${sent.length}`);
  for (let i = 0; i < Math.min(received.length, sent.length) && problems.length < 5; i++) {
    const got = received[i];
    const want = sent[i];
    const a = bytesOf(got);
    const b = bytesOf(want);
    if (got.type !== want.type || !a.equals(b)) {
      let at = 0;
      while (at < a.length && at < b.length && a[at] === b[at]) at++;
      problems.push(`#${i}: got ${describeMessage(got)}, sent ${describeMessage(want)}, first difference at byte ${at}`);
    }
  }
  expect(problems).toEqual([]);
}

// ---------------------------------------------------------------------------
// The in-process server for server-initiated close and ping
// ---------------------------------------------------------------------------

export interface Routes {
  /** http://127.0.0.1:port/ : a blank page. */
  pageUrl: string;
  /** ws://127.0.0.1:port<path> */
  url(path: '/close' | '/ping'): string;
  /** Pong payloads the server received on /ping. */
  pongs: Buffer[];
  stop(): Promise<void>;
}

export async function startRoutes(): Promise<Routes> {
  const http: Server = createServer((_request, response) => {
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    response.end('<!doctype html><meta charset="utf-8"><title>strictws interop</title>');
  });
  const wss = new WebSocketServer({ server: http });
  const pongs: Buffer[] = [];
  wss.on('connection', (ws, request) => {
    if (request.url === '/close') {
      ws.close(4000, SERVER_CLOSE_REASON);
    } else if (request.url === '/ping') {
      ws.on('pong', (data: Buffer) => {
        pongs.push(Buffer.from(data));
        if (data.equals(PING_PAYLOAD)) {
          ws.send(PONG_SEEN);
          ws.close(1000);
        }
      });
      ws.ping(PING_PAYLOAD);
    } else {
      ws.close(1008, 'unknown route');
    }
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const { port } = http.address() as AddressInfo;
  return {
    pageUrl: `http://127.0.0.1:${port}/`,
    url: (path) => `ws://127.0.0.1:${port}${path}`,
    pongs,
    async stop() {
      await wss.close();
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}

// ---------------------------------------------------------------------------
// The suite
// ---------------------------------------------------------------------------

/** Register the whole interop table for one client. */
export function describeInterop(spec: ClientSpec): void {
  const skip = spec.peer ? skipWithout(spec.peer) : false;
  describe.skipIf(skip)(`interop: ${spec.name} ↔ strictws echo`, () => {
    let echo: RunningServer;
    let small: RunningServer;
    let deflate: RunningServer;
    let routes: Routes;
    let client: InteropClient;

    beforeAll(async () => {
      [echo, small, deflate, routes] = await Promise.all([
        startCli('echo'),
        startCli('echo', ['--max-payload', '1k']),
        startCli('echo', ['--deflate']),
        startRoutes(),
      ]);
      client = await spec.create({ pageUrl: routes.pageUrl });
    });

    afterAll(async () => {
      await client?.dispose();
      await routes?.stop();
      // SIGTERM: the CLI shuts down gracefully and exits 0.
      const codes = await Promise.all([echo?.stop(), small?.stop(), deflate?.stop()]);
      expect(codes).toEqual([0, 0, 0]);
    });

    if (spec.offersSubprotocols) {
      it('a client that offers subprotocols connects: the server picks the first offered (no handleProtocols)', async () => {
        expect(await client.subprotocol!(echo.url, ['chat', 'superchat'])).toBe('chat');
      });
    }

    it('without --deflate, the client\'s permessage-deflate offer is declined', async () => {
      expect(await client.extensions(echo.url)).toBe('');
    });

    describe('strictws echo --deflate (the client\'s own default offer)', () => {
      it('negotiates permessage-deflate, and the client reports it', async () => {
        expect(await client.extensions(deflate.url)).toMatch(/^permessage-deflate\b/);
      });

      for (const { name, messages } of [...DEFLATE_CASES, ...ECHO_CASES]) {
        it(`echoes ${name}, byte-exact`, async () => {
          const received = await client.exchange(deflate.url, messages, messages.length);
          expectSameMessages(received, messages);
        });
      }
    });

    for (const { name, messages } of ECHO_CASES) {
      it(`echoes ${name}, byte-exact`, async () => {
        const received = await client.exchange(echo.url, messages, messages.length);
        expectSameMessages(received, messages);
      });
    }

    it('a close with 4000 and a reason: the echo server answers with the same code and reason', async () => {
      expect(await client.closeWith(echo.url, 4000, CLIENT_CLOSE_REASON)).toEqual({
        code: 4000,
        reason: CLIENT_CLOSE_REASON,
      });
    });

    it('a server-initiated close(4000, reason) is seen by the client', async () => {
      const session = await client.untilClosed(routes.url('/close'), []);
      expect(session.close).toEqual({ code: 4000, reason: SERVER_CLOSE_REASON });
      expect(session.received).toEqual([]);
    });

    it(`a server ping is answered with a pong the server observes${spec.reportsPings ? ', and the client sees the ping' : ''}`, async () => {
      const session = await client.untilClosed(routes.url('/ping'), []);
      expect(session.received).toEqual([text(PONG_SEEN)]);
      expect(session.close.code).toBe(1000);
      expect(routes.pongs.some((pong) => pong.equals(PING_PAYLOAD))).toBe(true);
      if (spec.reportsPings) expect(session.pings).toContainEqual(PING_PAYLOAD);
    });

    // Only where the client can send a ping and see the pong (not browsers' API).
    if (spec.canPing) {
      it('a client ping gets a pong with the same payload', async () => {
        const payload = randomBytes(125); // the most a control frame carries (RFC 6455 §5.5)
        const pong = await client.ping!(echo.url, payload);
        expect(pong.equals(payload)).toBe(true);
      });
    }

    it('a message of exactly maxPayload (1 KiB) is echoed', async () => {
      const messages = [binary(randomBytes(SMALL_MAX_PAYLOAD)), text('x'.repeat(SMALL_MAX_PAYLOAD))];
      expectSameMessages(await client.exchange(small.url, messages, messages.length), messages);
    });

    it('a binary message over maxPayload makes the client see 1009', async () => {
      const session = await client.untilClosed(small.url, [binary(randomBytes(SMALL_MAX_PAYLOAD + 1))]);
      expect(session.close.code).toBe(1009);
      expect(session.received).toEqual([]);
    });

    it('a text message over maxPayload makes the client see 1009', async () => {
      const session = await client.untilClosed(small.url, [text('€'.repeat(1000))]);
      expect(session.close.code).toBe(1009);
    });
  });
}

// ---------------------------------------------------------------------------
// Wire format for out-of-process clients (the browser page, the Python script)
// ---------------------------------------------------------------------------

export type WireMessage = { type: 'text'; text: string } | { type: 'binary'; base64: string };

export function toWire(message: Message): WireMessage {
  return message.type === 'text'
    ? { type: 'text', text: message.text }
    : { type: 'binary', base64: message.data.toString('base64') };
}

export function fromWire(message: WireMessage): Message {
  return message.type === 'text' ? text(message.text) : binary(Buffer.from(message.base64, 'base64'));
}
