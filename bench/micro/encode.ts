// Frame encoding: one buffer with the payload copied behind the header (encodeFrame) against the
// header alone with the payload written after it (two writes, one writev). Both go through a corked
// Writable whose writev does nothing, so the rows include what node:stream charges per write.
import { Writable } from 'node:stream';
import { encodeFrame, encodeFrameHeader } from '../../src/protocol/frame.js';
import { type Group, pseudoRandom, repeatsFor, sizeLabel } from './lib.js';

const OPCODE = 0x2;

function sink(): Writable {
  return new Writable({
    highWaterMark: 1 << 30,
    writev(_chunks, callback) {
      callback();
    },
    write(_chunk, _encoding, callback) {
      callback();
    },
  });
}

export function encodeGroups(sizes = [16, 125, 1024, 4 * 1024, 16 * 1024, 64 * 1024]): Group[] {
  return sizes.map((size) => {
    const payload = pseudoRandom(size);
    // A batch per call, as one socket read's worth of echoes is corked into one writev.
    const batch = Math.min(64, repeatsFor(size, 256 * 1024));
    const copyOut = sink();
    const splitOut = sink();
    return {
      title: `encode ${sizeLabel(size)} (${batch} frames per corked writev)`,
      tasks: [
        {
          name: 'encodeFrame (header + payload copied into one buffer), 1 write',
          fn: () => {
            copyOut.cork();
            for (let i = 0; i < batch; i++) copyOut.write(encodeFrame(OPCODE, payload));
            copyOut.uncork();
          },
        },
        {
          name: 'encodeFrameHeader, then the payload as is: 2 writes',
          fn: () => {
            splitOut.cork();
            for (let i = 0; i < batch; i++) {
              splitOut.write(encodeFrameHeader(OPCODE, size));
              splitOut.write(payload);
            }
            splitOut.uncork();
          },
        },
        { name: 'encodeFrame alone (no stream)', fn: () => { for (let i = 0; i < batch; i++) encodeFrame(OPCODE, payload); } },
        { name: 'encodeFrameHeader alone (no stream)', fn: () => { for (let i = 0; i < batch; i++) encodeFrameHeader(OPCODE, size); } },
      ].map((t) => ({ ...t, bytes: size * batch, ops: batch })),
    };
  });
}
