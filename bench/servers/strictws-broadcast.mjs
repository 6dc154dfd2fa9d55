// Broadcast server on strictws's public API, for bench/run.ts's fan-out cases: every message is
// framed once (`encodeMessage`) and the same bytes are written to every other open client
// (`sendFrame`), as the chat and vote apps do (src/apps/wire.ts). A client with more than
// --cap bytes queued (default 1 MiB, the apps' SLOW_CLIENT_CAP) is closed with 1008 by `sendFrame`.
// maxConnections is raised to 100,000: the 10,000-subscriber cases need 10,001 connections.
//
//   node bench/servers/strictws-broadcast.mjs [--port P] [--host H] [--cap BYTES]
//
// Needs dist/ (npm run build). Prints `listening on ws://HOST:PORT` when ready.
import { parseArgs } from 'node:util';
import { WebSocket, WebSocketServer, encodeMessage } from '../../dist/index.js';

const { values: opts } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.PORT ?? '8080' },
    host: { type: 'string', default: '127.0.0.1' },
    cap: { type: 'string', default: String(1024 * 1024) },
  },
});

const wss = new WebSocketServer({
  host: opts.host,
  port: Number(opts.port),
  maxBufferedAmount: Number(opts.cap),
  maxConnections: 100_000,
});

function relay(data, isBinary) {
  const frame = encodeMessage(data, isBinary);
  for (const c of wss.clients) if (c !== this && c.readyState === WebSocket.OPEN) c.sendFrame(frame);
}

wss.on('connection', (ws) => {
  ws.on('message', relay); // `this` is the sender: no closure per client
  ws.on('error', () => {}); // a slow client closed with 1008, a reset: nothing to log here
});

wss.on('listening', () => {
  const { port } = wss.address();
  console.log(`listening on ws://${opts.host}:${port}`);
});

process.on('SIGTERM', () => process.exit(0));
