/**
 * Properties of Sec-WebSocket-Extensions (RFC 6455 §9.1) and of the
 * permessage-deflate negotiation (RFC 7692 §7.1):
 * - any list of offers, written with any optional whitespace, quoting and
 *   split into any number of fields, parses back to the same offers;
 * - any string either parses or is refused with INVALID_EXTENSIONS_HEADER;
 * - whatever is offered and configured, an answer accepts exactly one
 *   permessage-deflate offer and stays within what that offer allows.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import {
  type DeflateOptions,
  type ExtensionOffer,
  HandshakeError,
  negotiateDeflate,
  parseExtensions,
  readDeflateOffer,
  resolveDeflateOptions,
} from '../src/protocol/index.js';
import { assertEqual } from './assert.js';
import { params } from './config.js';

const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".split('');
const token = fc.array(fc.constantFrom(...TCHARS), { minLength: 1, maxLength: 12 }).map((c) => c.join(''));
const ows = fc.constantFrom('', ' ', '  ', '\t', ' \t');

const offer: fc.Arbitrary<ExtensionOffer> = fc.record({
  name: token,
  params: fc.array(fc.record({ name: token, value: fc.option(token, { nil: undefined }) }), { maxLength: 5 }),
});

/** Write offers as header fields, with random whitespace, quoting, empty elements and field splits. */
const written = fc.array(offer, { minLength: 1, maxLength: 5 }).chain((offers) =>
  fc
    .record({
      spaces: fc.array(ows, { minLength: 64, maxLength: 64 }),
      quote: fc.array(fc.boolean(), { minLength: 32, maxLength: 32 }),
      splits: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
      empties: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
    })
    .map(({ spaces, quote, splits, empties }) => {
      let k = 0;
      const sp = () => spaces[k++ % spaces.length];
      const fields: string[] = [];
      let current: string[] = [];
      offers.forEach((o, i) => {
        const params = o.params.map((p, j) => {
          if (p.value === undefined) return `${sp()};${sp()}${p.name}`;
          // A quoted value with a backslash escape is the same token once unescaped.
          const value = quote[(i * 5 + j) % quote.length] ? `"${p.value.replace(/^(.)/, '\\$1')}"` : p.value;
          return `${sp()};${sp()}${p.name}${sp()}=${sp()}${value}`;
        });
        current.push(`${sp()}${o.name}${params.join('')}${sp()}`);
        if (empties[i]) current.push(sp());
        if (splits[i] && i < offers.length - 1) {
          fields.push(current.join(','));
          current = [];
        }
      });
      fields.push(current.join(','));
      // Plain objects, as the parser makes (fast-check's records have no prototype).
      const plain = offers.map((o) => ({ name: o.name, params: o.params.map((p) => ({ name: p.name, value: p.value })) }));
      return { offers: plain, fields };
    }),
);

const deflateOptions: fc.Arbitrary<DeflateOptions> = fc.record(
  {
    serverNoContextTakeover: fc.boolean(),
    clientNoContextTakeover: fc.boolean(),
    serverMaxWindowBits: fc.integer({ min: 9, max: 15 }),
    clientMaxWindowBits: fc.integer({ min: 8, max: 15 }),
  },
  { requiredKeys: [] },
);

/** permessage-deflate offers, mostly valid, some with the mistakes that must get them declined. */
const deflateOffer: fc.Arbitrary<string> = fc
  .array(
    fc.oneof(
      fc.constantFrom('server_no_context_takeover', 'client_no_context_takeover', 'client_max_window_bits'),
      fc.integer({ min: 7, max: 16 }).map((b) => `server_max_window_bits=${b}`),
      fc.integer({ min: 7, max: 16 }).map((b) => `client_max_window_bits=${b}`),
      fc.constantFrom('server_max_window_bits', 'server_max_window_bits=09', 'x_unknown', 'server_no_context_takeover=1'),
    ),
    { maxLength: 4 },
  )
  .map((ps) => ['permessage-deflate', ...ps].join('; '));

describe('property: Sec-WebSocket-Extensions (RFC 6455 §9.1)', () => {
  it('offers written with any whitespace, quoting and field splits parse back to themselves', () => {
    fc.assert(
      fc.property(written, ({ offers, fields }) => {
        assertEqual(parseExtensions(fields), offers, 'offers parsed and offers written');
      }),
      params(),
    );
  });

  it('any field value parses or is refused with INVALID_EXTENSIONS_HEADER, nothing else', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary-ascii', maxLength: 40 }), { minLength: 1, maxLength: 3 }), (values) => {
        try {
          parseExtensions(values);
        } catch (error) {
          if (!(error instanceof HandshakeError) || error.code !== 'INVALID_EXTENSIONS_HEADER') throw error;
        }
      }),
      params(),
    );
  });
});

describe('property: permessage-deflate negotiation (RFC 7692 §7.1)', () => {
  it('the answer accepts the first acceptable offer and stays within what it allows', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(deflateOffer, token), { minLength: 1, maxLength: 4 }), deflateOptions, (list, options) => {
        const offers = parseExtensions([list.join(', ')]);
        const { agreement, declined } = negotiateDeflate(offers, resolveDeflateOptions(options)!);
        const deflateOffers = offers.filter((o) => o.name === 'permessage-deflate');
        if (!agreement) {
          assertEqual(declined.length, deflateOffers.length, 'every permessage-deflate offer declined');
          return;
        }
        const accepted = deflateOffers[declined.length];
        const asked = readDeflateOffer(accepted);
        if (typeof asked === 'string') throw new Error(`accepted an offer it should decline: ${asked}`);
        const [answer, ...rest] = parseExtensions([agreement.response]);
        assertEqual(rest.length, 0, 'extensions in the answer beyond the one');
        const got = readDeflateOffer(answer);
        if (typeof got === 'string') throw new Error(`the answer is not valid: ${got}`);
        const { params: p } = agreement;
        // §7.1.1: asked-for no_context_takeover is granted, and the answer says what applies.
        if (asked.serverNoContextTakeover && !got.serverNoContextTakeover) throw new Error('server_no_context_takeover asked and not granted');
        assertEqual(got.serverNoContextTakeover, p.serverNoContextTakeover, 'server_no_context_takeover in the answer and in force');
        assertEqual(got.clientNoContextTakeover, p.clientNoContextTakeover, 'client_no_context_takeover in the answer and in force');
        // §7.1.2.1: at most the offered window, present in the answer if offered.
        if (asked.serverMaxWindowBits !== undefined && got.serverMaxWindowBits === undefined) throw new Error('server_max_window_bits offered but not answered');
        if ((got.serverMaxWindowBits ?? 15) > (asked.serverMaxWindowBits ?? 15)) throw new Error('server window larger than offered');
        assertEqual(got.serverMaxWindowBits ?? 15, p.serverMaxWindowBits, 'server window in the answer and in force');
        if (p.serverMaxWindowBits < 9) throw new Error('a server window zlib cannot compress with');
        // §7.1.2.2: client_max_window_bits only if offered, with a value, at most the offered one.
        if (got.clientMaxWindowBits !== undefined) {
          if (asked.clientMaxWindowBits === undefined) throw new Error('client_max_window_bits answered but not offered');
          if (got.clientMaxWindowBits === true) throw new Error('client_max_window_bits answered without a value');
          if (asked.clientMaxWindowBits !== true && got.clientMaxWindowBits > asked.clientMaxWindowBits) throw new Error('client window larger than offered');
        }
        const offeredClient = asked.clientMaxWindowBits === true || asked.clientMaxWindowBits === undefined ? 15 : asked.clientMaxWindowBits;
        assertEqual(got.clientMaxWindowBits === undefined ? offeredClient : got.clientMaxWindowBits, p.clientMaxWindowBits, 'client window in the answer and in force');
      }),
      params(),
    );
  });
});
