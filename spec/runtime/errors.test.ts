/**
 * Every error the API throws at its caller carries a stable `code`
 * (UsageFailures) and stays a TypeError or RangeError with its message;
 * nothing goes on the wire for them. And no bare TypeError/RangeError may
 * come back into src/protocol or src/server.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { duplexPair } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import {
  UsageFailures,
  buildAcceptResponse,
  encodeClosePayload,
  h2ResponseHeaders,
  resolveDeflateOptions,
  selectProtocol,
} from '../../src/protocol/index.js';
import { ArgumentRangeError, ArgumentTypeError, OptionError, StateError, WebSocket, WebSocketServer } from '../../src/index.js';
import { openConnection } from '../helpers.js';

const pairs: Array<ReturnType<typeof duplexPair>> = [];
afterEach(() => {
  for (const [a, b] of pairs.splice(0)) (a.destroy(), b.destroy());
});

/** A WebSocket over a duplex pair: nothing listens, nothing is sent. */
function socket(): { ws: WebSocket; sent: () => number } {
  const pair = duplexPair();
  pairs.push(pair);
  let bytes = 0;
  pair[1].on('data', (chunk: Buffer) => (bytes += chunk.length));
  const ws = new WebSocket(pair[0], { highWaterMark: 1024, maxBufferedAmount: 1 << 20, closeTimeout: 1000, messageTimeout: 1000 });
  return { ws, sent: () => bytes };
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('did not throw');
}

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

type Case = [string, () => unknown, typeof TypeError | typeof RangeError, keyof typeof UsageFailures, string];

const cases: Case[] = [
  ['a negative maxPayload', () => new WebSocketServer({ noServer: true, maxPayload: -1 }), RangeError, 'INVALID_OPTION', `maxPayload must be an integer from 0 to ${Number.MAX_SAFE_INTEGER}, got -1`],
  ['a path without "/"', () => new WebSocketServer({ noServer: true, path: 'ws' }), TypeError, 'INVALID_OPTION', 'path must be a string starting with "/", got "ws"'],
  ['no mode', () => new WebSocketServer({}), TypeError, 'INVALID_OPTION', 'exactly one of "port", "server" or "noServer" must be given'],
  ['perMessageDeflate.level 10', () => resolveDeflateOptions({ level: 10 }), RangeError, 'INVALID_OPTION', 'perMessageDeflate.level must be an integer from 0 to 9, got 10'],
  ['an unknown option', () => new WebSocketServer({ noServer: true, bogus: 1 } as never), TypeError, 'UNKNOWN_OPTION', 'WebSocketServer: unknown option "bogus"'],
  ['ALPN in tls', () => new WebSocketServer({ port: 0, tls: { ALPNProtocols: ['h2'] } as never }), TypeError, 'UNKNOWN_OPTION', 'tls.ALPNProtocols: the server chooses ALPN itself (h2 with "http2", and http/1.1)'],
  ['an unknown deflate key to the core', () => resolveDeflateOptions({ windowBits: 9 } as never), TypeError, 'UNKNOWN_OPTION', 'unknown perMessageDeflate option "windowBits"'],
  ['a callback with noServer', () => new WebSocketServer({ noServer: true }, () => {}), TypeError, 'INVALID_ARGUMENT', "the callback is a 'listening' listener: only the standalone server (port) listens"],
  ['handleUpgrade without a callback', () => {
    const wss = new WebSocketServer({ noServer: true });
    const [a] = duplexPair();
    pairs.push([a, a]);
    return wss.handleUpgrade({ headers: {} } as never, a, Buffer.alloc(0), undefined as never);
  }, TypeError, 'INVALID_ARGUMENT', 'handleUpgrade: callback must be a function'],
  ['close with a numeric reason', () => socket().ws.close(1000, 5 as never), TypeError, 'INVALID_ARGUMENT', 'WebSocket.close: the reason must be a string or a Buffer'],
  ['binaryType "blob"', () => (socket().ws.binaryType = 'blob' as never), TypeError, 'INVALID_ARGUMENT', 'WebSocket.binaryType must be "nodebuffer", "arraybuffer" or "fragments", got blob'],
  ['send with mask', () => socket().ws.send('x', { mask: true }), TypeError, 'INVALID_ARGUMENT', 'WebSocket.send: a server does not mask its frames (RFC 6455 §5.1); leave "mask" unset or false'],
  ['close(1004)', () => socket().ws.close(1004), RangeError, 'INVALID_CLOSE', 'close code 1004 may not be sent (RFC 6455 §7.4)'],
  ['a reason without a code', () => encodeClosePayload(undefined, 'bye'), RangeError, 'INVALID_CLOSE', 'a close reason needs a status code'],
  ['a 124-byte reason', () => encodeClosePayload(1000, 'x'.repeat(124)), RangeError, 'INVALID_CLOSE', 'close reason is 124 bytes; at most 123 fit (RFC 6455 §5.5)'],
  ['a 126-byte ping while open', () => socket().ws.ping(Buffer.alloc(126)), RangeError, 'CONTROL_PAYLOAD_TOO_LARGE', 'control frame payload is over 125 bytes'],
  ['a 126-byte pong once closed', () => {
    const { ws } = socket();
    ws.terminate();
    ws.pong(Buffer.alloc(126));
  }, RangeError, 'CONTROL_PAYLOAD_TOO_LARGE', 'control frame payload is over 125 bytes'],
  ['a header name with a space', () => buildAcceptResponse({ key: KEY, headers: [['Set Cookie', 'a=b']] }), TypeError, 'INVALID_HEADER', 'invalid response header "Set Cookie"'],
  ['an HTTP/2 header value with LF', () => h2ResponseHeaders(200, { 'x-a': 'b\nc' }), TypeError, 'INVALID_HEADER', 'invalid response header "x-a"'],
  ['a subprotocol not offered', () => selectProtocol(['chat'], () => 'superchat'), TypeError, 'INVALID_HOOK_RESULT', 'subprotocol "superchat" was not offered by the client'],
  ['onmessage', () => (socket().ws.onmessage = (() => {}) as never), TypeError, 'UNSUPPORTED', `WebSocket.onmessage is not supported; use ws.on('message', (data, isBinary) => ...)`],
];

describe('errors thrown to the caller', () => {
  it.each(cases)('%s: the same class and message, with a code', (_, call, Class, code, message) => {
    const error = thrown(call) as Error & { code: string };
    expect(error).toBeInstanceOf(Class);
    expect(error).toBeInstanceOf(Class === TypeError ? ArgumentTypeError : ArgumentRangeError);
    expect(error.code).toBe(code);
    expect(error.message).toBe(message);
    expect(error).not.toHaveProperty('closeCode');
    expect(error).not.toHaveProperty('status');
  });

  const stateCases: Array<[string, () => unknown, string]> = [
    ['sendFrame inside a fragmented send', () => {
      const { ws } = socket();
      ws.send('a', { fin: false });
      ws.sendFrame(Buffer.from([0x81, 0x00]));
    }, 'WebSocket.sendFrame: a fragmented message is being sent; end it with fin: true first'],
    ['the core: a send after its close', () => {
      const { connection } = openConnection();
      connection.close(1000);
      connection.send(Buffer.from('late'), false);
    }, 'cannot send: connection is CLOSING'],
  ];

  it.each(stateCases)('%s: an Error with code INVALID_STATE', (_, call, message) => {
    const error = thrown(call) as Error & { code: string };
    expect(error).toBeInstanceOf(StateError);
    expect(error.code).toBe('INVALID_STATE');
    expect(error.message).toBe(message);
  });

  it("covers every code of UsageFailures (the server hooks' checks: authenticate.test.ts, ws-forms.test.ts)", () => {
    expect(new Set([...cases.map((c) => c[3]), ...stateCases.map(() => 'INVALID_STATE')])).toEqual(new Set(Object.keys(UsageFailures)));
  });

  it('keeps the names users see: TypeError, RangeError, and OptionError for UNKNOWN_OPTION', () => {
    expect((thrown(() => encodeClosePayload(1004)) as Error).name).toBe('RangeError');
    expect((thrown(() => selectProtocol(['a'], () => 'b')) as Error).name).toBe('TypeError');
    const option = thrown(() => resolveDeflateOptions({ windowBits: 9 } as never));
    expect(option).toBeInstanceOf(OptionError);
    expect((option as Error).name).toBe('OptionError');
  });

  it('throws before anything is written', () => {
    const { ws, sent } = socket();
    for (const call of [() => ws.close(1004), () => ws.ping(Buffer.alloc(126)), () => ws.send('x', { mask: true })]) thrown(call);
    expect(sent()).toBe(0);
    expect(ws.readyState).toBe(WebSocket.OPEN);
  });
});

describe('source guard', () => {
  const BARE = /\bnew (?:Error|TypeError|RangeError)\s*\(/;
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));

  it('src/protocol and src/server throw no Error, TypeError or RangeError without a code', () => {
    const bare = ['src/protocol', 'src/server']
      .flatMap(files)
      .flatMap((file) => readFileSync(file, 'utf8').split('\n').map((line, i) => [`${file}:${i + 1}`, line] as const))
      .filter(([, line]) => BARE.test(line) && !/\bcode: '/.test(line))
      .map(([where]) => where);
    expect(bare).toEqual([]);
  });

  it('the guard finds a bare one', () => {
    expect(BARE.test("throw new TypeError('x')")).toBe(true);
    expect(BARE.test("throw new Error('x')")).toBe(true);
    expect(BARE.test("throw new ArgumentTypeError('INVALID_ARGUMENT', 'x')")).toBe(false);
  });
});
