/**
 * 6: UTF-8, RFC 6455 §5.6 and §8.1: text messages MUST be valid UTF-8
 * (RFC 3629), and "When an endpoint is to interpret a byte stream as UTF-8
 * but finds that the byte stream is not, in fact, a valid UTF-8 stream, that
 * endpoint MUST _Fail the WebSocket Connection_" (1007, §7.4.1). Invalid
 * input is sent whole, fragmented at every byte, and cut off right after the
 * first invalid byte (inside a frame, and inside a fragmented message) to
 * check that the server fails fast instead of waiting for the rest.
 */
import { type Case, type Family, expectFail, expectMessage } from '../case.js';
import { OP, type FrameSpec, frame, frames, utf8Check } from '../wire.js';

interface Sample {
  name: string;
  bytes: Buffer;
}

const h = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const u = (s: string) => Buffer.from(s, 'utf8');
const cat = (...parts: Buffer[]) => Buffer.concat(parts);

const VALID: Sample[] = [
  { name: 'the empty string', bytes: Buffer.alloc(0) },
  { name: 'ASCII "Hello-World"', bytes: u('Hello-World') },
  { name: 'Greek "κόσμε" (2- and 3-byte characters)', bytes: u('κόσμε') },
  { name: 'mixed "Hello-µ@ßöäüàá-UTF-8!!"', bytes: u('Hello-µ@ßöäüàá-UTF-8!!') },
  { name: 'U+0000 NUL', bytes: h('00') },
  { name: 'U+007F, the last 1-byte character', bytes: h('7f') },
  { name: 'U+0080, the first 2-byte character', bytes: h('c2 80') },
  { name: 'U+07FF, the last 2-byte character', bytes: h('df bf') },
  { name: 'U+0800, the first 3-byte character', bytes: h('e0 a0 80') },
  { name: 'U+D7FF, the last character before the surrogates', bytes: h('ed 9f bf') },
  { name: 'U+E000, the first character after the surrogates', bytes: h('ee 80 80') },
  { name: 'U+FEFF, a byte order mark', bytes: h('ef bb bf') },
  { name: 'U+FFFD, the replacement character', bytes: h('ef bf bd') },
  { name: 'noncharacters U+FFFE and U+FFFF (valid UTF-8)', bytes: h('ef bf be ef bf bf') },
  { name: 'U+10000, the first 4-byte character', bytes: h('f0 90 80 80') },
  { name: 'U+1F600, an emoji', bytes: h('f0 9f 98 80') },
  { name: 'U+10FFFF, the last code point', bytes: h('f4 8f bf bf') },
  { name: 'every length of character in a row', bytes: u('a\u00e9\u20ac\u{1d11e}z') },
];

const INVALID: Sample[] = [
  { name: 'a lone continuation byte 80', bytes: h('80') },
  { name: 'a lone continuation byte BF', bytes: h('bf') },
  { name: 'continuation bytes after ASCII', bytes: cat(u('He'), h('80 bf')) },
  { name: 'an overlong U+0000 in 2 bytes (C0 80)', bytes: h('c0 80') },
  { name: 'an overlong "/" in 2 bytes (C0 AF)', bytes: h('c0 af') },
  { name: 'an overlong U+007F in 2 bytes (C1 BF)', bytes: h('c1 bf') },
  { name: 'an overlong U+0000 in 3 bytes (E0 80 80)', bytes: h('e0 80 80') },
  { name: 'an overlong U+07FF in 3 bytes (E0 9F BF)', bytes: h('e0 9f bf') },
  { name: 'an overlong U+0000 in 4 bytes (F0 80 80 80)', bytes: h('f0 80 80 80') },
  { name: 'an overlong U+FFFF in 4 bytes (F0 8F BF BF)', bytes: h('f0 8f bf bf') },
  { name: 'the surrogate U+D800', bytes: h('ed a0 80') },
  { name: 'the surrogate U+DB7F', bytes: h('ed ad bf') },
  { name: 'the surrogate U+DBFF', bytes: h('ed af bf') },
  { name: 'the surrogate U+DC00', bytes: h('ed b0 80') },
  { name: 'the surrogate U+DFFF', bytes: h('ed bf bf') },
  { name: 'a surrogate pair U+D800 U+DC00 encoded as two characters (CESU-8)', bytes: h('ed a0 80 ed b0 80') },
  { name: 'U+110000, above U+10FFFF (F4 90 80 80)', bytes: h('f4 90 80 80') },
  { name: 'U+13FFFF (F4 BF BF BF)', bytes: h('f4 bf bf bf') },
  { name: 'the start byte F5', bytes: h('f5 80 80 80') },
  { name: 'U+1FFFFF in 4 bytes (F7 BF BF BF)', bytes: h('f7 bf bf bf') },
  { name: 'a 5-byte sequence (F8 88 80 80 80)', bytes: h('f8 88 80 80 80') },
  { name: 'a 6-byte sequence (FC 84 80 80 80 80)', bytes: h('fc 84 80 80 80 80') },
  { name: 'the byte FE', bytes: h('fe') },
  { name: 'the byte FF', bytes: h('ff') },
  { name: 'a UTF-16 byte order mark FE FF', bytes: h('fe ff') },
  { name: 'a 2-byte start byte followed by ASCII', bytes: h('c2 41') },
  { name: 'a 3-byte start with one continuation, then ASCII', bytes: h('e2 82 41') },
  { name: 'a 4-byte start with two continuations, then ASCII', bytes: h('f0 9f 98 41') },
  { name: 'a 3-byte start followed by another start byte', bytes: h('e2 e2 82 ac') },
  { name: '"Hello", an overlong C0 80, then "World"', bytes: cat(u('Hello'), h('c0 80'), u('World')) },
  { name: '"κόσμε", a surrogate, then more text', bytes: cat(u('κόσμε'), h('ed a0 80'), u('edited')) },
  { name: '300 bytes of valid text, then FF, then 100 more', bytes: cat(u('a'.repeat(300)), h('ff'), u('b'.repeat(100))) },
  { name: 'a 2-byte character cut short at the end (C2)', bytes: h('c2') },
  { name: 'a 3-byte character cut short at the end (E2 82)', bytes: h('e2 82') },
  { name: 'a 4-byte character cut short at the end (F0 9F 98)', bytes: h('f0 9f 98') },
  { name: '"κόσμε" missing its last byte', bytes: u('κόσμε').subarray(0, -1) },
];

// Our own RFC 3629 check must agree with the lists, or the lists are wrong.
for (const s of VALID) if (utf8Check(s.bytes) !== s.bytes.length) throw new Error(`VALID sample is not valid UTF-8: ${s.name}`);
for (const s of INVALID) if (utf8Check(s.bytes) === s.bytes.length) throw new Error(`INVALID sample is valid UTF-8: ${s.name}`);

/** Every byte in its own frame (first TEXT, then continuations, FIN clear), then an empty final continuation. */
function perByte(bytes: Buffer): FrameSpec[] {
  if (bytes.length === 0) return [{ opcode: OP.TEXT, fin: false }, { opcode: OP.CONT, fin: true }];
  const specs: FrameSpec[] = [];
  for (let i = 0; i < bytes.length; i++) specs.push({ opcode: i === 0 ? OP.TEXT : OP.CONT, fin: false, payload: bytes.subarray(i, i + 1) });
  specs.push({ opcode: OP.CONT, fin: true });
  return specs;
}

function hexOf(b: Buffer): string {
  return b.length <= 12 ? b.toString('hex').replace(/(..)(?!$)/g, '$1 ') : `${b.length} bytes`;
}

const cases: Case[] = [];

VALID.forEach((s, i) => {
  cases.push({
    id: `U.1.${i + 1}`,
    description: `Valid: ${s.name} [${hexOf(s.bytes)}], one text frame`,
    expectation: `echo of the ${s.bytes.length}-byte text message`,
    async run(t) {
      const c = await t.open();
      await c.send(frame({ opcode: OP.TEXT, payload: s.bytes }));
      await expectMessage(t, c, 'text', s.bytes);
    },
  });
});

VALID.forEach((s, i) => {
  cases.push({
    id: `U.2.${i + 1}`,
    description: `Valid: ${s.name}, fragmented at every byte (splitting characters across frames)`,
    expectation: `echo of the ${s.bytes.length}-byte text message: validity is judged on the whole message, not per frame`,
    async run(t) {
      const c = await t.open();
      await c.send(frames(...perByte(s.bytes)));
      await expectMessage(t, c, 'text', s.bytes);
    },
  });
});

INVALID.forEach((s, i) => {
  cases.push({
    id: `U.3.${i + 1}`,
    description: `Invalid: ${s.name} [${hexOf(s.bytes)}], one text frame`,
    expectation: 'close 1007 and no echo, then TCP close (RFC 6455 §8.1)',
    async run(t) {
      const c = await t.open();
      await c.send(frame({ opcode: OP.TEXT, payload: s.bytes }));
      await expectFail(t, c, 1007);
    },
  });
});

INVALID.forEach((s, i) => {
  cases.push({
    id: `U.4.${i + 1}`,
    description: `Invalid: ${s.name}, fragmented at every byte`,
    expectation: 'close 1007 and no echo, then TCP close',
    async run(t) {
      const c = await t.open();
      await c.send(frames(...perByte(s.bytes)));
      await expectFail(t, c, 1007);
    },
  });
});

/** Samples with a byte at which the input stops being a prefix of valid UTF-8. */
const FAIL_FAST = INVALID.map((s, i) => ({ ...s, n: i + 1, bad: utf8Check(s.bytes) })).filter((s) => s.bad >= 0);

FAIL_FAST.forEach((s, i) => {
  cases.push({
    id: `U.5.${i + 1}`,
    description: `Fail-fast: ${s.name}; the frame header announces ${s.bytes.length + 100} bytes but only the ${s.bad + 1} up to and including the first invalid byte are sent`,
    expectation: 'close 1007 then TCP close, without the rest of the frame ever being sent (RFC 6455 §8.1 via the sample U.3.' + s.n + ')',
    async run(t) {
      const c = await t.open();
      const full = Buffer.concat([s.bytes, Buffer.alloc(100, 0x61)]);
      const bytes = frame({ opcode: OP.TEXT, payload: full });
      const header = bytes.length - full.length;
      await c.send(bytes.subarray(0, header + s.bad + 1));
      await expectFail(t, c, 1007);
    },
  });
});

FAIL_FAST.forEach((s, i) => {
  cases.push({
    id: `U.6.${i + 1}`,
    description: `Fail-fast across fragments: ${s.name}; frames up to the one holding the first invalid byte, FIN never sent`,
    expectation: 'close 1007 then TCP close, though the message is unfinished',
    async run(t) {
      const c = await t.open();
      const before = s.bytes.subarray(0, s.bad);
      const specs: FrameSpec[] = [{ opcode: OP.TEXT, fin: false, payload: before }];
      specs.push({ opcode: OP.CONT, fin: false, payload: s.bytes.subarray(s.bad, s.bad + 1) });
      await c.send(frames(...specs));
      await expectFail(t, c, 1007);
    },
  });
});

const MULTI = VALID.filter((s) => s.bytes.some((b) => b >= 0x80));
MULTI.forEach((s, i) => {
  cases.push({
    id: `U.7.${i + 1}`,
    description: `Valid: ${s.name}, one frame written one byte per write (characters split across TCP reads)`,
    expectation: `echo of the ${s.bytes.length}-byte text message`,
    async run(t) {
      const c = await t.open();
      await c.sendChopped(frame({ opcode: OP.TEXT, payload: s.bytes }), 1);
      await expectMessage(t, c, 'text', s.bytes);
    },
  });
});

export const utf8: Family = {
  id: 'U',
  title: 'UTF-8',
  summary: 'RFC 6455 §8.1 with RFC 3629: valid text (boundaries of every encoding length, noncharacters, BOM) is echoed whole, fragmented at every byte and split across reads; invalid text (overlongs, surrogates, > U+10FFFF, stray and missing continuation bytes, truncation) fails with 1007, and fails fast, right after the first invalid byte, inside a frame or a fragmented message.',
  cases,
};
