/**
 * 2: ping and pong, RFC 6455 §5.5 (control frames: at most 125 bytes, never
 * fragmented, may be injected between fragments), §5.5.2 (a ping gets a pong
 * with the same payload), §5.5.3 (an unsolicited pong needs no answer).
 */
import { type Case, type Family, expectClose, expectFail, expectMessage, expectPong, expectSilence } from '../case.js';
import { OP, closeBody, frame, frames, pseudoRandomBytes } from '../wire.js';
import { failsAfterValid } from './framing.js';

function pingCase(id: string, description: string, payload: Buffer, chop?: number): Case {
  return {
    id,
    description,
    expectation: `a pong carrying the same ${payload.length}-byte payload`,
    async run(t) {
      const c = await t.open();
      const bytes = frame({ opcode: OP.PING, payload });
      if (chop) await c.sendChopped(bytes, chop);
      else await c.send(bytes);
      await expectPong(t, c, payload);
    },
  };
}

const allBytes = Buffer.from(Array.from({ length: 125 }, (_, i) => (i * 2 + 1) & 0xff));

const cases: Case[] = [
  pingCase('P.2', 'A ping with a 125-byte text payload (the largest allowed)', Buffer.from('x'.repeat(125))),
  pingCase('P.3', 'A ping with a 125-byte binary payload including 00 and FF', Buffer.concat([Buffer.from([0, 0xff]), allBytes.subarray(2)])),
  pingCase('P.5', 'A 125-byte ping written one byte per write', pseudoRandomBytes(125, 25), 1),
  {
    id: 'P.6',
    description: 'An unsolicited pong with an empty payload, then a text message',
    expectation: 'no answer to the pong (RFC 6455 §5.5.3); the text is echoed',
    async run(t) {
      const c = await t.open();
      const text = Buffer.from('after the pong');
      await c.send(frames({ opcode: OP.PONG }, { opcode: OP.TEXT, payload: text }));
      await expectMessage(t, c, 'text', text);
      await expectSilence(t, c, 200, 'nothing more');
    },
  },
  {
    id: 'P.7',
    description: 'An unsolicited pong with a 125-byte payload, then a text message',
    expectation: 'no answer to the pong; the text is echoed',
    async run(t) {
      const c = await t.open();
      const text = Buffer.from('after the pong');
      await c.send(frames({ opcode: OP.PONG, payload: allBytes }, { opcode: OP.TEXT, payload: text }));
      await expectMessage(t, c, 'text', text);
      await expectSilence(t, c, 200, 'nothing more');
    },
  },
  {
    id: 'P.8',
    description: 'Ten pings in one write, each with its own payload',
    expectation: 'ten pongs, in order, each with its ping\'s payload',
    async run(t) {
      const c = await t.open();
      const payloads = Array.from({ length: 10 }, (_, i) => Buffer.from(`ping number ${i}`));
      await c.send(frames(...payloads.map((payload) => ({ opcode: OP.PING, payload }))));
      for (const p of payloads) await expectPong(t, c, p);
    },
  },
  {
    id: 'P.9',
    description: 'Pings interleaved with the fragments of a text message (text, ping, continuation, ping, final continuation)',
    expectation: 'two pongs, then the echo of the whole message (RFC 6455 §5.4: control frames MAY be injected between fragments)',
    async run(t) {
      const c = await t.open();
      await c.send(
        frames(
          { opcode: OP.TEXT, fin: false, payload: 'Hello, ' },
          { opcode: OP.PING, payload: 'first' },
          { opcode: OP.CONT, fin: false, payload: 'fragmented ' },
          { opcode: OP.PING, payload: 'second' },
          { opcode: OP.CONT, fin: true, payload: 'world' },
        ),
      );
      await expectPong(t, c, Buffer.from('first'));
      await expectPong(t, c, Buffer.from('second'));
      await expectMessage(t, c, 'text', Buffer.from('Hello, fragmented world'));
    },
  },
  {
    id: 'P.10',
    description: 'Pings between fragments, each fragment and ping in its own write 10 ms apart',
    expectation: 'each pong as soon as its ping arrives, before the message ends; then the echo',
    async run(t) {
      const c = await t.open();
      await c.send(frame({ opcode: OP.BINARY, fin: false, payload: Buffer.from([1, 2]) }));
      await c.send(frame({ opcode: OP.PING, payload: 'one' }));
      await expectPong(t, c, Buffer.from('one'));
      await c.send(frame({ opcode: OP.CONT, fin: false, payload: Buffer.from([3]) }));
      await c.send(frame({ opcode: OP.PING, payload: 'two' }));
      await expectPong(t, c, Buffer.from('two'));
      await c.send(frame({ opcode: OP.CONT, fin: true, payload: Buffer.from([4]) }));
      await expectMessage(t, c, 'binary', Buffer.from([1, 2, 3, 4]));
    },
  },
  {
    id: 'P.11',
    description: 'A ping and then a close in one write',
    expectation: 'the pong first, then close 1000 and TCP close',
    async run(t) {
      const c = await t.open();
      await c.send(frames({ opcode: OP.PING, payload: 'before close' }, { opcode: OP.CLOSE, payload: closeBody(1000) }));
      await expectPong(t, c, Buffer.from('before close'));
      await expectClose(t, c, [1000]);
    },
  },
  {
    id: 'P.12',
    description: 'A fragmented ping (FIN clear)',
    expectation: 'close 1002 without a pong (RFC 6455 §5.5: control frames MUST NOT be fragmented)',
    run: (t) => failsAfterValid(t, { opcode: OP.PING, fin: false, payload: 'fragmented' }),
  },
  {
    id: 'P.13',
    description: 'A ping whose 125-byte length is written in the 16-bit form',
    expectation: 'close 1002 (RFC 6455 §5.5: control frames use the 7-bit length)',
    run: (t) => failsAfterValid(t, { opcode: OP.PING, payload: Buffer.alloc(125, 0x61), lengthForm: 16 }),
  },
  {
    id: 'P.14',
    description: 'A pong with a 126-byte payload',
    expectation: 'close 1002 (RFC 6455 §5.5)',
    async run(t) {
      const c = await t.open();
      await c.send(frame({ opcode: OP.PONG, payload: Buffer.alloc(126, 0x71) }));
      await expectFail(t, c, 1002);
    },
  },
];

export const pingpong: Family = {
  id: 'P',
  title: 'Ping and pong',
  summary: 'RFC 6455 §5.5-5.5.3: pings are answered with the same payload (0 to 125 bytes), even between fragments; unsolicited pongs are ignored; over-long or fragmented control frames fail with 1002.',
  cases,
};
