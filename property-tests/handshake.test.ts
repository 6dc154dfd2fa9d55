/**
 * Property 5 (RFC 6455 §4.2.1, RFC 9110 §5.1, §5.6.3): the opening handshake
 * does not depend on header order, letter case of names and tokens, optional
 * whitespace or how the bytes arrive; and each broken required header gets
 * its documented status.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { acceptKey } from '../src/protocol/index.js';
import {
  type HeaderList,
  expectedAccept,
  handshake,
  handshakeRequest,
  validHeaders,
  withHeader,
} from '../spec/helpers.js';
import { cuts, cutsFor } from './arbitraries.js';
import { params } from './config.js';

const key = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((bytes) => Buffer.from(bytes).toString('base64'));
const ows = fc.array(fc.constantFrom(' ', '\t'), { maxLength: 3 }).map((s) => s.join(''));
const anyCase = (word: string) => fc.mixedCase(fc.constant(word));

/** A Connection value holding the Upgrade token in any case, possibly in a list. */
const connectionValue = fc
  .tuple(anyCase('Upgrade'), fc.constantFrom('{}', 'keep-alive, {}', '{}, keep-alive', 'keep-alive,{}', 'close ,\t{}'))
  .map(([token, shape]) => shape.replace('{}', token));

const extraHeaders = fc.subarray<[string, string]>([
  ['Origin', 'https://example.com'],
  ['Sec-WebSocket-Protocol', 'chat, superchat'],
  ['User-Agent', 'property-test/1.0'],
  ['Sec-WebSocket-Extensions', 'permessage-deflate'],
  ['Cache-Control', 'no-cache'],
]);

interface Variant {
  key: string;
  headers: HeaderList;
}

/** A valid request: shuffled, names and tokens in any case, OWS around values. */
const validVariant: fc.Arbitrary<Variant> = fc
  .record({ key, upgrade: anyCase('websocket'), connection: connectionValue, extra: extraHeaders })
  .chain(({ key, upgrade, connection, extra }) => {
    const base = withHeader(withHeader(validHeaders(key), 'Upgrade', upgrade), 'Connection', connection);
    const all = [...base, ...extra];
    return fc
      .tuple(
        fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length }),
        fc.array(fc.tuple(ows, ows), { minLength: all.length, maxLength: all.length }),
      )
      .chain(([shuffled, spaces]) =>
        fc.tuple(...shuffled.map(([name]) => anyCase(name))).map((names) => ({
          key,
          headers: shuffled.map(([, value], i): [string, string] => [names[i], `${spaces[i][0]}${value}${spaces[i][1]}`]),
        })),
      );
  });

describe('property: valid handshakes in any form are accepted', () => {
  it('accepts shuffled headers, any case, OWS, cut anywhere; the accept key is right', () => {
    fc.assert(
      fc.property(validVariant, cuts, ({ key, headers }, rawCuts) => {
        const bytes = handshakeRequest({ headers });
        const outcome = handshake(bytes, undefined, undefined, cutsFor(rawCuts, bytes.length));
        if (!('upgrade' in outcome)) throw new Error(`rejected with ${outcome.status}: ${outcome.error.message}`);
        expect(outcome.upgrade.key).toBe(key);
        expect(acceptKey(outcome.upgrade.key)).toBe(expectedAccept(key));
      }),
      params(),
    );
  });
});

/** A corruption of one required header, with the status it must get. */
type Breakage = { describe: string; apply: (headers: HeaderList) => HeaderList; status: number };

const notWebsocket = fc.constantFrom('websockets', 'web socket', 'h2c', 'websocket/13', 'socket', '');
const notUpgrade = fc.constantFrom('keep-alive', 'close', 'Upgraded', 'upgrade-insecure', '');
const badKey = fc.oneof(
  key.map((k) => k.slice(0, -1)), // padding cut short
  key.map((k) => `${k}A`), // one character too many
  key.map((k) => `${k.slice(0, 10)}*${k.slice(11)}`), // a non-base64 character
  key.map((k) => `${k.slice(0, 21)}${'BCDEFGHIJKLMNOP'[k.charCodeAt(3) % 15]}==`), // low bits set: not canonical
  fc.uint8Array({ minLength: 0, maxLength: 40 }).filter((b) => b.length !== 16).map((b) => Buffer.from(b).toString('base64')),
);
const badVersion = fc.oneof(
  fc.integer({ min: 0, max: 255 }).filter((v) => v !== 13).map(String),
  fc.constantFrom('', '13.0', '013', '13, 8', 'thirteen'),
);

const breakage: fc.Arbitrary<Breakage> = fc.oneof(
  fc.constant({ describe: 'no Host', apply: (h: HeaderList) => withHeader(h, 'Host'), status: 400 }),
  fc.constant({ describe: 'two Hosts', apply: (h: HeaderList) => withHeader(h, 'Host', 'a', 'b'), status: 400 }),
  fc.constant({ describe: 'no Upgrade', apply: (h: HeaderList) => withHeader(h, 'Upgrade'), status: 426 }),
  notWebsocket.map((v) => ({ describe: `Upgrade: ${v}`, apply: (h: HeaderList) => withHeader(h, 'Upgrade', v), status: 426 })),
  fc.constant({ describe: 'no Connection', apply: (h: HeaderList) => withHeader(h, 'Connection'), status: 400 }),
  notUpgrade.map((v) => ({ describe: `Connection: ${v}`, apply: (h: HeaderList) => withHeader(h, 'Connection', v), status: 400 })),
  fc.constant({ describe: 'no key', apply: (h: HeaderList) => withHeader(h, 'Sec-WebSocket-Key'), status: 400 }),
  key.map((k) => ({ describe: 'two keys', apply: (h: HeaderList) => [...h, ['Sec-WebSocket-Key', k] as [string, string]], status: 400 })),
  badKey.map((k) => ({ describe: `key ${k}`, apply: (h: HeaderList) => withHeader(h, 'Sec-WebSocket-Key', k), status: 400 })),
  fc.constant({ describe: 'no version', apply: (h: HeaderList) => withHeader(h, 'Sec-WebSocket-Version'), status: 426 }),
  fc.constant({
    describe: 'two versions',
    apply: (h: HeaderList) => withHeader(h, 'Sec-WebSocket-Version', '13', '13'),
    status: 426,
  }),
  badVersion.map((v) => ({
    describe: `version ${v}`,
    apply: (h: HeaderList) => withHeader(h, 'Sec-WebSocket-Version', v),
    status: 426,
  })),
);

describe('property: breaking one required header gets its documented status', () => {
  it('whatever the order, case and whitespace of the rest', () => {
    fc.assert(
      fc.property(validVariant, breakage, ({ headers }, broken) => {
        const outcome = handshake(handshakeRequest({ headers: broken.apply(headers) }));
        expect({ broken: broken.describe, status: outcome.status }).toEqual({ broken: broken.describe, status: broken.status });
        if ('error' in outcome && outcome.status === 426 && broken.describe.includes('version')) {
          expect(outcome.error.headers).toEqual({ 'Sec-WebSocket-Version': '13' });
        }
      }),
      params(),
    );
  });
});
