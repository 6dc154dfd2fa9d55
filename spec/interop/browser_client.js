// The browser side of spec/interop/chromium.test.ts: plain JavaScript run in a
// page served from http://127.0.0.1, using the page's own WebSocket. Binary
// payloads cross the page boundary as base64 (see WireMessage in cases.ts).
// A browser answers pings by itself and shows neither pings nor pongs to script.
'use strict';

(() => {
  function decode(base64) {
    const raw = atob(base64);
    const bytes = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function encode(bytes) {
    let raw = '';
    for (let i = 0; i < bytes.length; i += 0x8000) raw += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return btoa(raw);
  }

  function toWire(data) {
    return typeof data === 'string' ? { type: 'text', text: data } : { type: 'binary', base64: encode(new Uint8Array(data)) };
  }

  function send(ws, message) {
    ws.send(message.type === 'text' ? message.text : decode(message.base64));
  }

  function connect(url, protocols) {
    const ws = new WebSocket(url, protocols || []);
    ws.binaryType = 'arraybuffer';
    return ws;
  }

  function opened(ws) {
    return new Promise((resolve, reject) => {
      ws.addEventListener('open', resolve, { once: true });
      ws.addEventListener('close', (event) => reject(new Error(`closed with ${event.code} before open`)), { once: true });
    });
  }

  function closed(ws) {
    return new Promise((resolve) => {
      ws.addEventListener('close', (event) => resolve({ code: event.code, reason: event.reason }), { once: true });
    });
  }

  // Connect, read what the handshake agreed, close with 1000.
  async function openAndRead(url, protocols, read) {
    const ws = connect(url, protocols);
    await opened(ws);
    const value = read(ws);
    const close = closed(ws);
    ws.close(1000);
    await close;
    return value;
  }

  window.interop = {
    async exchange({ url, messages, expected }) {
      const ws = connect(url);
      await opened(ws);
      const received = [];
      const done = new Promise((resolve, reject) => {
        ws.addEventListener('message', (event) => {
          received.push(toWire(event.data));
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

    async closeWith({ url, code, reason }) {
      const ws = connect(url);
      await opened(ws);
      const close = closed(ws);
      ws.close(code, reason);
      return close;
    },

    extensions: ({ url }) => openAndRead(url, [], (ws) => ws.extensions),

    subprotocol: ({ url, protocols }) => openAndRead(url, protocols, (ws) => ws.protocol),

    async untilClosed({ url, messages }) {
      const ws = connect(url);
      const received = [];
      ws.addEventListener('message', (event) => received.push(toWire(event.data)));
      const close = closed(ws);
      await opened(ws);
      for (const message of messages) send(ws, message);
      return { received, close: await close };
    },
  };
})();
