// The whole sans-I/O echo path, no sockets: 64 KiB chunks of masked client frames go into
// Connection.receive, each message is echoed with Connection.send, and the bytes to write are
// collected as a corked socket would. What the server's CPU does per message besides syscalls.
import { Connection, type ConnectionHandler } from '../../src/protocol/connection.js';
import { type Group } from './lib.js';
import { chunked, clientFrames } from './parse.js';

export function echoPipeline(size: number, count: number, opcode: number, chunkSize = 64 * 1024) {
  const stream = clientFrames(size, count, opcode);
  const template = chunked(stream, chunkSize);
  const work = chunked(stream, chunkSize);
  const out: Buffer[] = [];
  let messages = 0;
  const handler: ConnectionHandler = {
    onMessage(data, isBinary) {
      messages++;
      connection.send(data, isBinary);
    },
    onPing() {},
    onPong() {},
    onCloseFrame() {},
    onProtocolError(error) {
      throw error;
    },
    write(data) {
      out.push(data);
    },
    closeTransport() {},
  };
  const connection = new Connection(handler);
  return {
    stream,
    /** Feed every chunk once (after restoring the masked bytes); returns messages echoed. */
    run(): number {
      messages = 0;
      for (let i = 0; i < work.length; i++) {
        work[i].set(template[i]);
        connection.receive(work[i]);
        out.length = 0; // the writev at uncork
      }
      return messages;
    },
  };
}

export function pipelineGroups(): Group[] {
  const cases: Array<[string, number, number, number]> = [
    ['16 B text', 16, 4096, 0x1],
    ['4 KiB text', 4096, 64, 0x1],
    ['64 KiB binary', 65536, 8, 0x2],
    ['1 MiB binary', 1024 * 1024, 1, 0x2],
  ];
  return cases.map(([title, size, count, opcode]) => {
    const echo = echoPipeline(size, count, opcode);
    return {
      title: `echo ${title} through Connection (${count} messages in 64 KiB chunks)`,
      tasks: [
        {
          name: 'Connection.receive → onMessage → send',
          fn: () => {
            if (echo.run() !== count) throw new Error('lost messages');
          },
          bytes: echo.stream.length,
          ops: count,
        },
      ],
    };
  });
}
