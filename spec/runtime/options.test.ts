/**
 * No silent options (issue #11 item 1): every options object of
 * `new WebSocketServer(options)` refuses unknown keys with a TypeError that
 * names the key, and for `ws`'s names says what to use instead; values are
 * checked for type and range; `undefined` means the default, never "no limit".
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RequestReader } from '../../src/protocol/index.js';
import { DEFAULTS, OptionError, type ServerOptions, WebSocketServer } from '../../src/server/index.js';
import { listen, upgradeRequest } from './support.js';

const servers: WebSocketServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((wss) => wss.close()));
});

/** Construct with options a type check would refuse, as JavaScript users can. */
function make(options: Record<string, unknown>, callback?: unknown): WebSocketServer {
  const wss = new WebSocketServer(options as ServerOptions, callback as () => void);
  servers.push(wss);
  return wss;
}

function thrown(run: () => unknown): Error & { code?: string } {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('did not throw');
}

describe('unknown option keys', () => {
  it.each([
    ['verifyClient', () => false, /"verifyClient".*authenticate/],
    ['skipUTF8Validation', true, /"skipUTF8Validation".*always validated.*§8\.1/],
    ['autoPong', false, /"autoPong".*always answered.*§5\.5\.2/],
    ['allowSynchronousEvents', false, /"allowSynchronousEvents"/],
    ['WebSocket', class {}, /"WebSocket".*strictws WebSocket/],
    ['maxBufferedChunks', 10, /"maxBufferedChunks".*maxFragments/],
    ['maxPendingAutoPongs', 10, /"maxPendingAutoPongs"/],
    ['maxPayLoad', 10, /unknown option "maxPayLoad"/],
  ])('%s is refused with a TypeError naming it and our equivalent', (key, value, message) => {
    const error = thrown(() => make({ noServer: true, [key]: value }));
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toBeInstanceOf(OptionError);
    expect(error.code).toBe('UNKNOWN_OPTION');
    expect(error.message).toMatch(message);
  });

  it('verifyClient is not silently ignored on a listening server', () => {
    // The report: new WebSocketServer({ port, verifyClient: () => false }) accepted everyone.
    expect(() => make({ port: 0, verifyClient: () => false })).toThrow(/use "authenticate/);
  });

  it.each([
    ['zlibDeflateOptions', { level: 9 }, /"zlibDeflateOptions".*"level" and "memLevel"/],
    ['zlibInflateOptions', {}, /"zlibInflateOptions".*maxPayload/],
    ['concurrencyLimit', 10, /"concurrencyLimit".*threadpool/],
    ['strategy', 1, /perMessageDeflate: unknown option "strategy"/],
  ])('perMessageDeflate.%s is refused, naming our equivalent', (key, value, message) => {
    const error = thrown(() => make({ noServer: true, perMessageDeflate: { [key]: value } }));
    expect(error).toBeInstanceOf(OptionError);
    expect(error.message).toMatch(message);
  });

  it("perMessageDeflate takes ws's names we share (threshold, window bits, no context takeover)", () => {
    expect(() =>
      make({
        noServer: true,
        perMessageDeflate: { threshold: 0, serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 10 },
      }),
    ).not.toThrow();
  });

  it('perMessageDeflate.level takes zlib\'s levels 0-9; anything else is a RangeError naming it and the range', () => {
    for (const level of [0, 1, 9]) expect(() => make({ noServer: true, perMessageDeflate: { level } }), `level ${level}`).not.toThrow();
    for (const level of [-1, 10, 2.5, '6', null]) {
      const error = thrown(() => make({ noServer: true, perMessageDeflate: { level } }));
      expect(error, String(level)).toBeInstanceOf(RangeError);
      expect(error.message).toMatch(/perMessageDeflate\.level must be an integer from 0 to 9/);
    }
  });

  it('heartbeat takes only interval and timeout', () => {
    expect(() => make({ noServer: true, heartbeat: { interval: 1000, timout: 5 } })).toThrow(/heartbeat: unknown option "timout"/);
    expect(() => make({ noServer: true, heartbeat: true })).toThrow(TypeError);
    expect(() => make({ noServer: true, heartbeat: { interval: 1000 } })).not.toThrow();
  });

  it('options the standalone server alone reads are refused in the other modes', () => {
    const http = createServer();
    expect(() => make({ server: http, handleRequest: () => undefined })).toThrow(/handleRequest applies to the standalone server/);
    expect(() => make({ noServer: true, maxHeaderBytes: 1024 })).toThrow(/maxHeaderSize/);
    expect(() => make({ noServer: true, host: '127.0.0.1' })).toThrow(/host applies to the standalone server/);
    expect(() => make({ noServer: true }, () => {})).toThrow(/only the standalone server/);
  });
});

describe('option values', () => {
  it.each([
    ['maxPayload', -1, RangeError],
    ['maxPayload', 1.5, RangeError],
    ['maxPayload', '1024', TypeError],
    ['maxFragments', 0, RangeError],
    ['highWaterMark', Number.NaN, RangeError],
    ['maxBufferedAmount', Infinity, RangeError],
    ['handshakeTimeout', 0, RangeError],
    ['closeTimeout', 2 ** 31, RangeError],
    ['maxConnections', 0, RangeError],
    ['maxConnections', null, TypeError],
    ['authenticate', true, TypeError],
    ['handleProtocols', 'chat', TypeError],
    ['path', 'ws', TypeError],
    ['origins', 'https://a.example', TypeError],
    ['clientTracking', 'no', TypeError],
  ])('%s: %s is refused with a %s naming it', (key, value, type) => {
    const error = thrown(() => make({ noServer: true, [key]: value }));
    expect(error).toBeInstanceOf(type);
    expect(error.message).toContain(key);
  });

  it('an explicit undefined means the default', async () => {
    const wss = make({ noServer: true, maxPayload: undefined, handshakeTimeout: undefined, heartbeat: undefined, perMessageDeflate: { threshold: undefined } });
    expect(wss).toBeInstanceOf(WebSocketServer);
  });
});

describe('{ maxHeaderBytes: undefined } keeps the cap', () => {
  it('RequestReader: an undefined limit is the default, not "no limit"', () => {
    const reader = new RequestReader({ maxHeaderBytes: undefined, maxHeaders: undefined, maxRequestLine: undefined });
    const huge = Buffer.from(`GET / HTTP/1.1\r\nX-Big: ${'a'.repeat(DEFAULTS.maxHeaderBytes)}\r\n`, 'latin1');
    expect(() => reader.push(huge)).toThrow(/request head over 16384 bytes/);
  });

  it('the standalone server answers a head over the default cap with 431', async () => {
    const { wss, port } = await listen({ maxHeaderBytes: undefined });
    servers.push(wss);
    const socket = connect({ port, host: '127.0.0.1' });
    socket.on('error', () => {});
    await once(socket, 'connect');
    let response = '';
    socket.setEncoding('latin1').on('data', (s: string) => (response += s));
    const request = upgradeRequest('/', { 'X-Big': 'a'.repeat(DEFAULTS.maxHeaderBytes) });
    socket.write(request);
    await once(socket, 'close');
    expect(response).toMatch(/^HTTP\/1\.1 431 /);
  });
});
