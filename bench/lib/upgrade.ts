/** The client side of an RFC 6455 opening handshake on a connected socket, for the load tools. */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { Duplex } from 'node:stream';

/**
 * Send a GET upgrade (with `extra` header lines) and read the answer's head.
 * Throws unless it is a 101. `rest`: bytes that came after the head.
 */
export async function clientUpgrade(socket: Duplex, extra = ''): Promise<{ head: string; rest: Buffer }> {
  socket.write(
    `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n` +
      `Sec-WebSocket-Version: 13\r\n${extra}\r\n`,
  );
  let bytes = Buffer.alloc(0);
  for (;;) {
    const [chunk] = (await once(socket, 'data')) as [Buffer];
    bytes = Buffer.concat([bytes, chunk]);
    const end = bytes.indexOf('\r\n\r\n');
    if (end === -1) continue;
    const head = bytes.subarray(0, end).toString('latin1');
    if (!head.startsWith('HTTP/1.1 101')) throw new Error(`no 101: ${head.split('\r\n')[0]}`);
    return { head, rest: bytes.subarray(end + 4) };
  }
}
