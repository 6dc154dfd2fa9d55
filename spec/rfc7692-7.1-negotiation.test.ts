/**
 * RFC 7692 §5 and §7.1: negotiating permessage-deflate. The server accepts
 * the first acceptable offer, answers with exactly what was agreed, and
 * declines (never fails the handshake for) offers it must not accept:
 * unknown parameters, repeated parameters, invalid values, and the one
 * configuration zlib cannot honour, server_max_window_bits=8.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFLATE_DEFAULTS,
  type DeflateOptions,
  type DeflateParams,
  negotiateDeflate,
  parseExtensions,
  readDeflateOffer,
  resolveDeflateOptions,
} from '../src/protocol/index.js';

/** Negotiate `header` (one or more Sec-WebSocket-Extensions fields) with server `options`. */
function negotiate(header: string | string[], options: DeflateOptions | true = true) {
  return negotiateDeflate(parseExtensions([header].flat()), resolveDeflateOptions(options)!);
}

/** The 101's Sec-WebSocket-Extensions value, or undefined when no offer was accepted. */
function response(header: string | string[], options: DeflateOptions | true = true): string | undefined {
  return negotiate(header, options).agreement?.response;
}

function params(header: string | string[], options: DeflateOptions | true = true): DeflateParams | undefined {
  return negotiate(header, options).agreement?.params;
}

const DEFAULT_PARAMS: DeflateParams = {
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
};

describe('RFC 7692 §7.1.3: the examples', () => {
  it('the simplest offer, "permessage-deflate", is accepted with the same value', () => {
    expect(response('permessage-deflate')).toBe('permessage-deflate');
    expect(params('permessage-deflate')).toEqual(DEFAULT_PARAMS);
  });

  it('without client_max_window_bits in the offer, the answer never has it, even if the server would like a smaller window', () => {
    expect(response('permessage-deflate', { clientMaxWindowBits: 10 })).toBe('permessage-deflate');
    expect(params('permessage-deflate', { clientMaxWindowBits: 10 })?.clientMaxWindowBits).toBe(15);
  });

  it('"client_max_window_bits; server_max_window_bits=10" is accepted with server_max_window_bits=10', () => {
    const offer = 'permessage-deflate; client_max_window_bits; server_max_window_bits=10';
    expect(response(offer)).toBe('permessage-deflate; server_max_window_bits=10');
    expect(params(offer)).toEqual({ ...DEFAULT_PARAMS, serverMaxWindowBits: 10 });
  });

  it('with a fallback offer after it, the first (preferred) offer is accepted', () => {
    const offer = 'permessage-deflate; client_max_window_bits; server_max_window_bits=10, permessage-deflate; client_max_window_bits';
    expect(response(offer)).toBe('permessage-deflate; server_max_window_bits=10');
  });
});

describe('RFC 7692 §5: choosing among offers', () => {
  it('takes the first acceptable permessage-deflate offer, after declining the ones before it', () => {
    const result = negotiate('permessage-deflate; server_max_window_bits=8, permessage-deflate; foo, permessage-deflate; client_no_context_takeover, permessage-deflate');
    expect(result.agreement?.response).toBe('permessage-deflate; client_no_context_takeover');
    expect(result.declined.map((d) => d.reason)).toEqual([
      'server_max_window_bits=8: zlib cannot compress with a 256-byte window',
      'unknown parameter foo',
    ]);
  });

  it('ignores other extensions, before or after, and never agrees to them', () => {
    expect(response('x-webkit-deflate-frame, permessage-deflate; client_max_window_bits, mux')).toBe('permessage-deflate');
  });

  it('reads offers across repeated fields, in order', () => {
    expect(response(['x-foo', 'permessage-deflate; server_no_context_takeover', 'permessage-deflate'])).toBe(
      'permessage-deflate; server_no_context_takeover',
    );
  });

  it('agrees to nothing when no offer is acceptable, or none is permessage-deflate (the handshake goes on)', () => {
    expect(negotiate('permessage-deflate; server_max_window_bits=16').agreement).toBeUndefined();
    expect(negotiate('x-foo; bar').agreement).toBeUndefined();
    expect(negotiate([]).agreement).toBeUndefined();
  });

  it('compares the extension name exactly, as registered', () => {
    expect(negotiate('PerMessage-Deflate').agreement).toBeUndefined();
  });
});

describe('RFC 7692 §7.1: offers a server must decline', () => {
  const declined: Array<[string, string]> = [
    ['an unknown parameter', 'permessage-deflate; foo'],
    ['an unknown parameter with a value', 'permessage-deflate; client_max_window_bits; mode=fast'],
    ['a parameter of another extension', 'permessage-deflate; max-channels=4'],
    ['server_no_context_takeover twice', 'permessage-deflate; server_no_context_takeover; server_no_context_takeover'],
    ['client_no_context_takeover twice', 'permessage-deflate; client_no_context_takeover; client_no_context_takeover'],
    ['server_max_window_bits twice, even with the same value', 'permessage-deflate; server_max_window_bits=10; server_max_window_bits=10'],
    ['client_max_window_bits twice, with and without a value', 'permessage-deflate; client_max_window_bits; client_max_window_bits=10'],
    ['server_no_context_takeover with a value', 'permessage-deflate; server_no_context_takeover=true'],
    ['client_no_context_takeover with a value', 'permessage-deflate; client_no_context_takeover=1'],
    ['server_max_window_bits without a value', 'permessage-deflate; server_max_window_bits'],
    ['server_max_window_bits=7', 'permessage-deflate; server_max_window_bits=7'],
    ['server_max_window_bits=16', 'permessage-deflate; server_max_window_bits=16'],
    ['server_max_window_bits=0', 'permessage-deflate; server_max_window_bits=0'],
    ['server_max_window_bits with a leading zero (09)', 'permessage-deflate; server_max_window_bits=09'],
    ['server_max_window_bits=010', 'permessage-deflate; server_max_window_bits=010'],
    ['server_max_window_bits=1e1', 'permessage-deflate; server_max_window_bits=1e1'],
    ['server_max_window_bits=-9', 'permessage-deflate; server_max_window_bits=-9'],
    ['server_max_window_bits=+9', 'permessage-deflate; server_max_window_bits=+9'],
    ['client_max_window_bits=7', 'permessage-deflate; client_max_window_bits=7'],
    ['client_max_window_bits=16', 'permessage-deflate; client_max_window_bits=16'],
    ['client_max_window_bits=08', 'permessage-deflate; client_max_window_bits=08'],
    ['client_max_window_bits=abc', 'permessage-deflate; client_max_window_bits=abc'],
    ['client_max_window_bits="16" (quoted)', 'permessage-deflate; client_max_window_bits="16"'],
    ['server_max_window_bits=8: zlib cannot compress with a 256-byte window', 'permessage-deflate; server_max_window_bits=8'],
  ];
  for (const [what, offer] of declined) {
    it(`declines ${what}`, () => {
      const result = negotiate(offer);
      expect(result.agreement).toBeUndefined();
      expect(result.declined).toHaveLength(1);
    });
  }

  it('declines each bad offer alone: a good one after it is still accepted', () => {
    for (const [, offer] of declined) expect(response(`${offer}, permessage-deflate`)).toBe('permessage-deflate');
  });

  it('says why', () => {
    expect(readDeflateOffer(parseExtensions(['permessage-deflate; server_max_window_bits=16'])[0])).toBe(
      'server_max_window_bits=16 is not 8-15',
    );
    expect(readDeflateOffer(parseExtensions(['permessage-deflate; server_no_context_takeover; server_no_context_takeover'])[0])).toBe(
      'server_no_context_takeover appears more than once',
    );
    expect(readDeflateOffer(parseExtensions(['x-foo'])[0])).toBe('not permessage-deflate');
  });
});

describe('RFC 7692 §7.1.1: context takeover', () => {
  it('§7.1.1.1: server_no_context_takeover offered is accepted by repeating it', () => {
    expect(response('permessage-deflate; server_no_context_takeover')).toBe('permessage-deflate; server_no_context_takeover');
    expect(params('permessage-deflate; server_no_context_takeover')?.serverNoContextTakeover).toBe(true);
  });

  it('§7.1.1.1: the server may reset its context unasked (serverNoContextTakeover), and says so', () => {
    expect(response('permessage-deflate', { serverNoContextTakeover: true })).toBe('permessage-deflate; server_no_context_takeover');
  });

  it('§7.1.1.2: client_no_context_takeover offered is repeated, so both sides reset', () => {
    expect(response('permessage-deflate; client_no_context_takeover')).toBe('permessage-deflate; client_no_context_takeover');
    expect(params('permessage-deflate; client_no_context_takeover')?.clientNoContextTakeover).toBe(true);
  });

  it('§7.1.1.2: the server may ask the client to reset its context (clientNoContextTakeover)', () => {
    expect(response('permessage-deflate', { clientNoContextTakeover: true })).toBe('permessage-deflate; client_no_context_takeover');
  });

  it('both, in a fixed order whatever the offer\'s order', () => {
    expect(response('permessage-deflate; client_no_context_takeover; server_no_context_takeover')).toBe(
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover',
    );
  });
});

describe('RFC 7692 §7.1.2: window bits', () => {
  it('§7.1.2.1: every offered server_max_window_bits from 9 to 15 is accepted and repeated', () => {
    for (let bits = 9; bits <= 15; bits++) {
      expect(response(`permessage-deflate; server_max_window_bits=${bits}`)).toBe(`permessage-deflate; server_max_window_bits=${bits}`);
      expect(params(`permessage-deflate; server_max_window_bits=${bits}`)?.serverMaxWindowBits).toBe(bits);
    }
  });

  it('§7.1.2.1: a quoted value is the same value', () => {
    expect(response('permessage-deflate; server_max_window_bits="12"')).toBe('permessage-deflate; server_max_window_bits=12');
  });

  it('§7.1.2.1: a server that wants a smaller window answers with its own, smaller value', () => {
    expect(response('permessage-deflate; server_max_window_bits=12', { serverMaxWindowBits: 10 })).toBe(
      'permessage-deflate; server_max_window_bits=10',
    );
    expect(response('permessage-deflate; server_max_window_bits=10', { serverMaxWindowBits: 12 })).toBe(
      'permessage-deflate; server_max_window_bits=10',
    );
  });

  it('§7.1.2.1: the server may state its window unasked; 15 (the default) goes unsaid', () => {
    expect(response('permessage-deflate', { serverMaxWindowBits: 11 })).toBe('permessage-deflate; server_max_window_bits=11');
    expect(params('permessage-deflate', { serverMaxWindowBits: 11 })?.serverMaxWindowBits).toBe(11);
    expect(response('permessage-deflate', { serverMaxWindowBits: 15 })).toBe('permessage-deflate');
  });

  it('§7.1.2.2: client_max_window_bits without a value: nothing to say unless the server wants a smaller window', () => {
    expect(response('permessage-deflate; client_max_window_bits')).toBe('permessage-deflate');
    expect(params('permessage-deflate; client_max_window_bits')?.clientMaxWindowBits).toBe(15);
    expect(response('permessage-deflate; client_max_window_bits', { clientMaxWindowBits: 9 })).toBe(
      'permessage-deflate; client_max_window_bits=9',
    );
    expect(params('permessage-deflate; client_max_window_bits', { clientMaxWindowBits: 9 })?.clientMaxWindowBits).toBe(9);
  });

  it('§7.1.2.2: client_max_window_bits with a value: the answer repeats it, or a smaller one', () => {
    for (let bits = 8; bits <= 15; bits++) {
      expect(response(`permessage-deflate; client_max_window_bits=${bits}`)).toBe(`permessage-deflate; client_max_window_bits=${bits}`);
    }
    expect(response('permessage-deflate; client_max_window_bits=12', { clientMaxWindowBits: 10 })).toBe(
      'permessage-deflate; client_max_window_bits=10',
    );
    expect(response('permessage-deflate; client_max_window_bits=9', { clientMaxWindowBits: 10 })).toBe(
      'permessage-deflate; client_max_window_bits=9',
    );
  });

  it('all four parameters at once', () => {
    const offer = 'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=8';
    expect(response(offer)).toBe(
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=8',
    );
    expect(params(offer)).toEqual({ serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 9, clientMaxWindowBits: 8 });
  });

  it('what browsers offer ("permessage-deflate; client_max_window_bits") gets plain "permessage-deflate"', () => {
    expect(response('permessage-deflate; client_max_window_bits')).toBe('permessage-deflate');
  });
});

describe('the server\'s options (resolveDeflateOptions)', () => {
  it('off unless asked for; true means the defaults', () => {
    expect(resolveDeflateOptions(undefined)).toBeUndefined();
    expect(resolveDeflateOptions(false)).toBeUndefined();
    expect(resolveDeflateOptions(true)).toEqual(DEFLATE_DEFAULTS);
    expect(resolveDeflateOptions({})).toEqual(DEFLATE_DEFAULTS);
    expect(DEFLATE_DEFAULTS).toEqual({
      serverNoContextTakeover: false,
      clientNoContextTakeover: false,
      serverMaxWindowBits: 15,
      clientMaxWindowBits: undefined,
      memLevel: 8,
      level: 1,
      threshold: 1024,
    });
  });

  const bad: Array<[string, unknown, ErrorConstructor]> = [
    ['serverMaxWindowBits 8 (zlib cannot)', { serverMaxWindowBits: 8 }, RangeError],
    ['serverMaxWindowBits 16', { serverMaxWindowBits: 16 }, RangeError],
    ['clientMaxWindowBits 7', { clientMaxWindowBits: 7 }, RangeError],
    ['clientMaxWindowBits 10.5', { clientMaxWindowBits: 10.5 }, RangeError],
    ['memLevel 0', { memLevel: 0 }, RangeError],
    ['memLevel 10', { memLevel: 10 }, RangeError],
    ['level -1', { level: -1 }, RangeError],
    ['level 10', { level: 10 }, RangeError],
    ['level 1.5', { level: 1.5 }, RangeError],
    ['level "9"', { level: '9' }, RangeError],
    ['threshold -1', { threshold: -1 }, RangeError],
    ['threshold "1k"', { threshold: '1k' }, RangeError],
    ['serverNoContextTakeover "yes"', { serverNoContextTakeover: 'yes' }, TypeError],
    ['an unknown option', { strategy: 1 }, TypeError],
    ['a number', 1, TypeError],
  ];
  for (const [what, options, type] of bad) {
    it(`refuses ${what}`, () => {
      expect(() => resolveDeflateOptions(options as DeflateOptions)).toThrow(type);
    });
  }

  it('accepts the extremes', () => {
    expect(resolveDeflateOptions({ serverMaxWindowBits: 9, clientMaxWindowBits: 8, memLevel: 1, level: 0, threshold: 0 })).toMatchObject({
      serverMaxWindowBits: 9,
      clientMaxWindowBits: 8,
      memLevel: 1,
      level: 0,
      threshold: 0,
    });
    expect(resolveDeflateOptions({ memLevel: 9, level: 9 })).toMatchObject({ memLevel: 9, level: 9 });
  });
});
