/**
 * Interop with undici's WebSocket, the WHATWG WebSocket Node's global one is
 * built from. Like a browser's, it answers pings by itself but exposes
 * neither pings nor pongs: the server observes its pongs instead.
 */
import { WebSocket } from 'undici';
import { type CloseSeen, type InteropClient, type Message, type Session, binary, describeInterop, text } from './cases.js';

function open(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  return new Promise((resolve, reject) => {
    ws.addEventListener('open', () => resolve(ws), { once: true });
    ws.addEventListener('error', () => reject(new Error(`could not connect to ${url}`)), { once: true });
  });
}

function send(ws: WebSocket, message: Message): void {
  ws.send(message.type === 'text' ? message.text : message.data);
}

function toMessage(data: unknown): Message {
  return typeof data === 'string' ? text(data) : binary(Buffer.from(data as ArrayBuffer));
}

function closed(ws: WebSocket): Promise<CloseSeen> {
  return new Promise((resolve) => {
    ws.addEventListener('close', (event) => resolve({ code: event.code, reason: event.reason }), { once: true });
  });
}

const client: InteropClient = {
  async exchange(url, messages, expected) {
    const ws = await open(url);
    const received: Message[] = [];
    const done = new Promise<void>((resolve, reject) => {
      ws.addEventListener('message', (event) => {
        received.push(toMessage(event.data));
        if (received.length === expected) resolve();
      });
      ws.addEventListener('close', (event) => reject(new Error(`closed with ${event.code} after ${received.length} messages`)));
    });
    for (const message of messages) send(ws, message);
    if (expected > 0) await done;
    const close = closed(ws);
    ws.close(1000);
    await close;
    return received;
  },

  async closeWith(url, code, reason) {
    const ws = await open(url);
    const close = closed(ws);
    ws.close(code, reason);
    return close;
  },

  async untilClosed(url, messages) {
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    const session: Session = { received: [], close: { code: 0, reason: '' } };
    ws.addEventListener('message', (event) => session.received.push(toMessage(event.data)));
    const close = closed(ws);
    await new Promise((resolve) => ws.addEventListener('open', resolve, { once: true }));
    for (const message of messages) send(ws, message);
    session.close = await close;
    return session;
  },

  async extensions(url) {
    const ws = await open(url);
    const extensions = ws.extensions;
    const close = closed(ws);
    ws.close(1000);
    await close;
    return extensions;
  },

  async dispose() {},
};

describeInterop({
  name: 'undici WebSocket',
  reportsPings: false,
  canPing: false,
  create: async () => client,
});
