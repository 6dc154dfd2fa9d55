/**
 * 1: base framing, RFC 6455 §5.2 (lengths in 7, 16 and 64 bits), §5.3
 * (client masking), §5.6 (text and binary data frames).
 */
import { type Case, type CaseContext, type Family, expectFail, expectMessage } from '../case.js';
import { OP, type FrameSpec, asciiText, frame, frames, pseudoRandomBytes } from '../wire.js';

const MIB = 1024 * 1024;
const BYTE_BY_BYTE_SIZES = [0, 125, 126, 127, 128];

function lengthNote(n: number): string {
  if (n < 126) return '7-bit length';
  if (n < 65536) return '16-bit extended length';
  return '64-bit extended length';
}

function label(n: number): string {
  return n === 1024 * 1024 ? '1 MiB (1,048,576 bytes)' : `${n} bytes`;
}

function echoCase(id: string, type: 'text' | 'binary', size: number, chop: number | undefined): Case {
  const how = chop ? 'written one byte per write' : 'in one write';
  return {
    id,
    description: `A ${type} message of ${label(size)} (${lengthNote(size)}), ${how}`,
    expectation: `echo of the ${size}-byte ${type} message, unmasked, with the minimal length encoding`,
    heavy: size >= 1024 * 1024,
    async run(t) {
      const payload = type === 'text' ? asciiText(size) : pseudoRandomBytes(size, size + 1);
      const c = await t.open();
      const bytes = frame({ opcode: type === 'text' ? OP.TEXT : OP.BINARY, payload });
      if (chop) await c.sendChopped(bytes, chop);
      else await c.send(bytes);
      await expectMessage(t, c, type, payload, 15_000);
    },
  };
}

/** Send `bad` (after a valid text message, followed by a ping) and expect the echo, then close `code`. */
export async function failsAfterValid(t: CaseContext, bad: Buffer | FrameSpec, code = 1002): Promise<void> {
  const c = await t.open();
  const before = Buffer.from('valid message before');
  await c.send(frames({ opcode: OP.TEXT, payload: before }, bad, { opcode: OP.PING, payload: 'ping after' }));
  await expectMessage(t, c, 'text', before);
  await expectFail(t, c, code);
}

const encodings: Case[] = [
  {
    id: 'F.5.1',
    description: 'An unmasked text frame from the client',
    expectation: 'close 1002, then TCP close (RFC 6455 §5.1: a server MUST close on an unmasked frame)',
    run: (t) => failsAfterValid(t, { opcode: OP.TEXT, payload: 'unmasked', mask: false }),
  },
  {
    id: 'F.5.2',
    description: 'An unmasked ping from the client',
    expectation: 'close 1002 without a pong, then TCP close (RFC 6455 §5.1)',
    run: (t) => failsAfterValid(t, { opcode: OP.PING, payload: 'unmasked', mask: false }),
  },
  {
    id: 'F.5.3',
    description: 'A 100-byte text frame whose length is written in the 16-bit form',
    expectation: 'close 1002 (RFC 6455 §5.2: the minimal number of bytes MUST be used for the length)',
    run: (t) => failsAfterValid(t, { opcode: OP.TEXT, payload: asciiText(100), lengthForm: 16 }),
  },
  {
    id: 'F.5.4',
    description: 'A 200-byte binary frame whose length is written in the 64-bit form',
    expectation: 'close 1002 (RFC 6455 §5.2: minimal length encoding)',
    run: (t) => failsAfterValid(t, { opcode: OP.BINARY, payload: pseudoRandomBytes(200), lengthForm: 64 }),
  },
  {
    id: 'F.5.5',
    description: 'A 64-bit length with its most significant bit set',
    expectation: 'close 1002 (RFC 6455 §5.2: the most significant bit MUST be 0)',
    run: (t) => failsAfterValid(t, frame({ opcode: OP.BINARY, declaredLength: 0x8000000000000010n }).subarray(0, 14)),
  },
  {
    id: 'F.5.6',
    description: 'Three text and binary messages in one write',
    expectation: 'three echoes in order',
    async run(t) {
      const c = await t.open();
      const a = Buffer.from('first');
      const b = pseudoRandomBytes(300, 7);
      const d = asciiText(70000);
      await c.send(frames({ opcode: OP.TEXT, payload: a }, { opcode: OP.BINARY, payload: b }, { opcode: OP.TEXT, payload: d }));
      await expectMessage(t, c, 'text', a);
      await expectMessage(t, c, 'binary', b);
      await expectMessage(t, c, 'text', d);
    },
  },
  {
    id: 'F.5.7',
    description: 'A frame masked with the all-zero key 00 00 00 00',
    expectation: 'echo: any 32-bit key is a valid masking key (RFC 6455 §5.3)',
    async run(t) {
      const c = await t.open();
      const payload = Buffer.from('zero mask');
      await c.send(frame({ opcode: OP.TEXT, payload, mask: Buffer.alloc(4) }));
      await expectMessage(t, c, 'text', payload);
    },
  },
  {
    id: 'F.5.8',
    description: 'A binary frame with every byte value 00-FF, split in two writes inside the 16-bit length',
    expectation: 'echo of the 256-byte binary message (a header may span TCP segments)',
    async run(t) {
      const c = await t.open();
      const payload = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const bytes = frame({ opcode: OP.BINARY, payload });
      await c.send(bytes.subarray(0, 3));
      await c.send(bytes.subarray(3));
      await expectMessage(t, c, 'binary', payload);
    },
  },
];

export const framing: Family = {
  id: 'F',
  title: 'Framing',
  summary: 'RFC 6455 §5.2-5.3, §5.6: text and binary messages at every length-encoding boundary (0 to 1 MiB), in one write and byte by byte; unmasked frames and non-minimal or out-of-range lengths fail with 1002.',
  cases: [
    // Messages of 0 to 65,536 bytes in one write are Autobahn's 1.1.1-1.1.7 and 1.2.1-1.2.7.
    echoCase('F.1.1', 'text', MIB, undefined),
    echoCase('F.2.1', 'binary', MIB, undefined),
    ...BYTE_BY_BYTE_SIZES.map((n, i) => echoCase(`F.3.${i + 1}`, 'text', n, 1)),
    ...BYTE_BY_BYTE_SIZES.map((n, i) => echoCase(`F.4.${i + 1}`, 'binary', n, 1)),
    ...encodings,
  ],
};
