/** Autobahn sections 9 (limits and performance) and 10 (auto-fragmentation). */
import { OP, type FrameSpec } from '../wire.js';
import { echoCase, lazy, repeat } from './define.js';
import type { AutobahnCase, Expected, Script } from './engine.js';

const KiB = 1024;
const MiB = 1024 * KiB;
/** Autobahn reports "Did not receive message within 100 seconds" for these. */
const MESSAGE_WAIT_MS = 100_000;

const sizeName = (n: number) => (n >= MiB ? `${n / MiB} * 2**20 (${n / MiB}M)` : `${n / KiB} * 2**10 (${n / KiB}k)`);
const short = (n: number) => (n >= MiB ? `${n / MiB}M` : n >= KiB ? `${n / KiB}k` : `${n}`);
const payloadOf = (type: 'text' | 'binary', n: number) => repeat(type === 'text' ? '*' : 0xfe, n);
const expected = (type: 'text' | 'binary', data: Buffer): Expected => ['message', data, type === 'binary'];

function bigCase(id: string, type: 'text' | 'binary', size: number, detail: string, send: (data: Buffer) => (s: Script) => Promise<void>): AutobahnCase {
  const data = lazy(() => payloadOf(type, size));
  return echoCase(id, `Send ${detail.startsWith('fragmented') ? detail.replace('fragmented', `fragmented ${type}`) : `${type} ${detail}`}`, `Receive echo'ed ${type} message (with payload as sent).`, () => [expected(type, data())], (s) => send(data())(s), {
    waitMs: MESSAGE_WAIT_MS,
    heavy: size >= 4 * MiB,
    timeoutMs: MESSAGE_WAIT_MS + 20_000,
  });
}

const SIZES = [64 * KiB, 256 * KiB, MiB, 4 * MiB, 8 * MiB, 16 * MiB];
const FRAGMENTS = [64, 256, KiB, 4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, MiB, 4 * MiB];
const CHOPS = [64, 128, 256, 512, 1024, 2048];
const ROUND_TRIPS = [0, 16, 64, 256, 1024, 4096];
const ROUND_TRIP_TIMEOUT_S = [60, 60, 60, 120, 240, 480];

function sizes(section: string, type: 'text' | 'binary'): AutobahnCase[] {
  const opcode = type === 'text' ? OP.TEXT : OP.BINARY;
  return SIZES.map((n, i) => bigCase(`${section}.${i + 1}`, type, n, `message message with payload of length ${sizeName(n)}.`, (data) => (s) => s.send({ opcode, payload: data })));
}

/**
 * Fragments of `f` bytes, each its own write; when there is more than one, all
 * have FIN clear and an empty final continuation ends the message (as the
 * frame counts in Autobahn's reports show).
 */
function fragments(section: string, type: 'text' | 'binary'): AutobahnCase[] {
  const opcode = type === 'text' ? OP.TEXT : OP.BINARY;
  return FRAGMENTS.map((f, i) =>
    bigCase(`${section}.${i + 1}`, type, 4 * MiB, `fragmented message message with message payload of length ${sizeName(4 * MiB)}. Sent out in fragments of ${short(f)}.`, (data) => (s) => {
      if (data.length <= f) return s.send({ opcode, payload: data });
      const specs: FrameSpec[] = [];
      for (let at = 0; at < data.length; at += f) specs.push({ opcode: at === 0 ? opcode : OP.CONT, fin: false, payload: data.subarray(at, at + f) });
      specs.push({ opcode: OP.CONT, fin: true });
      return s.send(specs, 'frame');
    }),
  );
}

function chops(section: string, type: 'text' | 'binary'): AutobahnCase[] {
  const opcode = type === 'text' ? OP.TEXT : OP.BINARY;
  return CHOPS.map((c, i) => bigCase(`${section}.${i + 1}`, type, MiB, `message message with payload of length ${sizeName(MiB)}. Sent out data in chops of ${c} octets.`, (data) => (s) => s.send({ opcode, payload: data }, c)));
}

/** 1,000 messages, each sent once the previous echo came back. */
function roundTrips(section: string, type: 'text' | 'binary'): AutobahnCase[] {
  return ROUND_TRIPS.map((n, i) => {
    const data = payloadOf(type, n);
    const waitMs = ROUND_TRIP_TIMEOUT_S[i] * 1000;
    return echoCase(
      `${section}.${i + 1}`,
      `Send 1000 ${type} messages of payload size ${n} to measure implementation/network RTT (round trip time) / latency.`,
      `Receive echo'ed ${type} messages (with payload as sent). Timeout case after ${ROUND_TRIP_TIMEOUT_S[i]} secs.`,
      Array<Expected>(1000).fill(expected(type, data)),
      async (s) => {
        const started = performance.now();
        for (let k = 0; k < 1000 && !s.closed; k++) {
          await s.message(type, data);
          if (!(await s.received(k + 1, Math.max(1, waitMs - (performance.now() - started))))) break;
        }
        s.note(`1,000 round trips in ${Math.round(performance.now() - started)} ms`);
      },
      // Round-trip times suffer from neighbours on a single-threaded server: these run alone.
      { waitMs, timeoutMs: waitMs + 20_000, exclusive: true },
    );
  });
}

const autoFragment = repeat('*', 65536);

export const SECTION_9: AutobahnCase[] = [
  ...sizes('9.1', 'text'),
  ...sizes('9.2', 'binary'),
  ...fragments('9.3', 'text'),
  ...fragments('9.4', 'binary'),
  ...chops('9.5', 'text'),
  ...chops('9.6', 'binary'),
  ...roundTrips('9.7', 'text'),
  ...roundTrips('9.8', 'binary'),
];

export const SECTION_10: AutobahnCase[] = [
  echoCase(
    '10.1.1',
    'Send text message with payload of length 65536 auto-fragmented with <b>autoFragmentSize = 1300</b>.',
    'Receive echo\'ed text message (with payload as sent and transmitted frame counts as expected). Clean close with normal code.',
    [['message', autoFragment, false]],
    (s) => s.message('text', autoFragment, 1300),
  ),
];
