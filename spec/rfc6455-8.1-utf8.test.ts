/**
 * RFC 6455 §8.1 (with RFC 3629 §3-§4): text messages must be valid UTF-8,
 * and the connection fails with 1007 as soon as they cannot be.
 */
import { describe, expect, it } from 'vitest';
import { FrameFailures, Utf8Validator, isValidUtf8 } from '../src/protocol/index.js';
import {
  OP,
  binary,
  continuation,
  everyByte,
  expectFailure,
  expectOpen,
  fragmented,
  frameHeader,
  openConnection,
  receiveAll,
  summarize,
  text,
  xorMask,
  DEFAULT_KEY,
} from './helpers.js';

const b = (...values: number[]) => Buffer.from(values);

const VALID: Array<[string, Buffer]> = [
  ['empty', b()],
  ['ASCII', Buffer.from('Hello')],
  ['2-byte (U+0080, U+07FF)', b(0xc2, 0x80, 0xdf, 0xbf)],
  ['3-byte (U+0800, U+FFFF, U+FEFF)', b(0xe0, 0xa0, 0x80, 0xef, 0xbf, 0xbf, 0xef, 0xbb, 0xbf)],
  ['around the surrogates (U+D7FF, U+E000)', b(0xed, 0x9f, 0xbf, 0xee, 0x80, 0x80)],
  ['4-byte (U+10000, U+10FFFF)', b(0xf0, 0x90, 0x80, 0x80, 0xf4, 0x8f, 0xbf, 0xbf)],
  ['mixed', Buffer.from('κόσμε €𝄞 ok')],
  ['NUL', b(0x00)],
];

/** Invalid input with the index of the first byte after which no valid continuation exists. */
const INVALID: Array<[string, Buffer, number]> = [
  ['a stray continuation byte', b(0x61, 0x80), 1],
  ['C0 (overlong 2-byte lead)', b(0xc0, 0x80), 0],
  ['C1 (overlong 2-byte lead)', b(0xc1, 0xbf), 0],
  ['E0 80 (overlong 3-byte)', b(0xe0, 0x80, 0x80), 1],
  ['E0 9F (overlong 3-byte)', b(0xe0, 0x9f, 0xbf), 1],
  ['F0 80 (overlong 4-byte)', b(0xf0, 0x80, 0x80, 0x80), 1],
  ['F0 8F (overlong 4-byte)', b(0xf0, 0x8f, 0xbf, 0xbf), 1],
  ['ED A0 (high surrogate U+D800)', b(0xed, 0xa0, 0x80), 1],
  ['ED BF (low surrogate U+DFFF)', b(0xed, 0xbf, 0xbf), 1],
  ['F4 90 (above U+10FFFF)', b(0xf4, 0x90, 0x80, 0x80), 1],
  ['F5 (lead above U+10FFFF)', b(0xf5, 0x80, 0x80, 0x80), 0],
  ['FE', b(0x61, 0xfe), 1],
  ['FF', b(0xff), 0],
  ['a 2-byte lead followed by ASCII', b(0xc3, 0x28), 1],
  ['a 3-byte sequence cut by ASCII', b(0xe2, 0x82, 0x41), 2],
  ['a 4-byte sequence cut by a lead byte', b(0xf0, 0x9f, 0x98, 0xf0), 3],
  ['invalid after valid text', Buffer.concat([Buffer.from('valid €'), b(0xff)]), 9],
];

/** Valid so far but ending inside a code point. */
const TRUNCATED: Array<[string, Buffer]> = [
  ['a lone 2-byte lead', b(0xc3)],
  ['2 of 3 bytes', b(0x61, 0xe2, 0x82)],
  ['3 of 4 bytes', b(0xf0, 0x9f, 0x98)],
  ['the lead of a 4-byte sequence', b(0xf4)],
];

describe('Utf8Validator (RFC 3629)', () => {
  it.each(VALID)('accepts %s, whole or byte by byte', (_, bytes) => {
    const whole = new Utf8Validator();
    expect(whole.write(bytes)).toBe(-1);
    expect(whole.complete).toBe(true);
    const split = new Utf8Validator();
    for (let i = 0; i < bytes.length; i++) expect(split.write(bytes, i, i + 1)).toBe(-1);
    expect(split.complete).toBe(true);
    expect(isValidUtf8(bytes)).toBe(true);
  });

  it.each(INVALID)('rejects %s at byte %i, whole or byte by byte', (_, bytes, at) => {
    expect(new Utf8Validator().write(bytes)).toBe(at);
    const split = new Utf8Validator();
    const results = Array.from({ length: bytes.length }, (_, i) => split.write(bytes, i, i + 1));
    expect(results.findIndex((r) => r !== -1)).toBe(at);
    expect(results[at]).toBe(at);
    expect(isValidUtf8(bytes)).toBe(false);
  });

  it.each(TRUNCATED)('reports %s as valid so far but not complete', (_, bytes) => {
    const validator = new Utf8Validator();
    expect(validator.write(bytes)).toBe(-1);
    expect(validator.complete).toBe(false);
    expect(isValidUtf8(bytes)).toBe(false);
  });

  it('stays rejected, and reset() starts over', () => {
    const validator = new Utf8Validator();
    expect(validator.write(b(0xff))).toBe(0);
    expect(validator.write(Buffer.from('abc'), 1)).toBe(1);
    expect(validator.complete).toBe(false);
    validator.reset();
    expect(validator.write(Buffer.from('abc'))).toBe(-1);
    expect(validator.complete).toBe(true);
  });

  it('honours start and end, reporting indexes into the whole buffer', () => {
    const bytes = b(0xff, 0x61, 0x62, 0xff);
    expect(new Utf8Validator().write(bytes, 1, 3)).toBe(-1);
    expect(new Utf8Validator().write(bytes, 1)).toBe(3);
  });

  describe('long pieces (32 bytes and more may take a native fast path; the verdict must not change)', () => {
    const ascii = (n: number) => Buffer.alloc(n, 0x61);

    it('finds an invalid sequence inside a long run, at its first byte', () => {
      expect(new Utf8Validator().write(Buffer.concat([ascii(40), b(0xed, 0xa0, 0x80), ascii(40)]))).toBe(41);
      expect(new Utf8Validator().write(Buffer.concat([ascii(100), b(0xff)]))).toBe(100);
      expect(new Utf8Validator().write(Buffer.concat([ascii(50), b(0xf4, 0x90, 0x80, 0x80), ascii(50)]))).toBe(51);
    });

    it('accepts a long valid run, and one cut inside a code point at its end', () => {
      const validator = new Utf8Validator();
      expect(validator.write(Buffer.concat([Buffer.from('€'.repeat(20)), ascii(40), b(0xe2, 0x82)]))).toBe(-1);
      expect(validator.complete).toBe(false);
      expect(validator.write(b(0xac))).toBe(-1);
      expect(validator.complete).toBe(true);
    });

    it('does not let a long valid piece complete a code point begun in the previous piece', () => {
      const validator = new Utf8Validator();
      expect(validator.write(b(0xe2))).toBe(-1);
      expect(validator.write(ascii(40))).toBe(0);
    });

    it('finishes a pending code point, then checks the long run after it', () => {
      const validator = new Utf8Validator();
      expect(validator.write(b(0xf0, 0x9f))).toBe(-1);
      expect(validator.write(Buffer.concat([b(0x98, 0x80), ascii(40)]))).toBe(-1);
      expect(validator.complete).toBe(true);
      expect(new Utf8Validator().write(Buffer.concat([b(0xf0, 0x9f), b(0x98, 0x80), ascii(40), b(0x80)]), 0)).toBe(44);
    });
  });

  it('keeps its state between writes: a code point split across calls', () => {
    const euro = b(0xe2, 0x82, 0xac);
    const validator = new Utf8Validator();
    expect(validator.write(euro.subarray(0, 1))).toBe(-1);
    expect(validator.complete).toBe(false);
    expect(validator.write(euro.subarray(1))).toBe(-1);
    expect(validator.complete).toBe(true);
  });
});

describe('RFC 6455 §8.1: text messages through a connection', () => {
  it.each(VALID)('delivers %s as a single frame, fragmented at every byte, and cut at every byte', (_, bytes) => {
    const expected = [`text:${bytes.toString('utf8')}`];
    expect(summarize(receiveAll(text(bytes)).received)).toEqual(expected);
    expect(summarize(receiveAll(Buffer.concat(fragmented(OP.TEXT, bytes, everyByte(bytes)))).received)).toEqual(expected);
    const frame = text(bytes);
    expect(summarize(receiveAll(frame, {}, everyByte(frame)).received)).toEqual(expected);
  });

  it.each(INVALID)('1007 for %s: single frame, split, and fragmented', (_, bytes) => {
    expect(FrameFailures.INVALID_UTF8).toBe(1007);
    expectFailure(receiveAll(text(bytes)), 'INVALID_UTF8');
    const frame = text(bytes);
    expectFailure(receiveAll(frame, {}, everyByte(frame)), 'INVALID_UTF8');
    expectFailure(receiveAll(Buffer.concat(fragmented(OP.TEXT, bytes, everyByte(bytes)))), 'INVALID_UTF8');
  });

  it.each(TRUNCATED)('1007 for a message ending inside a code point: %s', (_, bytes) => {
    expectFailure(receiveAll(text(bytes)), 'INVALID_UTF8');
    expectFailure(receiveAll(Buffer.concat([text(bytes, { fin: false }), continuation('')])), 'INVALID_UTF8');
    const frame = text(bytes);
    expectFailure(receiveAll(frame, {}, everyByte(frame)), 'INVALID_UTF8');
  });

  it('a code point split across fragments is valid', () => {
    const message = Buffer.from('a€😀b');
    for (const cut of everyByte(message)) {
      const bytes = Buffer.concat(fragmented(OP.TEXT, message, [cut]));
      expect(summarize(receiveAll(bytes).received)).toEqual(['text:a€😀b']);
    }
  });

  it('fails fast: an invalid byte fails the connection before the rest of the frame arrives', () => {
    const { connection, recorder } = openConnection();
    // A text frame announcing 100 bytes; only the first 3 arrive, the third is invalid.
    connection.receive(frameHeader({ opcode: OP.TEXT, length: 100 }));
    connection.receive(xorMask(b(0x61, 0x62), DEFAULT_KEY));
    expect(recorder.events).toEqual([]);
    connection.receive(xorMask(b(0x61, 0x62, 0xc0), DEFAULT_KEY));
    expectFailure(recorder, 'INVALID_UTF8');
  });

  it('fails fast in the first fragment of a message, before its FIN', () => {
    const recorder = receiveAll(text(b(0x61, 0xed, 0xa0), { fin: false }));
    expectFailure(recorder, 'INVALID_UTF8');
  });

  it('fails fast within one chunk holding a whole frame', () => {
    const { connection, recorder } = openConnection();
    connection.receive(text(b(0xf4, 0x90), { fin: false }));
    expectFailure(recorder, 'INVALID_UTF8');
  });

  it('validates each text message on its own: a message ending mid-sequence does not taint the next', () => {
    const recorder = receiveAll(Buffer.concat([...fragmented(OP.TEXT, Buffer.from('€'), [1]), text('ok')]));
    expect(summarize(recorder.received)).toEqual(['text:€', 'text:ok']);
  });

  it('a valid message before an invalid one is delivered, then 1007', () => {
    const recorder = receiveAll(Buffer.concat([text('fine'), text(b(0xff))]));
    expect(expectFailure(recorder, 'INVALID_UTF8')).toEqual(['text:fine']);
  });

  it('binary messages are not validated', () => {
    const recorder = receiveAll(Buffer.concat([binary(b(0xff, 0xc0)), ...fragmented(OP.BINARY, b(0xed, 0xa0, 0x80, 0xf4), [1, 2])]));
    expectOpen(recorder);
    expect(summarize(recorder.received)).toEqual(['binary:ffc0', 'binary:eda080f4']);
  });
});
