/**
 * Autobahn sections 12 (permessage-deflate with different payloads) and 13
 * (with different parameters), RFC 7692: 1,000 compressed messages per case,
 * a few sent ahead of their echoes, for each of 18 sizes and
 * auto-fragmentation sizes. The payloads are of the kinds Autobahn names (JSON,
 * a bitmap, German prose, HTML, a PDF), generated here, not its files.
 */
import { pseudoRandomBytes } from '../wire.js';
import { echoCase, lazy } from './define.js';
import type { AutobahnCase, Expected } from './engine.js';

/** Autobahn's (message size, auto-fragment size) rows, cases 1-18 of each subsection. */
const ROWS: [number, number][] = [
  [16, 0], [64, 0], [256, 0], [1024, 0], [4096, 0], [8192, 0], [16384, 0], [32768, 0], [65536, 0], [131072, 0],
  [8192, 256], [16384, 256], [32768, 256], [65536, 256], [131072, 256], [131072, 1024], [131072, 4096], [131072, 32768],
];
/**
 * Messages sent ahead of their echoes: the cases ask for 1,000 messages and
 * their echoes in order, not for one round trip at a time, and a window keeps
 * both ends busy. Bounded in count and in bytes.
 */
const MAX_IN_FLIGHT = 32;
const IN_FLIGHT_BYTES = 256 * 1024;
const timeoutSecs = (size: number) => (size <= 64 ? 60 : size <= 256 ? 120 : size <= 1024 ? 240 : 480);

/** Deterministic text from a word list, ASCII only so that any slice is valid UTF-8. */
function prose(bytes: number, words: string[], seed: number, sep: (i: number) => string): Buffer {
  const parts: string[] = [];
  let length = 0;
  let x = seed;
  for (let i = 0; length < bytes; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const part = words[(x >>> 8) % words.length] + sep(i);
    parts.push(part);
    length += part.length;
  }
  return Buffer.from(parts.join('').slice(0, bytes), 'latin1');
}

const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'status', 'ok', 'error', 'user', 'name', 'value', 'message', 'count', 'id', 'true', 'false', 'null'];
const GERMAN = ['Habe', 'nun,', 'ach!', 'Philosophie,', 'Juristerei', 'und', 'Medizin,', 'Und', 'leider', 'auch', 'Theologie', 'Durchaus', 'studiert,', 'mit', 'heißem', 'Bemühn.', 'Da', 'steh', 'ich', 'nun,', 'ich', 'armer', 'Tor!', 'Und', 'bin', 'so', 'klug', 'als', 'wie', 'zuvor;'];
const TAGS = ['<div class="row">', '</div>', '<p>', '</p>', '<a href="/docs/index.html">', '</a>', '<span>', '</span>', '<li>', '</li>', 'content', 'section', 'WebSocket', 'table'];

function bitmap(bytes: number): Buffer {
  // A 512x512 grey image: smooth gradients with some noise, row after row.
  const out = Buffer.alloc(bytes);
  const noise = pseudoRandomBytes(bytes, 77);
  for (let i = 0; i < bytes; i++) out[i] = (((i % 512) >> 1) + ((i >> 9) & 0xff) + (noise[i] & 0x0f)) & 0xff;
  return out;
}

function pdf(bytes: number): Buffer {
  // Mostly already-compressed streams (random bytes) between short text objects.
  const random = pseudoRandomBytes(bytes, 99);
  const text = prose(bytes, ['obj', 'endobj', '<< /Type /Page >>', 'stream', 'endstream', '/Filter /FlateDecode', '0 R'], 5, () => '\n');
  for (let at = 0; at < bytes; at += 4096) text.copy(random, at, at, Math.min(bytes, at + 512));
  return random;
}

const CORPUS_BYTES = 256 * 1024;

interface PayloadSet {
  title: string;
  type: 'text' | 'binary';
  corpus: () => Buffer;
}

const SETS: PayloadSet[] = [
  { title: 'JSON data (utf8)', type: 'text', corpus: () => prose(CORPUS_BYTES, WORDS, 1, (i) => (i % 4 === 3 ? '},\n{"' : '": "')) },
  { title: 'a bitmap picture (binary)', type: 'binary', corpus: () => bitmap(CORPUS_BYTES) },
  { title: 'German prose (binary)', type: 'binary', corpus: () => Buffer.from(prose(CORPUS_BYTES, GERMAN, 3, (i) => (i % 11 === 10 ? '\n' : ' ')).toString('latin1'), 'utf8').subarray(0, CORPUS_BYTES) },
  { title: 'HTML (utf8)', type: 'text', corpus: () => prose(CORPUS_BYTES, TAGS, 4, (i) => (i % 5 === 4 ? '\n' : '')) },
  { title: 'a PDF (binary)', type: 'binary', corpus: () => pdf(CORPUS_BYTES) },
];

/** Corpora, built on first use. */
const corpora = new Map<PayloadSet, Buffer>();
function corpusOf(set: PayloadSet): Buffer {
  let corpus = corpora.get(set);
  if (!corpus) corpora.set(set, (corpus = set.corpus()));
  return corpus;
}

/** Where the 1,000 messages of a case start: consecutive slices of the corpus, wrapping around. */
const offsets = (corpus: Buffer, size: number) => Array.from({ length: 1000 }, (_, i) => (i * size) % (corpus.length - size + 1));

function messages(corpus: Buffer, size: number): Buffer[] {
  return offsets(corpus, size).map((at) => corpus.subarray(at, at + size));
}

/** Offers from Autobahn's (requestNoContextTakeover, requestMaxWindowBits) pairs: each also accepts client_no_context_takeover and client_max_window_bits. */
function offer(pairs: [boolean, number][]): string {
  return pairs
    .map(([noContext, bits]) => `permessage-deflate; client_no_context_takeover; client_max_window_bits${noContext ? '; server_no_context_takeover' : ''}${bits ? `; server_max_window_bits=${bits}` : ''}`)
    .join(', ');
}

const pairsText = (pairs: [boolean, number][]) => `[${pairs.map(([n, b]) => `(${n ? 'True' : 'False'}, ${b})`).join(', ')}]`;

function compressionCase(id: string, set: PayloadSet, size: number, fragment: number, offerText: string, offerValue: string): AutobahnCase {
  const waitMs = timeoutSecs(size) * 1000;
  const isBinary = set.type === 'binary';
  const list = lazy(() => messages(corpusOf(set), size));
  const ok = () => list().map((m): Expected => ['message', m, isBinary]);
  return echoCase(
    id,
    `Send 1000 compressed messages each of payload size ${size}, auto-fragment to ${fragment} octets. ${offerText}`,
    `Receive echo'ed messages (with payload as sent). Timeout case after ${timeoutSecs(size)} secs.`,
    ok,
    async (s) => {
      const started = performance.now();
      const left = () => Math.max(1, waitMs - (performance.now() - started));
      const all = list();
      // Names each message's bytes, so that cases sending the same one compress it once (ClientDeflate.compressNext).
      const at = offsets(corpusOf(set), size);
      // Each message goes once no more than `window` before it still await their echoes.
      const window = Math.max(1, Math.min(MAX_IN_FLIGHT, Math.floor(IN_FLIGHT_BYTES / size)));
      for (let k = 0; k < all.length && !s.closed; k++) {
        if (k >= window && !(await s.received(k - window + 1, left()))) break;
        await s.message(set.type, all[k], fragment, undefined, `${set.title} ${at[k]}+${size}`);
      }
      await s.received(all.length, left());
      s.note(`1,000 messages and their echoes in ${Math.round(performance.now() - started)} ms, up to ${window} awaiting their echo at a time`);
    },
    { offer: offerValue, waitMs, timeoutMs: waitMs + 20_000 },
  );
}

const PARAMETERS: [boolean, number][][] = [[[false, 0]], [[true, 0]], [[false, 9]], [[false, 15]], [[true, 9]], [[true, 15]], [[true, 9], [true, 0], [false, 0]]];

export const SECTION_12: AutobahnCase[] = SETS.flatMap((set, i) =>
  ROWS.map(([size, fragment], j) => compressionCase(`12.${i + 1}.${j + 1}`, set, size, fragment, 'Use default permessage-deflate offer.', offer([[false, 0]]))),
);

export const SECTION_13: AutobahnCase[] = PARAMETERS.flatMap((pairs, i) =>
  ROWS.map(([size, fragment], j) =>
    compressionCase(`13.${i + 1}.${j + 1}`, SETS[0], size, fragment, `Use permessage-deflate client offers (requestNoContextTakeover, requestMaxWindowBits): ${pairsText(pairs)}`, offer(pairs)),
  ),
);

export const SUBSECTIONS_12 = SETS.map((s) => s.title);
