/**
 * Interop with the `ws` client (the library strictws's API is shaped after).
 * It exposes pings and pongs, so it also checks the ping seen client-side
 * and a client-initiated ping.
 */
import { once } from 'node:events';
import WebSocket from 'ws';
import { type InteropClient, type Message, type Session, binary, describeInterop, text } from './cases.js';

function open(url: string, protocols: string[] = []): Promise<WebSocket> {
  const ws = new WebSocket(url, protocols);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** Connect, read what the handshake agreed, close with 1000. */
async function openAndRead(url: string, protocols: string[], read: (ws: WebSocket) => string): Promise<string> {
  const ws = await open(url, protocols);
  const value = read(ws);
  ws.close(1000);
  await once(ws, 'close');
  return value;
}

function send(ws: WebSocket, message: Message): void {
  if (message.type === 'text') ws.send(message.text);
  else ws.send(message.data, { binary: true });
}

function toMessage(data: WebSocket.RawData, isBinary: boolean): Message {
  const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
  return isBinary ? binary(bytes) : text(bytes.toString('utf8'));
}

const client: InteropClient = {
  async exchange(url, messages, expected) {
    const ws = await open(url);
    const received: Message[] = [];
    const done = new Promise<void>((resolve, reject) => {
      ws.on('message', (data, isBinary) => {
        received.push(toMessage(data, isBinary));
        if (received.length === expected) resolve();
      });
      ws.once('close', (code) => reject(new Error(`closed with ${code} after ${received.length} messages`)));
    });
    for (const message of messages) send(ws, message);
    if (expected > 0) await done;
    ws.close(1000);
    await once(ws, 'close');
    return received;
  },

  async closeWith(url, code, reason) {
    const ws = await open(url);
    ws.close(code, reason);
    const [seenCode, seenReason] = (await once(ws, 'close')) as [number, Buffer];
    return { code: seenCode, reason: seenReason.toString('utf8') };
  },

  async untilClosed(url, messages) {
    const ws = new WebSocket(url);
    const session: Session = { received: [], close: { code: 0, reason: '' }, pings: [] };
    ws.on('ping', (data: Buffer) => session.pings!.push(Buffer.from(data)));
    ws.on('message', (data, isBinary) => session.received.push(toMessage(data, isBinary)));
    await once(ws, 'open');
    for (const message of messages) send(ws, message);
    const [code, reason] = (await once(ws, 'close')) as [number, Buffer];
    session.close = { code, reason: reason.toString('utf8') };
    return session;
  },

  async ping(url, payload) {
    const ws = await open(url);
    const pong = once(ws, 'pong') as Promise<[Buffer]>;
    ws.ping(payload);
    const [data] = await pong;
    ws.close(1000);
    await once(ws, 'close');
    return data;
  },

  extensions: (url) => openAndRead(url, [], (ws) => ws.extensions),

  subprotocol: (url, protocols) => openAndRead(url, protocols, (ws) => ws.protocol),

  async dispose() {},
};

describeInterop({
  name: 'ws client',
  reportsPings: true,
  canPing: true,
  offersSubprotocols: true,
  create: async () => client,
});
