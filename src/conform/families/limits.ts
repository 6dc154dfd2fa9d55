/**
 * 9: limits and volume. RFC 6455 §10.4 lets a server cap message sizes and
 * answer 1009 (§7.4.1) beyond them; strictws echo's cap is 16 MiB
 * (--max-payload). Up to the cap everything must round-trip, however it is
 * split into writes or fragments, and many messages may be in flight at once.
 */
import { type Case, type Family, Mismatch, describeEvent, expectFail, expectMessage } from '../case.js';
import { OP, asciiText, frame, frames, mixedText, pseudoRandomBytes } from '../wire.js';
import { fragment } from './fragmentation.js';

const KiB = 1024;
const MiB = 1024 * 1024;
/** strictws echo's default --max-payload. */
const MAX_PAYLOAD = 16 * MiB;
const BIG_TIMEOUT = 30_000;

function label(n: number): string {
  return n >= MiB ? `${n / MiB} MiB` : `${n / KiB} KiB`;
}

const SIZES = [64 * KiB, 256 * KiB, MiB, 4 * MiB, 16 * MiB];

function sizeCase(id: string, type: 'text' | 'binary', size: number): Case {
  return {
    id,
    description: `A ${type} message of ${label(size)} in one frame and one write${size === MAX_PAYLOAD ? ' (exactly the 16 MiB cap)' : ''}`,
    expectation: `echo of the ${size}-byte ${type} message`,
    heavy: size >= 4 * MiB,
    timeoutMs: 40_000,
    async run(t) {
      const payload = type === 'text' ? mixedText(size) : pseudoRandomBytes(size, size);
      const c = await t.open();
      await c.send(frame({ opcode: type === 'text' ? OP.TEXT : OP.BINARY, payload }));
      await expectMessage(t, c, type, payload, BIG_TIMEOUT);
    },
  };
}

function chopCase(id: string, type: 'text' | 'binary', size: number, chop: number): Case {
  return {
    id,
    description: `A ${type} message of ${label(size)} in one frame, written ${chop === 1 ? 'one byte' : label(chop)} per write`,
    expectation: `echo of the ${size}-byte ${type} message`,
    heavy: size >= 4 * MiB,
    timeoutMs: 40_000,
    async run(t) {
      const payload = type === 'text' ? mixedText(size) : pseudoRandomBytes(size, size + chop);
      const c = await t.open();
      await c.sendChopped(frame({ opcode: type === 'text' ? OP.TEXT : OP.BINARY, payload }), chop);
      await expectMessage(t, c, type, payload, BIG_TIMEOUT);
    },
  };
}

function fragmentCase(id: string, type: 'text' | 'binary', size: number, fragmentSize: number): Case {
  const count = Math.ceil(size / fragmentSize);
  return {
    id,
    description: `A ${type} message of ${label(size)} in ${count.toLocaleString('en')} fragments of ${fragmentSize >= KiB ? label(fragmentSize) : `${fragmentSize} bytes`}`,
    expectation: `echo of the whole ${size}-byte ${type} message`,
    heavy: size >= 4 * MiB,
    timeoutMs: 40_000,
    async run(t) {
      const payload = type === 'text' ? mixedText(size) : pseudoRandomBytes(size, fragmentSize);
      const c = await t.open();
      const sizes = Array.from({ length: count }, (_, i) => Math.min(fragmentSize, size - i * fragmentSize));
      await c.send(frames(...fragment(type === 'text' ? OP.TEXT : OP.BINARY, payload, sizes)));
      await expectMessage(t, c, type, payload, BIG_TIMEOUT);
    },
  };
}

const tooBig: Case[] = [
  {
    id: 'L.3.1',
    description: 'A text frame announcing 16 MiB + 1 byte; only its header is sent',
    expectation: 'close 1009 at once, decided from the header (RFC 6455 §10.4, §7.4.1)',
    async run(t) {
      const c = await t.open();
      await c.send(frame({ opcode: OP.TEXT, declaredLength: MAX_PAYLOAD + 1 }));
      await expectFail(t, c, 1009);
    },
  },
  {
    id: 'L.3.2',
    description: 'A binary frame announcing 16 MiB + 1 byte; only its header is sent',
    expectation: 'close 1009 at once',
    async run(t) {
      const c = await t.open();
      await c.send(frame({ opcode: OP.BINARY, declaredLength: MAX_PAYLOAD + 1 }));
      await expectFail(t, c, 1009);
    },
  },
  {
    id: 'L.3.3',
    description: 'A fragmented binary message: 8 MiB sent, then a continuation header announcing 8 MiB + 1 byte',
    expectation: 'close 1009 before the second fragment\'s payload: the cap is on the message, not the frame',
    heavy: true,
    timeoutMs: 40_000,
    async run(t) {
      const c = await t.open();
      await c.send(frames({ opcode: OP.BINARY, fin: false, payload: pseudoRandomBytes(8 * MiB, 3) }, frame({ opcode: OP.CONT, declaredLength: 8 * MiB + 1 })));
      await expectFail(t, c, 1009, BIG_TIMEOUT);
    },
  },
  {
    id: 'L.3.4',
    description: 'A binary frame announcing 2^62 bytes (a legal 64-bit length)',
    expectation: 'close 1009 (too big, not a protocol error), and the server survives',
    async run(t) {
      const c = await t.open();
      await c.send(frame({ opcode: OP.BINARY, declaredLength: 1n << 62n }));
      await expectFail(t, c, 1009);
    },
  },
];

function inFlightCase(id: string, description: string, make: (i: number) => { opcode: number; payload: Buffer }, chunked: boolean): Case {
  return {
    id,
    description,
    expectation: '1,000 answers, in order, each identical to what was sent',
    heavy: true,
    timeoutMs: 40_000,
    async run(t) {
      const c = await t.open();
      const sent = Array.from({ length: 1000 }, (_, i) => make(i));
      const bytes = sent.map((m) => frame(m));
      if (chunked) await Promise.all(bytes.map((b) => c.send(b)));
      else await c.send(Buffer.concat(bytes));
      const kind: Record<number, string> = { [OP.TEXT]: 'text', [OP.BINARY]: 'binary', [OP.PING]: 'pong' };
      let total = 0;
      for (let i = 0; i < sent.length; i++) {
        const e = await c.next(BIG_TIMEOUT);
        const want = kind[sent[i].opcode];
        if (e.type !== want || !('data' in e) || !e.data.equals(sent[i].payload)) {
          throw new Mismatch(`answer ${i + 1} of 1,000: expected ${want} of ${sent[i].payload.length} bytes, got ${describeEvent(e)}`);
        }
        total += e.data.length;
      }
      t.note(`1,000 answers in order (${total.toLocaleString('en')} payload bytes), all identical`);
    },
  };
}

const inFlight: Case[] = [
  inFlightCase('L.6.1', '1,000 text messages of 100 bytes in one write', (i) => ({ opcode: OP.TEXT, payload: Buffer.from(`${String(i).padStart(4, '0')} ${asciiText(95).toString()}`) }), false),
  inFlightCase('L.6.2', '1,000 binary messages of 16 KiB (16 MB), each in its own write, without waiting for answers', (i) => ({ opcode: OP.BINARY, payload: pseudoRandomBytes(16 * KiB, i + 1) }), true),
  inFlightCase('L.6.3', '1,000 pings with distinct payloads in one write', (i) => ({ opcode: OP.PING, payload: Buffer.from(`ping ${i}`) }), false),
  inFlightCase(
    'L.6.4',
    '1,000 text, binary and ping frames of 0 to 2,000 bytes, mixed, in one write',
    (i) => {
      const size = (i * 7919) % 2001;
      const opcode = [OP.TEXT, OP.BINARY, OP.PING][i % 3];
      return { opcode, payload: opcode === OP.PING ? pseudoRandomBytes(size % 126, i + 1) : opcode === OP.TEXT ? mixedText(size) : pseudoRandomBytes(size, i + 1) };
    },
    false,
  ),
];

export const limits: Family = {
  id: 'L',
  title: 'Limits',
  summary: 'RFC 6455 §10.4: messages from 64 KiB up to the 16 MiB cap round-trip in one write, in 1-byte and 64 KiB writes and in up to 65,536 fragments; anything over the cap closes with 1009 from the header alone; 1,000 messages in flight come back in order.',
  cases: [
    ...SIZES.map((n, i) => sizeCase(`L.1.${i + 1}`, 'text', n)),
    ...SIZES.map((n, i) => sizeCase(`L.2.${i + 1}`, 'binary', n)),
    ...tooBig,
    chopCase('L.4.1', 'text', 4 * KiB, 1),
    chopCase('L.4.2', 'binary', 16 * KiB, 1),
    chopCase('L.4.3', 'text', MiB, 64 * KiB),
    chopCase('L.4.4', 'binary', 16 * MiB, 64 * KiB),
    fragmentCase('L.5.1', 'text', MiB, 64 * KiB),
    fragmentCase('L.5.2', 'binary', MiB, KiB),
    fragmentCase('L.5.3', 'binary', 4 * MiB, 64),
    fragmentCase('L.5.4', 'text', 256 * KiB, 4),
    ...inFlight,
  ],
};
