/**
 * Property (RFC 7692 §7.2): under any negotiated parameter set, any sequence
 * of messages compressed by a client, masked, fragmented arbitrarily (RSV1 on
 * the first frame only) and cut into reads at random inflates to the original
 * messages; and what the server compresses inflates to what it was given.
 * The compressors and inflaters on the client side are our encoder and,
 * independently, node:zlib streams with a sync flush, which keep context
 * across messages the way zlib does it natively. With no_context_takeover
 * negotiated, each message also inflates on its own. The server side runs
 * either of deflate.ts's engines (zlib streams kept, or one-shot calls), and
 * goes idle (its streams closed) between random messages.
 *
 * Messages are kept small (most under 2 KiB, a few up to about 16 KiB to
 * outgrow the smaller windows), and the properties driving zlib streams,
 * which are asynchronous, run a fifth of PROPERTY_RUNS: 200 by default.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { type DeflateParams, PerMessageDeflate, RSV1 } from '../src/protocol/index.js';
import { OP, feed, frame, openConnection, summarize } from '../spec/helpers.js';
import { StreamCodec, clientInflate } from '../spec/support/deflate.js';
import { cuts, cutsFor, maskKey } from './arbitraries.js';
import { assertEqual } from './assert.js';
import { NUM_RUNS, params } from './config.js';

/** Each run makes a few zlib streams and waits for their flushes: a fifth of the runs. */
const STREAM_RUNS = Math.max(1, Math.floor(NUM_RUNS / 5));

interface Message {
  isBinary: boolean;
  data: Buffer;
}

const deflateParams: fc.Arbitrary<DeflateParams> = fc.record({
  serverNoContextTakeover: fc.boolean(),
  clientNoContextTakeover: fc.boolean(),
  serverMaxWindowBits: fc.integer({ min: 9, max: 15 }),
  clientMaxWindowBits: fc.integer({ min: 8, max: 15 }),
});

/** Text that compresses: a phrase repeated, sometimes past the smaller windows. */
const repetitive = fc
  .tuple(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 24 }), fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 60 }) }, { weight: 1, arbitrary: fc.integer({ min: 200, max: 400 }) }))
  .map(([phrase, times]) => phrase.repeat(times));

type Draft = { kind: 'text'; text: string } | { kind: 'binary'; bytes: Uint8Array } | { kind: 'again'; isBinary: boolean; suffix: string };

const draft: fc.Arbitrary<Draft> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('text' as const), text: fc.oneof(repetitive, fc.string({ unit: 'binary', maxLength: 300 })) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('binary' as const), bytes: fc.oneof(fc.uint8Array({ maxLength: 600 }), repetitive.map((s) => Buffer.from(s))) }) },
  // The previous message again, plus a little: what context takeover is for.
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('again' as const), isBinary: fc.boolean(), suffix: fc.string({ maxLength: 10 }) }) },
);

const messages: fc.Arbitrary<Message[]> = fc.array(draft, { minLength: 1, maxLength: 6 }).map((drafts) => {
  const out: Message[] = [];
  for (const d of drafts) {
    if (d.kind === 'text') out.push({ isBinary: false, data: Buffer.from(d.text) });
    else if (d.kind === 'binary') out.push({ isBinary: true, data: Buffer.from(d.bytes) });
    else {
      const previous = out.at(-1)?.data ?? Buffer.from('first');
      // Text must stay UTF-8: repeat a binary message as text only if it is.
      const isBinary = d.isBinary || !Buffer.from(previous.toString('utf8')).equals(previous);
      out.push({ isBinary, data: Buffer.concat([previous, Buffer.from(d.suffix)]) });
    }
  }
  return out;
});

/** Payload offsets where fragments start; reduced modulo each payload's length. */
const fragmentCuts = fc.array(fc.array(fc.nat({ max: 1 << 16 }), { maxLength: 5 }), { minLength: 6, maxLength: 6 });

/**
 * A client's frames for one message: compressed (RSV1 on the first frame,
 * never on a continuation) or not, split at `at`, each masked with its own key.
 */
function clientFrames(message: Message, compressed: Buffer | undefined, at: number[], keys: Uint8Array[]): Buffer[] {
  const payload = compressed ?? message.data;
  const points = [...new Set(at.map((c) => c % (payload.length + 1)))].filter((c) => c > 0 && c < payload.length).sort((a, b) => a - b);
  const bounds = [0, ...points, payload.length];
  const frames: Buffer[] = [];
  for (let i = 0; i + 1 < bounds.length || i === 0; i++) {
    const piece = payload.subarray(bounds[i], bounds[i + 1] ?? payload.length);
    const last = i + 2 >= bounds.length;
    frames.push(
      frame({
        opcode: i === 0 ? (message.isBinary ? OP.BINARY : OP.TEXT) : OP.CONT,
        rsv: i === 0 && compressed ? RSV1 : 0,
        fin: last,
        payload: piece,
        mask: keys[(frames.length + at.length) % keys.length],
      }),
    );
    if (last) break;
  }
  return frames;
}

/**
 * How the server side runs zlib: a stream kept per direction or one-shot
 * calls (both paths of deflate.ts), and before which messages it goes idle
 * (its streams closed by `releaseIfIdle`, as the runtime's sweep does).
 */
interface Engine {
  streams: boolean;
  idle: boolean[];
}

const engine: fc.Arbitrary<Engine> = fc.record({ streams: fc.boolean(), idle: fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }) });

function goIdle(codec: PerMessageDeflate): void {
  codec.releaseIfIdle();
  if (!codec.releaseIfIdle() || codec.holdsEngine) throw new Error('an idle codec kept a zlib stream');
}

/** Feed a client's frames (one list per message) to a server that negotiated `negotiated`; the messages it delivered. */
function serverReceives(negotiated: DeflateParams, frames: Buffer[][], rawCuts: number[], e: Engine): string[] {
  const codec = new PerMessageDeflate(negotiated, { memLevel: 8, threshold: 1024 }, { streams: e.streams });
  const { connection, recorder } = openConnection({ deflate: codec });
  frames.forEach((list, i) => {
    if (e.idle[i]) goIdle(codec);
    const bytes = Buffer.concat(list);
    feed(connection, bytes, cutsFor(rawCuts, bytes.length));
  });
  return summarize(recorder.events);
}

const expected = (list: Message[]) => summarize(list.map((m) => ({ type: 'message', data: m.data, isBinary: m.isBinary })));

/** Our encoder on the client's side of the connection: the server's parameters mirrored. */
function ourClientEncoder(p: DeflateParams, memLevel: number, streams: boolean): PerMessageDeflate {
  return new PerMessageDeflate(
    { serverNoContextTakeover: p.clientNoContextTakeover, serverMaxWindowBits: p.clientMaxWindowBits, clientNoContextTakeover: p.serverNoContextTakeover, clientMaxWindowBits: p.serverMaxWindowBits },
    { memLevel, threshold: 0 },
    { streams },
  );
}

describe('property: permessage-deflate round trips (RFC 7692 §7.2)', () => {
  it('client → server, compressed by our encoder: fragmented, masked and cut anyhow, every message inflates to the original', () => {
    fc.assert(
      fc.property(deflateParams, fc.integer({ min: 1, max: 9 }), messages, fragmentCuts, fc.array(maskKey, { minLength: 1, maxLength: 4 }), cuts, engine, fc.boolean(), (p, memLevel, list, at, keys, rawCuts, e, clientStreams) => {
        const encoder = ourClientEncoder(p, memLevel, clientStreams);
        const frames = list.map((m, i) => clientFrames(m, encoder.deflate(m.data), at[i], keys));
        assertEqual(serverReceives(p, frames, rawCuts, e), expected(list), 'messages delivered and messages sent');
      }),
      params(),
    );
  });

  it('client → server, compressed by zlib streams with a sync flush (context kept unless negotiated away): the same', async () => {
    await fc.assert(
      fc.asyncProperty(deflateParams, fc.integer({ min: 1, max: 9 }), messages, fragmentCuts, fc.array(maskKey, { minLength: 1, maxLength: 4 }), cuts, engine, async (p, memLevel, list, at, keys, rawCuts, e) => {
        const client = new StreamCodec({ windowBits: p.clientMaxWindowBits, noContextTakeover: p.clientNoContextTakeover, memLevel });
        try {
          const compressed: Buffer[] = [];
          for (const m of list) compressed.push(await client.deflate(m.data));
          const frames = list.map((m, i) => clientFrames(m, compressed[i], at[i], keys));
          assertEqual(serverReceives(p, frames, rawCuts, e), expected(list), 'messages delivered and messages sent');
          if (p.clientNoContextTakeover) {
            // Each message inflates on its own, with no window from the ones before.
            assertEqual(compressed.map((c) => clientInflate(c, { windowBits: p.clientMaxWindowBits })), list.map((m) => m.data), 'each message inflated alone');
          }
        } finally {
          client.close();
        }
      }),
      params({ numRuns: STREAM_RUNS }),
    );
  });

  it('server → client: what Connection.send compresses inflates, through a zlib stream, to what it was given', async () => {
    await fc.assert(
      fc.asyncProperty(deflateParams, fc.integer({ min: 1, max: 9 }), fc.nat({ max: 2048 }), messages, engine, async (p, memLevel, threshold, list, e) => {
        const codec = new PerMessageDeflate(p, { memLevel, threshold }, { streams: e.streams });
        const { connection, recorder } = openConnection({ deflate: codec });
        list.forEach((m, i) => {
          if (e.idle[i]) goIdle(codec);
          connection.send(m.data, m.isBinary);
        });
        const written = recorder.written;
        assertEqual(written.length, list.length, 'one unfragmented frame per message');
        const client = new StreamCodec({ windowBits: p.serverMaxWindowBits, noContextTakeover: p.serverNoContextTakeover });
        try {
          const received: Message[] = [];
          for (const f of written) {
            if (f.rsv !== 0 && f.rsv !== RSV1) throw new Error(`frame with RSV ${f.rsv}`);
            const data = f.rsv === RSV1 ? await client.inflate(f.payload) : f.payload;
            received.push({ isBinary: f.opcode === OP.BINARY, data });
            if (f.rsv === RSV1 && p.serverNoContextTakeover) {
              assertEqual(clientInflate(f.payload, { windowBits: p.serverMaxWindowBits }), data, 'a message inflated alone');
            }
          }
          assertEqual(expected(received), expected(list), 'messages inflated and messages sent');
          // Under the threshold, never compressed.
          list.forEach((m, i) => {
            if (m.data.length < threshold && written[i].rsv !== 0) throw new Error(`message ${i} of ${m.data.length} bytes compressed under threshold ${threshold}`);
          });
        } finally {
          client.close();
        }
      }),
      params({ numRuns: STREAM_RUNS }),
    );
  });
});
