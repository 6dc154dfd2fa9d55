/**
 * ws's server-side call forms (issue #11 item 5): handleProtocols(Set,
 * request); with no handleProtocols the first offered subprotocol is chosen;
 * a 'headers' event (headers: string[], request) before the 101 is written,
 * whose pushed lines are checked (RFC 9110 §5.1, §5.5): no CR/LF injection.
 */
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { WebSocketServer } from '../../src/server/index.js';
import { httpGet, listen } from './support.js';

const servers: WebSocketServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((wss) => wss.close()));
});

async function start(options: Parameters<typeof listen>[0] = {}) {
  const server = await listen(options);
  servers.push(server.wss);
  const errors: Error[] = [];
  server.wss.on('handshakeError', (error: Error) => errors.push(error));
  return { ...server, errors };
}

/** A ws client offering `protocols`; resolves with the response headers and the agreed subprotocol. */
async function connectWith(url: string, protocols: string[]) {
  const ws = new WebSocket(url, protocols);
  const upgraded = once(ws, 'upgrade') as Promise<[IncomingMessage]>;
  await once(ws, 'open');
  const [response] = await upgraded;
  const protocol = ws.protocol;
  ws.close();
  await once(ws, 'close');
  return { headers: response.headers, protocol };
}

describe('subprotocols', () => {
  it('with no handleProtocols, the first offered subprotocol is chosen (as ws does)', async () => {
    const { wss, url } = await start();
    const serverSide = new Promise<string>((resolve) => wss.once('connection', (ws) => resolve(ws.protocol)));
    const { protocol, headers } = await connectWith(url, ['chat', 'superchat']);
    expect(protocol).toBe('chat');
    expect(headers['sec-websocket-protocol']).toBe('chat');
    expect(await serverSide).toBe('chat');
  });

  it('handleProtocols gets a Set in the client order and the request', async () => {
    const seen: Array<[string[], string | undefined]> = [];
    const { url } = await start({
      handleProtocols: (protocols, request) => {
        seen.push([[...protocols], request.url]);
        return protocols.has('b') ? 'b' : false;
      },
    });
    expect((await connectWith(`${url}?room=1`, ['a', 'b'])).protocol).toBe('b');
    expect(seen).toEqual([[['a', 'b'], '/?room=1']]);
  });
});

describe("the 'headers' event", () => {
  it('lets a listener put Set-Cookie (twice) on the 101, after the handshake lines', async () => {
    const { wss, url } = await start();
    const given: string[][] = [];
    wss.on('headers', (headers: string[], request: IncomingMessage) => {
      given.push([...headers]);
      expect(request.url).toBe('/');
      headers.push('Set-Cookie: a=b; HttpOnly', 'Set-Cookie: c=d', 'X-Route:   node-7  ');
    });
    const ws = new WebSocket(url);
    const upgraded = once(ws, 'upgrade') as Promise<[IncomingMessage]>;
    await once(ws, 'open');
    const [response] = await upgraded;
    ws.close();
    expect(response.headers['set-cookie']).toEqual(['a=b; HttpOnly', 'c=d']);
    expect(response.headers['x-route']).toBe('node-7');
    expect(given[0][0]).toBe('HTTP/1.1 101 Switching Protocols');
    expect(given[0]).toContain('Upgrade: websocket');
    expect(given[0].some((line) => line.startsWith('Sec-WebSocket-Accept: '))).toBe(true);
  });

  it.each([
    ['a CR/LF injection', 'X-A: v\r\nSet-Cookie: evil=1'],
    ['a bare LF', 'X-A: v\nX-B: w'],
    ['a NUL in the value', 'X-A: v\0'],
    ['a field name that is not a token', 'Bad Name: v'],
    ['no colon', 'Set-Cookie'],
    ['a field the handshake sets', 'Sec-WebSocket-Accept: forged'],
    ['not a string', 42],
  ])('refuses %s with 500 and a handshakeError', async (_name, line) => {
    const { wss, url, errors } = await start();
    const connections: unknown[] = [];
    wss.on('connection', (ws) => connections.push(ws));
    wss.on('headers', (headers: unknown[]) => headers.push(line));
    const response = await httpGet(url.replace('ws:', 'http:'));
    expect(response.status).toBe(500);
    expect(response.headers['set-cookie']).toBeUndefined();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(TypeError);
    expect((errors[0] as Error & { code?: string }).code).toBe('INVALID_HEADER');
    expect(connections).toEqual([]);
  });

  it("refuses a change to the handshake's own lines", async () => {
    const { wss, url, errors } = await start();
    wss.on('headers', (headers: string[]) => {
      headers[1] = 'Upgrade: h2c';
    });
    expect((await httpGet(url.replace('ws:', 'http:'))).status).toBe(500);
    expect(errors.map((e) => e.message)).toEqual(["a 'headers' listener changed the handshake's own lines"]);
    expect(errors.map((e) => (e as Error & { code?: string }).code)).toEqual(['INVALID_HEADER']);
  });
});
