/**
 * A permessage-deflate client side for tests, independent of src/protocol:
 * node:zlib used the way RFC 7692 §7.2 describes, with one-shot calls and
 * with persistent streams (real context takeover), and a decompression bomb
 * that costs a megabyte to hold and a gigabyte to inflate.
 */
import { constants, createDeflateRaw, createInflateRaw, deflateRawSync, inflateRawSync, type DeflateRaw, type InflateRaw } from 'node:zlib';

/** RFC 7692 §7.2.1: the 4 octets a sync flush ends with. */
export const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** Compress one message as a client would (§7.2.1): sync flush, tail removed. */
export function clientDeflate(data: Uint8Array | string, options: { dictionary?: Buffer; level?: number; windowBits?: number; memLevel?: number } = {}): Buffer {
  const out = deflateRawSync(typeof data === 'string' ? Buffer.from(data) : data, { finishFlush: constants.Z_SYNC_FLUSH, ...options });
  if (!out.subarray(-4).equals(TAIL)) throw new Error('a sync flush did not end with 00 00 ff ff');
  return out.subarray(0, -4);
}

/** Inflate one message as a client would (§7.2.2): tail appended. */
export function clientInflate(payload: Uint8Array, options: { dictionary?: Buffer; windowBits?: number } = {}): Buffer {
  return inflateRawSync(Buffer.concat([payload, TAIL]), { finishFlush: constants.Z_SYNC_FLUSH, ...options });
}

/**
 * The compressed payload of a message of `mebibytes` MiB of zeros, made
 * without ever holding them: a megabyte of zeros compressed once on its own
 * and once after a window of zeros; the second, byte-aligned by its sync
 * flush, repeats. About 1 KiB per MiB (DEFLATE's best ratio is about 1:1030).
 */
export function zeroBomb(mebibytes: number): Buffer {
  const MiB = Buffer.alloc(1 << 20);
  const first = deflateRawSync(MiB, { level: 9, finishFlush: constants.Z_SYNC_FLUSH });
  const next = deflateRawSync(MiB, { level: 9, finishFlush: constants.Z_SYNC_FLUSH, dictionary: Buffer.alloc(32 * 1024) });
  return Buffer.concat([first, ...Array<Buffer>(mebibytes - 1).fill(next)]).subarray(0, -4);
}

function flushed(stream: DeflateRaw | InflateRaw, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer) => chunks.push(chunk);
    const onError = (error: Error) => {
      stream.off('data', onData);
      reject(error);
    };
    stream.on('data', onData);
    stream.once('error', onError);
    stream.write(data);
    stream.flush(constants.Z_SYNC_FLUSH, () => {
      stream.off('data', onData);
      stream.off('error', onError);
      resolve(Buffer.concat(chunks));
    });
  });
}

/**
 * One direction of a client's permessage-deflate with persistent zlib
 * streams: context takeover as zlib does it natively, a new stream per
 * message when it is negotiated away.
 */
export class StreamCodec {
  private deflater: DeflateRaw | undefined;
  private inflater: InflateRaw | undefined;

  constructor(
    private readonly options: { windowBits?: number; noContextTakeover?: boolean; memLevel?: number; level?: number } = {},
  ) {}

  /** Compress one message (§7.2.1): the tail removed. */
  async deflate(data: Buffer): Promise<Buffer> {
    if (!this.deflater || this.options.noContextTakeover) {
      this.deflater?.close();
      this.deflater = createDeflateRaw({ windowBits: this.options.windowBits ?? 15, memLevel: this.options.memLevel, level: this.options.level });
    }
    const out = await flushed(this.deflater, data);
    if (!out.subarray(-4).equals(TAIL)) throw new Error('a sync flush did not end with 00 00 ff ff');
    return out.subarray(0, -4);
  }

  /** Inflate one message (§7.2.2): the tail appended. */
  async inflate(payload: Buffer): Promise<Buffer> {
    if (!this.inflater || this.options.noContextTakeover) {
      this.inflater?.close();
      this.inflater = createInflateRaw({ windowBits: this.options.windowBits ?? 15 });
    }
    return flushed(this.inflater, Buffer.concat([payload, TAIL]));
  }

  close(): void {
    this.deflater?.close();
    this.inflater?.close();
  }
}
