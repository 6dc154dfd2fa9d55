/**
 * 7: the closing handshake, RFC 6455 §5.5.1 (close frames: optional 2-byte
 * code, then a UTF-8 reason; answer a close with a close; send nothing after
 * it), §7.1.1 (the server closes the TCP connection first), §7.4 (status
 * codes and which may appear on the wire) and the IANA "WebSocket Close Code
 * Number Registry" (§11.7), which registers 1012-1014 after the RFC.
 */
import { type Case, type CaseContext, type Family, Mismatch, Unimplemented, describeEvent, expectClose, expectMessage, expectPong, expectServing, expectTcpClose } from '../case.js';
import { type Conn, sleep } from '../client.js';
import { OP, closeBody, frame, frames } from '../wire.js';

const u = (s: string) => Buffer.from(s, 'utf8');

function closeCase(id: string, description: string, payload: Buffer, want: (number | undefined)[], why: string, chop?: number): Case {
  return {
    id,
    description,
    expectation: `${want.map((c) => (c === undefined ? 'close with no status code' : `close ${c}`)).join(' or ')}, then TCP close (${why})`,
    async run(t) {
      const c = await t.open();
      const bytes = frame({ opcode: OP.CLOSE, payload });
      if (chop) await c.sendChopped(bytes, chop);
      else await c.send(bytes);
      await expectClose(t, c, want);
    },
  };
}

const reason123 = Buffer.alloc(123, 0x72);
// 123 bytes of 2-, 3- and 4-byte characters: 40 × "é" (80) + 9 × "€" (27) + 4 × "𝄞" (16) = 123.
const reasonUtf8 = u('é'.repeat(40) + '€'.repeat(9) + '𝄞'.repeat(4));

const basic: Case[] = [
  closeCase('C.1.4', 'Close 1000 with a 123-byte reason of 2-, 3- and 4-byte UTF-8 characters', closeBody(1000, reasonUtf8), [1000], 'a valid UTF-8 reason'),
  closeCase('C.1.7', 'Close 1000 with a reason containing the byte FF', closeBody(1000, Buffer.concat([u('bad '), Buffer.from([0xff])])), [1007], 'RFC 6455 §5.5.1, §8.1: the reason is UTF-8'),
  closeCase('C.1.8', 'Close 1000 with a reason cut inside a 3-byte character', closeBody(1000, Buffer.concat([u('cut '), Buffer.from([0xe2, 0x82])])), [1007], 'RFC 6455 §8.1'),
  closeCase('C.1.9', 'Close 1000 with a reason containing the surrogate U+D800', closeBody(1000, Buffer.from([0xed, 0xa0, 0x80])), [1007], 'RFC 3629: surrogates are not UTF-8'),
  closeCase('C.1.10', 'Close 1000 written one byte per write', closeBody(1000, u('slowly')), [1000], 'the close frame may arrive in pieces', 1),
];

const afterClose: Case[] = [
  {
    id: 'C.2.1',
    description: 'A close frame followed by a text message in the same write',
    expectation: 'close 1000 and TCP close; the text is not echoed (RFC 6455 §5.5.1: no data after a close)',
    async run(t) {
      const c = await t.open();
      await c.send(frames({ opcode: OP.CLOSE, payload: closeBody(1000) }, { opcode: OP.TEXT, payload: 'after close' }));
      await expectClose(t, c, [1000]);
    },
  },
  {
    id: 'C.2.2',
    description: 'A close frame followed by a ping in the same write',
    expectation: 'close 1000 and TCP close; no pong',
    async run(t) {
      const c = await t.open();
      await c.send(frames({ opcode: OP.CLOSE, payload: closeBody(1000) }, { opcode: OP.PING, payload: 'after close' }));
      await expectClose(t, c, [1000]);
    },
  },
  {
    id: 'C.2.4',
    description: 'A close frame followed by a frame with a reserved opcode',
    expectation: 'close 1000, not 1002: nothing after the close is processed',
    async run(t) {
      const c = await t.open();
      await c.send(frames({ opcode: OP.CLOSE, payload: closeBody(1000) }, { opcode: 0x7, payload: 'x' }));
      await expectClose(t, c, [1000]);
    },
  },
  {
    id: 'C.2.5',
    description: 'A text message sent after the server\'s close arrived, before answering it',
    expectation: 'no echo; close 1000 and TCP close',
    async run(t) {
      const c = await t.open();
      await c.send(frame({ opcode: OP.CLOSE, payload: closeBody(1000) }));
      const e = await c.next();
      if (e.type !== 'close' || e.code !== 1000) throw new Mismatch(`expected close 1000, got ${describeEvent(e)}`);
      t.note('close 1000');
      await c.send(frame({ opcode: OP.TEXT, payload: 'too late' }));
      const f = await c.next();
      if (f.type !== 'eof') throw new Mismatch(`expected only TCP close after the close, got ${describeEvent(f)}`);
      t.note('then TCP close, no echo');
    },
  },
  {
    id: 'C.2.6',
    description: 'A valid message, then a close 3000 with a reason',
    expectation: 'echo of the message, then close 3000 (or 1000) and TCP close',
    async run(t) {
      const c = await t.open();
      const text = u('last words');
      await c.send(frames({ opcode: OP.TEXT, payload: text }, { opcode: OP.CLOSE, payload: closeBody(3000, 'application reason') }));
      await expectMessage(t, c, 'text', text);
      await expectClose(t, c, [3000, 1000]);
    },
  },
];

const abrupt: Case[] = [
  {
    id: 'C.3.1',
    description: 'A client that closes TCP (FIN) right after the handshake, without a close frame',
    expectation: 'the server closes its side too and keeps serving new connections',
    async run(t) {
      const c = await t.open();
      c.end();
      const e = await c.next();
      if (e.type !== 'eof') throw new Mismatch(`expected TCP close by the server, got ${describeEvent(e)}`);
      t.note('TCP close by the server');
      await expectServing(t);
    },
  },
  {
    id: 'C.3.2',
    description: 'A client that resets the connection (TCP RST) right after the handshake',
    expectation: 'the server keeps serving new connections',
    async run(t) {
      const c = await t.open();
      c.destroy(true);
      await sleep(20);
      await expectServing(t);
    },
  },
  {
    id: 'C.3.3',
    description: 'Half a frame, then the client closes TCP',
    expectation: 'the server closes its side and keeps serving new connections',
    async run(t) {
      const c = await t.open();
      const bytes = frame({ opcode: OP.TEXT, payload: 'never finished' });
      await c.send(bytes.subarray(0, 9));
      c.end();
      const e = await c.next();
      if (e.type !== 'eof') throw new Mismatch(`expected TCP close by the server, got ${describeEvent(e)}`);
      t.note('TCP close by the server');
      await expectServing(t);
    },
  },
  {
    id: 'C.3.4',
    description: 'A close frame immediately followed by the client\'s TCP FIN',
    expectation: 'close 1000 (the server still answers), then TCP close',
    async run(t) {
      const c = await t.open();
      await c.send(frame({ opcode: OP.CLOSE, payload: closeBody(1000) }));
      c.end();
      await expectClose(t, c, [1000]);
    },
  },
  {
    id: 'C.3.5',
    description: '100 connections that handshake and vanish at once (50 with FIN, 50 with RST)',
    expectation: 'the server keeps serving new connections',
    async run(t) {
      await Promise.all(
        Array.from({ length: 100 }, async (_, i) => {
          const c = await t.open({ label: `vanishing ${i + 1}` });
          if (i % 2) c.destroy(true);
          else c.end();
        }),
      );
      t.note('100 connections opened and dropped');
      await sleep(50);
      await expectServing(t);
    },
  },
];

// Status codes (RFC 6455 §7.4.1-7.4.2, IANA registry).

type Range = { from: number; to: number; valid: boolean; why: string };

/** Send close `code` pipelined with the handshake; undefined if the server did what `valid` requires. */
async function probeCode(t: CaseContext, code: number, valid: boolean): Promise<string | undefined> {
  let c: Conn;
  try {
    // A wide margin: thousands of handshakes in a row on a busy machine.
    c = await t.open({ label: `code ${code}`, pipelined: frame({ opcode: OP.CLOSE, payload: closeBody(code) }), responseTimeoutMs: 20_000 });
  } catch (error) {
    if (error instanceof Mismatch) return `${code}: no handshake (${error.message})`;
    throw error;
  }
  try {
    const e = await c.next(20_000);
    if (e.type !== 'close') return `${code}: ${describeEvent(e)}`;
    const ok = valid ? e.code === code || e.code === 1000 : e.code === 1002;
    if (!ok) return `${code}: ${describeEvent(e)}`;
    const f = await c.next(20_000);
    if (f.type !== 'eof') return `${code}: ${describeEvent(f)} instead of TCP close`;
    return undefined;
  } finally {
    // Over HTTP/2 a reset per code would look like a rapid-reset flood (CVE-2023-44487), which servers
    // answer with GOAWAY: once the server has ended its side, end ours too (its stream then closes cleanly).
    if (c.eof) c.end();
    else c.destroy();
  }
}

const RANGE_CONCURRENCY = 24;

function rangeCase(id: string, range: Range): Case {
  const count = range.to - range.from + 1;
  const span = count === 1 ? `${range.from}` : `${range.from}-${range.to}`;
  return {
    id,
    description: `Close with every status code ${span} (${count} code${count > 1 ? 's' : ''}, one connection each): ${range.why}`,
    expectation: range.valid ? 'each is answered with close echoing the code (or 1000), then TCP close' : 'each fails the connection: close 1002, then TCP close',
    // Thousands of connections each: one range at a time, with a limit for a busy machine.
    heavy: count > 1000,
    timeoutMs: 180_000,
    async run(t: CaseContext) {
      const failures: string[] = [];
      // The first two codes run on logged connections (the first two a case opens), the rest unlogged.
      const first = await probeCode(t, range.from, range.valid);
      if (first) failures.push(first);
      let next = range.from + 1;
      await Promise.all(
        Array.from({ length: Math.min(RANGE_CONCURRENCY, count - 1) }, async () => {
          while (next <= range.to) {
            const code = next++;
            const failure = await probeCode(t, code, range.valid);
            if (failure) failures.push(failure);
          }
        }),
      );
      if (failures.length) {
        failures.sort((a, b) => parseInt(a, 10) - parseInt(b, 10));
        throw new Mismatch(`${failures.length} of ${count} codes differ: ${failures.slice(0, 6).join('; ')}${failures.length > 6 ? '; …' : ''}`);
      }
      t.note(range.valid ? `all ${count} codes answered with a close echoing the code, then TCP close` : `all ${count} codes answered with close 1002, then TCP close`);
    },
  };
}

const RANGES: Range[] = [
  { from: 0, to: 999, valid: false, why: 'unused (RFC 6455 §7.4.2)' },
  { from: 1000, to: 1003, valid: true, why: 'normal, going away, protocol error, unsupported data (§7.4.1)' },
  { from: 1004, to: 1004, valid: false, why: 'reserved (§7.4.1)' },
  { from: 1005, to: 1006, valid: false, why: 'MUST NOT be set in a close frame (§7.4.1)' },
  { from: 1007, to: 1011, valid: true, why: 'invalid payload, policy, too big, extension, internal error (§7.4.1)' },
  { from: 1012, to: 1014, valid: true, why: 'service restart, try again later, bad gateway (IANA registry, §11.7)' },
  { from: 1015, to: 1015, valid: false, why: 'TLS handshake failure, MUST NOT be set in a close frame (§7.4.1)' },
  { from: 1016, to: 2999, valid: false, why: 'reserved for future protocol revisions, unassigned (§7.4.2)' },
  { from: 3000, to: 3999, valid: true, why: 'registered for libraries and frameworks (§7.4.2)' },
  { from: 4000, to: 4999, valid: true, why: 'private use (§7.4.2)' },
  { from: 5000, to: 20_000, valid: false, why: 'not defined by RFC 6455' },
  { from: 20_001, to: 35_000, valid: false, why: 'not defined by RFC 6455' },
  { from: 35_001, to: 50_000, valid: false, why: 'not defined by RFC 6455' },
  { from: 50_001, to: 65_535, valid: false, why: 'not defined by RFC 6455' },
];

/** How long C.5.1 waits for the server to close first on its own. */
const SERVER_FIRST_WAIT_MS = 3_000;

/**
 * RFC 6455 §5.5.1 and §5.5.2 when the server closes first: after its Close
 * no data frames, and pings are still answered until ours. The trigger is a
 * message left unfinished: a server with a deadline for finishing a message
 * (strictws: --message-timeout) closes first. One that does not close within
 * SERVER_FIRST_WAIT_MS leaves nothing to check (UNIMPLEMENTED).
 */
const serverFirst: Case[] = [
  {
    id: 'C.5.1',
    description: `A text message left unfinished until the server closes first (waiting up to ${SERVER_FIRST_WAIT_MS} ms); then a ping, the rest of the message, a ping, our Close`,
    expectation: 'the server closes first; each ping after its Close gets its pong and the finished message no echo (RFC 6455 §5.5.1, §5.5.2); after our Close, TCP close. A server that does not close first: UNIMPLEMENTED',
    slow: true,
    async run(t) {
      const c = await t.open();
      await c.send(frame({ opcode: OP.TEXT, payload: 'never finished ', fin: false }));
      const e = await c.next(SERVER_FIRST_WAIT_MS);
      if (e.type === 'timeout') throw new Unimplemented(`the server did not close within ${SERVER_FIRST_WAIT_MS} ms of an unfinished message: nothing to check`);
      if (e.type !== 'close') throw new Mismatch(`expected the server's close, got ${describeEvent(e)}`);
      t.note(describeEvent(e));
      await c.send(frame({ opcode: OP.PING, payload: 'still there?' }));
      await expectPong(t, c, u('still there?'));
      await c.send(frames({ opcode: OP.CONT, payload: 'in time' }, { opcode: OP.PING, payload: 'and now?' }));
      await expectPong(t, c, u('and now?'));
      await c.send(frame({ opcode: OP.CLOSE, payload: closeBody(e.code ?? 1000) }));
      await expectTcpClose(t, c);
    },
  },
];

export const close: Family = {
  id: 'C',
  title: 'Close',
  summary: 'RFC 6455 §5.5.1, §5.5.2, §7: closes with and without a body, reasons of 0 and 123 bytes, over-long and invalid UTF-8 reasons, nothing processed after a close, abrupt TCP closes and resets, every status code 0-65535 on its own connection, valid ones echoed and the rest failed with 1002, and pings answered after the server closes first.',
  cases: [...basic, ...afterClose, ...abrupt, ...RANGES.map((r, i) => rangeCase(`C.4.${i + 1}`, r)), ...serverFirst],
};
