/**
 * The conformance client's own permessage-deflate (RFC 7692), independent of
 * src/: reading the server's answer, and compressing and inflating messages
 * with node:zlib as §7.2 describes. Each direction's LZ77 window is the last
 * 2^bits bytes of the messages that went through it, handed to zlib as the
 * preset dictionary of the next message, unless no_context_takeover applies.
 */
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';

/** §7.2.1: the 4 octets a sync flush ends with, removed on the wire. */
export const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

export interface Agreement {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number;
  clientMaxWindowBits: number;
}

/**
 * The server's Sec-WebSocket-Extensions answer, read as a client must
 * (§7.1): exactly one permessage-deflate, known parameters, each once, valid
 * values. Returns the agreement, or a sentence saying what is wrong with it.
 */
export function readAgreement(value: string): Agreement | string {
  const elements = value.split(',').map((e) => e.trim()).filter(Boolean);
  if (elements.length !== 1) return `the answer lists ${elements.length} extensions`;
  const [name, ...params] = elements[0].split(';').map((p) => p.trim());
  if (name !== 'permessage-deflate') return `the answer agrees to "${name}"`;
  const agreement: Agreement = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };
  const seen = new Set<string>();
  for (const param of params) {
    const [key, raw] = param.split('=').map((s) => s.trim());
    if (seen.has(key)) return `the answer repeats ${key}`;
    seen.add(key);
    const bits = raw === undefined ? NaN : Number(raw.replace(/^"(.*)"$/, '$1'));
    if (key === 'server_no_context_takeover' && raw === undefined) agreement.serverNoContextTakeover = true;
    else if (key === 'client_no_context_takeover' && raw === undefined) agreement.clientNoContextTakeover = true;
    else if (key === 'server_max_window_bits' && Number.isInteger(bits) && bits >= 8 && bits <= 15) agreement.serverMaxWindowBits = bits;
    else if (key === 'client_max_window_bits' && Number.isInteger(bits) && bits >= 8 && bits <= 15) agreement.clientMaxWindowBits = bits;
    else return `the answer has an invalid parameter "${param}"`;
  }
  return agreement;
}

/** One direction's window: the last `size` bytes of the messages compressed in it. */
class History {
  private bytes: Buffer = Buffer.alloc(0);
  constructor(private readonly size: number) {}

  get dictionary(): Buffer | undefined {
    return this.bytes.length ? this.bytes : undefined;
  }

  add(data: Buffer): void {
    const joined = Buffer.concat([this.bytes, data]);
    this.bytes = Buffer.from(joined.subarray(Math.max(0, joined.length - this.size)));
  }
}

/** The client's side of permessage-deflate on one connection. */
export class ClientDeflate {
  private readonly sent: History;
  private readonly received: History;

  constructor(readonly agreement: Agreement) {
    this.sent = new History(2 ** agreement.clientMaxWindowBits);
    this.received = new History(2 ** agreement.serverMaxWindowBits);
  }

  /** A message's compressed payload, to send with RSV1 (§7.2.1). `level` 0 makes stored blocks. */
  compress(data: Buffer, level?: number): Buffer {
    const keep = !this.agreement.clientNoContextTakeover;
    // zlib cannot deflate with 8 window bits; 9 keeps its matches within 250 bytes.
    const out = deflateRawSync(data, {
      windowBits: Math.max(9, this.agreement.clientMaxWindowBits),
      finishFlush: constants.Z_SYNC_FLUSH,
      dictionary: keep ? this.sent.dictionary : undefined,
      level,
    });
    if (keep) this.sent.add(data);
    return out.subarray(0, out.length - TAIL.length);
  }

  /** Inflate a message the server compressed (§7.2.2); throws if it does not inflate. */
  inflate(payload: Buffer): Buffer {
    const keep = !this.agreement.serverNoContextTakeover;
    const data = inflateRawSync(Buffer.concat([payload, TAIL]), {
      windowBits: this.agreement.serverMaxWindowBits,
      finishFlush: constants.Z_SYNC_FLUSH,
      dictionary: keep ? this.received.dictionary : undefined,
    });
    if (keep) this.received.add(data);
    return data;
  }

  /** Inflate with no window, as a message compressed on its own must (server_no_context_takeover). */
  inflateAlone(payload: Buffer, windowBits = this.agreement.serverMaxWindowBits): Buffer {
    return inflateRawSync(Buffer.concat([payload, TAIL]), { windowBits, finishFlush: constants.Z_SYNC_FLUSH });
  }
}

/**
 * The payload of a message of `mebibytes` MiB of zeros, built without holding
 * them: 1 MiB compressed alone, then 1 MiB compressed after a window of zeros
 * (byte-aligned by its sync flush) repeated. About 1 KiB per MiB.
 */
export function zeroBomb(mebibytes: number): Buffer {
  const block = Buffer.alloc(1 << 20);
  const first = deflateRawSync(block, { level: 9, finishFlush: constants.Z_SYNC_FLUSH });
  const next = deflateRawSync(block, { level: 9, finishFlush: constants.Z_SYNC_FLUSH, dictionary: Buffer.alloc(32 * 1024) });
  return Buffer.concat([first, ...Array<Buffer>(mebibytes - 1).fill(next)]).subarray(0, -TAIL.length);
}
