// Echo server on the `ws` package, for bench/run.ts.
//
//   node bench/servers/ws-echo.mjs [--port P] [--host H] [--no-bufferutil] [--deflate] [--broadcast]
//
// --broadcast: instead of echoing, relay every message to every other open client with ws's usual
// loop, `wss.clients.forEach((c) => c.send(data))` (no cap on what a client that does not read queues).
// --port defaults to $PORT, then 8080. --no-bufferutil (or WS_NO_BUFFER_UTIL=1 in the environment)
// makes ws use its pure-JS masking; otherwise ws loads `bufferutil`, and this script refuses to start
// unless that is bufferutil's native addon rather than its JS fallback. --deflate enables
// permessage-deflate (ws's server default is off). Prints `listening on ws://HOST:PORT` when ready.
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.PORT ?? '8080' },
    host: { type: 'string', default: '127.0.0.1' },
    'no-bufferutil': { type: 'boolean', default: false },
    deflate: { type: 'boolean', default: false },
    broadcast: { type: 'boolean', default: false },
  },
});

// ws reads this variable once, when lib/buffer-util.js is first loaded, so set it before importing ws.
if (opts['no-bufferutil']) process.env.WS_NO_BUFFER_UTIL = '1';
const { WebSocket, WebSocketServer } = await import('ws');

// ws loads bufferutil with require(), so whatever it loaded is in the CommonJS module cache:
// prebuilds/<platform>/bufferutil.node (or build/Release/bufferutil.node) if native, fallback.js if not.
const loaded = Object.keys(createRequire(import.meta.url).cache).filter((p) => /[\\/]bufferutil[\\/]/.test(p));
const native = loaded.find((p) => p.endsWith('.node'));
const wantNative = !process.env.WS_NO_BUFFER_UTIL;
if (wantNative && !native) {
  console.error(`ws-echo: bufferutil native addon not loaded (loaded: ${loaded.join(', ') || 'nothing'})`);
  process.exit(1);
}
if (!wantNative && loaded.length > 0) {
  console.error(`ws-echo: WS_NO_BUFFER_UTIL is set but bufferutil was loaded: ${loaded.join(', ')}`);
  process.exit(1);
}

const wss = new WebSocketServer({
  host: opts.host,
  port: Number(opts.port),
  maxPayload: 64 * 1024 * 1024,
  perMessageDeflate: opts.deflate,
});

const relay = (from) => (data, isBinary) =>
  wss.clients.forEach((c) => {
    if (c !== from && c.readyState === WebSocket.OPEN) c.send(data, { binary: isBinary });
  });

wss.on('connection', (ws) => {
  ws.on('message', opts.broadcast ? relay(ws) : (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => ws.terminate());
});

wss.on('listening', () => {
  const { port } = /** @type {import('node:net').AddressInfo} */ (wss.address());
  console.error(`ws-echo: masking ${native ? `via bufferutil native (${native})` : 'in pure JS'}`);
  console.log(`listening on ws://${opts.host}:${port}`);
});

process.on('SIGTERM', () => process.exit(0));
