/**
 * 5: fragmentation, RFC 6455 §5.4: a message is a first frame with its
 * opcode and FIN clear, zero or more continuations, and a final frame with
 * FIN set; control frames may come between fragments but are never
 * fragmented; fragments of different messages must not interleave.
 */
import { type Case, type CaseContext, type Family, expectClose, expectFail, expectMessage, expectPong, expectSilence } from '../case.js';
import { OP, type FrameSpec, asciiText, closeBody, frame, frames, pseudoRandomBytes } from '../wire.js';

/** Fragments of `payload` with the given sizes: first frame `opcode`, then continuations, FIN on the last. */
export function fragment(opcode: number, payload: Buffer, sizes: number[]): FrameSpec[] {
  const out: FrameSpec[] = [];
  let at = 0;
  sizes.forEach((size, i) => {
    out.push({ opcode: i === 0 ? opcode : OP.CONT, fin: i === sizes.length - 1, payload: payload.subarray(at, at + size) });
    at += size;
  });
  return out;
}

function echoCase(id: string, description: string, type: 'text' | 'binary', payload: Buffer, specs: FrameSpec[], chop?: number): Case {
  return {
    id,
    description,
    expectation: `echo of the whole ${payload.length}-byte ${type} message`,
    async run(t) {
      const c = await t.open();
      const bytes = frames(...specs);
      if (chop) await c.sendChopped(bytes, chop);
      else await c.send(bytes);
      await expectMessage(t, c, type, payload);
    },
  };
}

function failCase(id: string, description: string, why: string, specs: (FrameSpec | Buffer)[], afterEcho?: Buffer): Case {
  return {
    id,
    description,
    expectation: `${afterEcho ? 'echo of the first message, then ' : ''}close 1002, then TCP close (${why})`,
    async run(t: CaseContext) {
      const c = await t.open();
      await c.send(frames(...specs));
      if (afterEcho) await expectMessage(t, c, 'text', afterEcho);
      await expectFail(t, c, 1002);
    },
  };
}

const hello = Buffer.from('Hello, fragmented world!');
const bin = pseudoRandomBytes(3000, 55);
const hundred = asciiText(100);

const cases: Case[] = [
  echoCase('M.2', 'A binary message in two fragments', 'binary', bin, fragment(OP.BINARY, bin, [1000, 2000])),
  {
    id: 'M.3',
    description: 'A text message in three fragments, each in its own write 20 ms apart',
    expectation: 'one echo of the whole message, after the last fragment',
    async run(t) {
      const c = await t.open();
      const parts = fragment(OP.TEXT, hello, [5, 10, 9]);
      await c.send(frame(parts[0]));
      await c.send(frame(parts[1]));
      await expectSilence(t, c, 20, 'no echo before the final fragment');
      await c.send(frame(parts[2]));
      await expectMessage(t, c, 'text', hello);
    },
  },
  echoCase('M.4', 'A 100-byte text message in 100 one-byte fragments', 'text', hundred, fragment(OP.TEXT, hundred, Array(100).fill(1))),
  echoCase('M.5', 'A text message made only of empty fragments (first, continuation, final)', 'text', Buffer.alloc(0), [
    { opcode: OP.TEXT, fin: false },
    { opcode: OP.CONT, fin: false },
    { opcode: OP.CONT, fin: true },
  ]),
  echoCase('M.6', 'A binary message with empty fragments between non-empty ones', 'binary', bin, [
    { opcode: OP.BINARY, fin: false },
    { opcode: OP.CONT, fin: false, payload: bin.subarray(0, 1500) },
    { opcode: OP.CONT, fin: false },
    { opcode: OP.CONT, fin: true, payload: bin.subarray(1500) },
  ]),
  echoCase('M.7', 'A text message in three fragments, all written one byte per write', 'text', hello, fragment(OP.TEXT, hello, [3, 11, 10]), 1),
  {
    id: 'M.8',
    description: 'A ping and a pong between the fragments of a binary message',
    expectation: 'one pong (for the ping only), then the echo of the whole message',
    async run(t) {
      const c = await t.open();
      const [a, b] = fragment(OP.BINARY, bin, [1000, 2000]);
      await c.send(frames(a, { opcode: OP.PONG, payload: 'unsolicited' }, { opcode: OP.PING, payload: 'ping' }, b));
      await expectPong(t, c, Buffer.from('ping'));
      await expectMessage(t, c, 'binary', bin);
    },
  },
  {
    id: 'M.9',
    description: 'A close frame between the fragments of a text message',
    expectation: 'close 1000 and TCP close; the unfinished message is never delivered (RFC 6455 §5.4, §1.4)',
    async run(t) {
      const c = await t.open();
      const [a, b] = fragment(OP.TEXT, hello, [5, 19]);
      await c.send(frames(a, { opcode: OP.CLOSE, payload: closeBody(1000) }, b));
      await expectClose(t, c, [1000]);
    },
  },
  failCase('M.10', 'A continuation frame (FIN set) with no message to continue', 'RFC 6455 §5.4', [{ opcode: OP.CONT, fin: true, payload: 'orphan' }]),
  failCase('M.11', 'A continuation frame (FIN clear) with no message to continue', 'RFC 6455 §5.4', [{ opcode: OP.CONT, fin: false, payload: 'orphan' }]),
  failCase('M.12', 'A continuation after a complete message', 'the message already ended', [{ opcode: OP.TEXT, payload: 'complete' }, { opcode: OP.CONT, fin: true, payload: 'orphan' }], Buffer.from('complete')),
  failCase('M.13', 'A new text frame (FIN set) before the previous text message\'s final fragment', 'RFC 6455 §5.4: fragments of one message MUST NOT be interleaved', [
    { opcode: OP.TEXT, fin: false, payload: 'first ' },
    { opcode: OP.TEXT, fin: true, payload: 'second' },
  ]),
  failCase('M.14', 'A binary frame inside a fragmented text message', 'RFC 6455 §5.4', [
    { opcode: OP.TEXT, fin: false, payload: 'first ' },
    { opcode: OP.BINARY, fin: true, payload: Buffer.from([1, 2]) },
  ]),
  failCase('M.15', 'A text frame with FIN clear inside a fragmented binary message', 'RFC 6455 §5.4', [
    { opcode: OP.BINARY, fin: false, payload: Buffer.from([1]) },
    { opcode: OP.TEXT, fin: false, payload: 'nested' },
    { opcode: OP.CONT, fin: true, payload: 'end' },
  ]),
  failCase('M.16', 'A fragmented pong (FIN clear) followed by a continuation', 'RFC 6455 §5.5: control frames MUST NOT be fragmented', [
    { opcode: OP.PONG, fin: false, payload: 'part one' },
    { opcode: OP.CONT, fin: true, payload: 'part two' },
  ]),
  failCase('M.17', 'A fragmented close (FIN clear)', 'RFC 6455 §5.5', [{ opcode: OP.CLOSE, fin: false, payload: closeBody(1000) }]),
  failCase('M.18', 'A fragmented ping inside a fragmented text message', 'RFC 6455 §5.5', [
    { opcode: OP.TEXT, fin: false, payload: 'frag' },
    { opcode: OP.PING, fin: false, payload: 'ping' },
    { opcode: OP.CONT, fin: true, payload: 'ment' },
  ]),
];

export const fragmentation: Family = {
  id: 'M',
  title: 'Fragmentation',
  summary: 'RFC 6455 §5.4: messages in 2 to 100 fragments, empty fragments, fragments in separate writes; control frames between fragments; orphan continuations, interleaved messages and fragmented control frames fail with 1002.',
  cases,
};
