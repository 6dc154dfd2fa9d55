// Plain TCP echo (no WebSocket at all), for wsload's --raw mode: the I/O ceiling for bench/run.ts.
//
//   node bench/servers/raw-echo.mjs [--port P] [--host H]
//
// --port defaults to $PORT, then 8080. Prints `listening on tcp://HOST:PORT` when ready.
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.PORT ?? '8080' },
    host: { type: 'string', default: '127.0.0.1' },
  },
});

const server = createServer({ noDelay: true }, (socket) => {
  socket.on('error', () => socket.destroy());
  socket.pipe(socket);
});

server.listen(Number(opts.port), opts.host, () => {
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  console.log(`listening on tcp://${opts.host}:${port}`);
});

process.on('SIGTERM', () => process.exit(0));
