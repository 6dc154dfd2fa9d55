/**
 * RFC 6455 §9.1: the grammar of Sec-WebSocket-Extensions. A value that does
 * not conform fails the handshake (400), whether or not the server speaks any
 * extension; a value that conforms is parsed into offers, in order, across
 * repeated fields.
 */
import { describe, expect, it } from 'vitest';
import { type ExtensionOffer, HandshakeError, formatExtension, isToken, parseExtensions } from '../src/protocol/index.js';
import { handshake, handshakeRequest, validHeaders } from './helpers.js';

const offer = (name: string, ...params: Array<[string, string?]>): ExtensionOffer => ({
  name,
  params: params.map(([n, value]) => ({ name: n, value })),
});

describe('RFC 6455 §9.1: parsing Sec-WebSocket-Extensions', () => {
  it('reads the RFC\'s examples', () => {
    expect(parseExtensions(['deflate-stream'])).toEqual([offer('deflate-stream')]);
    expect(parseExtensions(['mux; max-channels=4; flow-control, deflate-stream'])).toEqual([
      offer('mux', ['max-channels', '4'], ['flow-control']),
      offer('deflate-stream'),
    ]);
    expect(parseExtensions(['private-extension'])).toEqual([offer('private-extension')]);
  });

  it('treats repeated fields as one list, in order ("foo" + "bar; baz=2" is "foo, bar; baz=2")', () => {
    const expected = [offer('foo'), offer('bar', ['baz', '2'])];
    expect(parseExtensions(['foo', 'bar; baz=2'])).toEqual(expected);
    expect(parseExtensions(['foo, bar; baz=2'])).toEqual(expected);
  });

  it('keeps several offers of the same extension, in the client\'s order of preference', () => {
    expect(
      parseExtensions(['permessage-deflate; client_max_window_bits; server_max_window_bits=10, permessage-deflate; client_max_window_bits']),
    ).toEqual([
      offer('permessage-deflate', ['client_max_window_bits'], ['server_max_window_bits', '10']),
      offer('permessage-deflate', ['client_max_window_bits']),
    ]);
  });

  it('allows optional whitespace around ";", "," and "=", and tabs', () => {
    expect(parseExtensions(['  a ;b = 1\t;\tc  ,\td ; e="f" '])).toEqual([offer('a', ['b', '1'], ['c']), offer('d', ['e', 'f'])]);
  });

  it('unescapes quoted values, which must then be tokens', () => {
    expect(parseExtensions(['x; a="10"; b="1\\0"; c="tok-en"'])).toEqual([offer('x', ['a', '10'], ['b', '10'], ['c', 'tok-en'])]);
  });

  it('ignores empty list elements (RFC 9110 §5.6.1)', () => {
    expect(parseExtensions([', a ,, b,'])).toEqual([offer('a'), offer('b')]);
  });

  it('keeps unknown extensions and parameters: judging them is the extension\'s business', () => {
    expect(parseExtensions(['x-unknown; foo=1; bar'])).toEqual([offer('x-unknown', ['foo', '1'], ['bar'])]);
  });

  it('no field: no offers', () => {
    expect(parseExtensions([])).toEqual([]);
  });

  const malformed: Array<[string, string[]]> = [
    ['an empty field', ['']],
    ['a field of spaces', ['   ']],
    ['only empty elements', [', ,']],
    ['an empty field next to a good one', ['permessage-deflate', '']],
    ['a parameter with no extension name', ['; a=1']],
    ['a name that is not a token', ['perm{essage']],
    ['a space inside a name', ['permessage deflate']],
    ['an empty parameter name', ['a;']],
    ['"=" with no value', ['a; b=']],
    ['"=" with no name', ['a; =1']],
    ['a value that is not a token', ['a; b=1.5/2']],
    ['a quoted value that is not a token once unescaped', ['a; b="1 0"']],
    ['a quoted value with a comma', ['a; b="x,y"']],
    ['an empty quoted value', ['a; b=""']],
    ['an unterminated quoted value', ['a; b="10']],
    ['a quoted value ending in a backslash', ['a; b="10\\']],
    ['two values', ['a; b=1 2']],
    ['a quoted value followed by more', ['a; b="1"2']],
    ['a stray character after an element', ['a "b"']],
    ['a quoted extension name', ['"permessage-deflate"']],
    ['a control character', ['a;\u0001b']],
    ['non-ASCII in a token', ['perméssage-deflate']],
  ];
  for (const [what, values] of malformed) {
    it(`refuses ${what}: ${JSON.stringify(values)}`, () => {
      let error: unknown;
      try {
        parseExtensions(values);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(HandshakeError);
      expect(error).toMatchObject({ code: 'INVALID_EXTENSIONS_HEADER', status: 400 });
    });
  }

  it('formats an offer back, and knows a token when it sees one', () => {
    expect(formatExtension(offer('permessage-deflate', ['server_no_context_takeover'], ['client_max_window_bits', '10']))).toBe(
      'permessage-deflate; server_no_context_takeover; client_max_window_bits=10',
    );
    expect(isToken('permessage-deflate')).toBe(true);
    expect(isToken('')).toBe(false);
    expect(isToken('a b')).toBe(false);
  });
});

describe('RFC 6455 §9.1 in the handshake (validateUpgrade)', () => {
  const request = (...values: string[]) =>
    handshakeRequest({ headers: [...validHeaders(), ...values.map((v): [string, string] => ['Sec-WebSocket-Extensions', v])] });

  it('a malformed value fails the handshake with 400 INVALID_EXTENSIONS_HEADER', () => {
    const outcome = handshake(request('permessage-deflate; client_max_window_bits="1 0"'));
    expect(outcome.status).toBe(400);
    expect('error' in outcome && outcome.error.code).toBe('INVALID_EXTENSIONS_HEADER');
  });

  it('a well-formed value is parsed into the upgrade\'s offers, and kept as sent', () => {
    const outcome = handshake(request('x-foo', 'permessage-deflate; client_max_window_bits'));
    if (!('upgrade' in outcome)) throw new Error('rejected');
    expect(outcome.upgrade.extensions).toEqual(['x-foo', 'permessage-deflate; client_max_window_bits']);
    expect(outcome.upgrade.extensionOffers).toEqual([offer('x-foo'), offer('permessage-deflate', ['client_max_window_bits'])]);
  });
});
