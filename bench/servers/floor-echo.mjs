// The floor under a WebSocket echo on Node's net.Socket, for bench/handshake-ir.sh (docs/performance.md):
// what a connection costs in Node's own machinery (net.Socket, its streams, libuv, OpenSSL's SHA-1) when
// the server's JavaScript does almost nothing. NOT a WebSocket server: it validates nothing and handles
// only what bench/wsload's storm sends (one upgrade request in one read, small masked frames, a close).
//
//   listenFloor(host) -> Promise<port>
import { createHash } from 'node:crypto';
import { createServer } from 'node:net';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const KEY = 'sec-websocket-key:';

function onData(chunk) {
  if (!this.open) {
    // The whole head is one read in a storm: take the key, answer 101 (RFC 6455 §4.2.2).
    const head = chunk.toString('latin1');
    const at = head.toLowerCase().indexOf(KEY) + KEY.length;
    const key = head.slice(at, head.indexOf('\r\n', at)).trim();
    const accept = createHash('sha1').update(key + GUID).digest('base64');
    this.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    this.open = true;
    return;
  }
  // Small masked frames (RFC 6455 §5.2), each whole in one read: unmask, echo unmasked; a close ends it.
  for (let at = 0; at + 6 <= chunk.length; ) {
    const opcode = chunk[at] & 0x0f;
    const length = chunk[at + 1] & 0x7f;
    const payload = Buffer.allocUnsafe(length);
    for (let i = 0; i < length; i++) payload[i] = chunk[at + 6 + i] ^ chunk[at + 2 + (i & 3)];
    this.write(Buffer.concat([Buffer.from([0x80 | opcode, length]), payload]));
    if (opcode === 0x8) this.end();
    at += 6 + length;
  }
}

function onConnection(socket) {
  socket.setNoDelay(true);
  socket.open = false;
  socket.on('data', onData);
  socket.on('error', () => socket.destroy());
}

export function listenFloor(host) {
  const server = createServer(onConnection);
  return new Promise((resolve) => server.listen(0, host, () => resolve(server.address().port)));
}
