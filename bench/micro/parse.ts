// Frame parsing (RFC 6455 §5.2): our FrameDecoder against a naive parser that
// reads one byte at a time and copies each payload out (the tutorial approach), on realistic chunks.
import { type FrameSink } from '../../src/protocol/frame.js';
import { FrameDecoder } from '../../src/protocol/frame.js';
import { type Group, asciiText, pseudoRandom } from './lib.js';

/** Masked client frames of `size` bytes, `count` of them back to back. */
export function clientFrames(size: number, count: number, opcode = 0x1): Buffer {
  const payload = opcode === 0x1 ? asciiText(size) : pseudoRandom(size);
  const lengthBytes = size < 126 ? 0 : size < 0x10000 ? 2 : 8;
  const frameSize = 2 + lengthBytes + 4 + size;
  const out = Buffer.allocUnsafe(frameSize * count);
  for (let f = 0; f < count; f++) {
    let p = f * frameSize;
    out[p++] = 0x80 | opcode;
    if (lengthBytes === 0) out[p++] = 0x80 | size;
    else if (lengthBytes === 2) {
      out[p++] = 0x80 | 126;
      out.writeUInt16BE(size, p);
      p += 2;
    } else {
      out[p++] = 0x80 | 127;
      out.writeUInt32BE(0, p);
      out.writeUInt32BE(size, p + 4);
      p += 8;
    }
    const key = [(f * 37 + 1) & 0xff, (f * 91 + 7) & 0xff, 0x5a, (f * 13) & 0xff];
    for (let k = 0; k < 4; k++) out[p++] = key[k];
    for (let i = 0; i < size; i++) out[p + i] = payload[i] ^ key[i & 3];
  }
  return out;
}

/** `stream` cut into chunks of `chunkSize`, each in its own ArrayBuffer (as socket reads arrive). */
export function chunked(stream: Buffer, chunkSize: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < stream.length; at += chunkSize) {
    const piece = stream.subarray(at, Math.min(stream.length, at + chunkSize));
    const own = Buffer.from(new ArrayBuffer(piece.length));
    own.set(piece);
    chunks.push(own);
  }
  return chunks;
}

class CountingSink implements FrameSink {
  frames = 0;
  bytes = 0;
  onFrameHeader(): void {
    this.frames++;
  }
  onFramePayload(data: Buffer): void {
    this.bytes += data.length;
  }
  onFrameEnd(): void {}
}

/**
 * The obvious parser: a state machine over single bytes that copies every payload byte, unmasked,
 * into a new buffer per frame (no validation beyond what parsing needs).
 */
class NaiveParser {
  private state = 0;
  private need = 0;
  private length = 0;
  private lengthBytes = 0;
  private key = [0, 0, 0, 0];
  private keyAt = 0;
  private payload = Buffer.alloc(0);
  private at = 0;
  constructor(private readonly onFrame: (opcode: number, payload: Buffer) => void) {}
  private opcode = 0;
  push(chunk: Buffer): void {
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      switch (this.state) {
        case 0:
          this.opcode = b & 0x0f;
          this.state = 1;
          break;
        case 1:
          this.length = b & 0x7f;
          this.lengthBytes = this.length === 126 ? 2 : this.length === 127 ? 8 : 0;
          if (this.lengthBytes) {
            this.length = 0;
            this.need = this.lengthBytes;
            this.state = 2;
          } else this.state = 3;
          this.keyAt = 0;
          break;
        case 2:
          this.length = this.length * 256 + b;
          if (--this.need === 0) this.state = 3;
          break;
        case 3:
          this.key[this.keyAt++] = b;
          if (this.keyAt === 4) {
            this.payload = Buffer.alloc(this.length);
            this.at = 0;
            if (this.length === 0) this.end();
            else this.state = 4;
          }
          break;
        case 4:
          this.payload[this.at] = b ^ this.key[this.at & 3];
          if (++this.at === this.length) this.end();
          break;
      }
    }
  }
  private end(): void {
    this.state = 0;
    this.onFrame(this.opcode, this.payload);
  }
}

export function parseGroups(): Group[] {
  const cases: Array<[string, Buffer, number]> = [
    ['4,096 × 16 B text frames in 64 KiB chunks', clientFrames(16, 4096), 64 * 1024],
    ['64 × 4 KiB text frames in 64 KiB chunks', clientFrames(4096, 64), 64 * 1024],
    ['one 1 MiB binary frame in 64 KiB chunks', clientFrames(1024 * 1024, 1, 0x2), 64 * 1024],
  ];
  return cases.map(([title, stream, chunkSize]) => {
    const template = chunked(stream, chunkSize);
    const work = chunked(stream, chunkSize);
    const frames = title.startsWith('one') ? 1 : Number(title.split(' ')[0].replace(',', ''));
    // Decoding unmasks in place: every call starts from a fresh copy of the masked bytes (memcpy,
    // the same cost in every row; the "copy only" row shows it).
    const refill = () => {
      for (let i = 0; i < work.length; i++) work[i].set(template[i]);
    };
    const sink = new CountingSink();
    const ours = new FrameDecoder(sink);
    let naiveFrames = 0;
    const naive = new NaiveParser(() => naiveFrames++);
    return {
      title: `parse ${title}`,
      tasks: [
        { name: 'copy only (refill the chunks)', fn: refill },
        { name: 'naive byte-at-a-time parser', fn: () => (refill(), work.forEach((c) => naive.push(c))) },
        { name: '**FrameDecoder**', fn: () => (refill(), work.forEach((c) => ours.push(c))) },
      ].map((t) => ({ ...t, bytes: stream.length, ops: frames })),
    };
  });
}
