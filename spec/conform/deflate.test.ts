/**
 * The conformance client's permessage-deflate (src/conform/deflate.ts,
 * zlib-sync.ts): a message compressed without context takeover is the same
 * bytes whoever compresses it, so connections share it by key; with context
 * takeover they must not. Server messages inflate in one zlib context per
 * connection (or, where node:zlib does not allow that, one-shot calls with the
 * window as dictionary): the window carries over unless no_context_takeover
 * applies, and a hostile payload is stopped at MAX_INFLATED (a corrupt one
 * becomes the case's failure: spec/conform/conn.test.ts).
 */
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { type Agreement, ClientDeflate, InflateError, MAX_INFLATED, PayloadCache, TAIL, zeroBomb } from '../../src/conform/deflate.js';
import { OutputLimitError, SyncZlib } from '../../src/conform/zlib-sync.js';

const agreement = (clientNoContextTakeover: boolean, serverNoContextTakeover = false): Agreement => ({ serverNoContextTakeover, clientNoContextTakeover, serverMaxWindowBits: 15, clientMaxWindowBits: 15 });
const inflate = (payload: Buffer) => inflateRawSync(Buffer.concat([payload, TAIL]), { finishFlush: constants.Z_SYNC_FLUSH });
/** What a server sends: `data` compressed on its own, or after `window` (context takeover), its tail removed (§7.2.1). */
const serverPayload = (data: Buffer, window?: Buffer) => deflateRawSync(data, { finishFlush: constants.Z_SYNC_FLUSH, dictionary: window }).subarray(0, -TAIL.length);

const json = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => `{"id": ${(i * seed) % 977}, "status": "ok"}`).join(',\n'));
const hex = (h: string) => Buffer.from(h.replace(/ /g, ''), 'hex');

describe('PayloadCache', () => {
  it('makes a payload once, and drops the least recently used past its limit', () => {
    const cache = new PayloadCache(10);
    let made = 0;
    const make = (n: number) => () => {
      made++;
      return Buffer.alloc(n);
    };
    const a = cache.get('a', make(4));
    expect(cache.get('a', make(4))).toBe(a);
    cache.get('b', make(4));
    cache.get('a', make(4)); // a is now the most recent
    cache.get('c', make(4)); // 12 bytes: b goes
    expect(made).toBe(3);
    cache.get('a', make(4));
    expect(made).toBe(3);
    cache.get('b', make(4));
    expect(made).toBe(4);
  });
});

describe('SyncZlib', () => {
  it('works on this Node, so the conformance run uses it', () => {
    expect(SyncZlib.works).toBe(true);
  });

  it('takes its input in parts, and its output may pass its own room', () => {
    const data = json(20_000, 7); // several hundred KiB: more than the room zlib writes into first
    const payload = serverPayload(data);
    const z = SyncZlib.inflater(15)!;
    const parts = [payload.subarray(0, 1), payload.subarray(1, 1000), Buffer.alloc(0), payload.subarray(1000), TAIL];
    expect(z.pass(parts).equals(data)).toBe(true);
    expect(z.ended).toBe(false);
    z.close();
  });

  it('stops at its limit: limit bytes pass, one more is OutputLimitError, and the context is done with', () => {
    const z = SyncZlib.inflater(15)!;
    const payload = serverPayload(Buffer.alloc(100_000));
    expect(() => z.pass([payload, TAIL], 99_999)).toThrow(OutputLimitError);
    expect(() => z.pass([serverPayload(Buffer.from('x')), TAIL])).toThrow(OutputLimitError);
    const exact = SyncZlib.inflater(15)!;
    expect(exact.pass([payload, TAIL], 100_000).length).toBe(100_000);
    exact.close();
  });

  it('throws zlib\'s error for data that does not inflate, and again on later use, after closing too', () => {
    const z = SyncZlib.inflater(15)!;
    expect(() => z.pass([hex('ff ff ff ff'), TAIL])).toThrow(/invalid/);
    expect(() => z.pass([serverPayload(Buffer.from('x')), TAIL])).toThrow(/invalid/);
    const closed = SyncZlib.inflater(15)!;
    closed.close();
    expect(() => closed.pass([serverPayload(Buffer.from('x')), TAIL])).toThrow(/closed/);
  });
});

for (const sync of [true, false]) {
  describe(`ClientDeflate.inflate (${sync ? 'one zlib context per connection' : 'one-shot fallback'})`, () => {
    const first = json(300, 3);
    const second = Buffer.concat([first.subarray(100, 5000), json(50, 11)]);

    it('takes the window over from message to message (RFC 7692 §7.2.2)', () => {
      const d = new ClientDeflate(agreement(true), sync);
      const one = serverPayload(first);
      const two = serverPayload(second, first);
      expect(two.length).toBeLessThan(serverPayload(second).length / 2); // it does refer back
      expect(d.inflate(one).equals(first)).toBe(true);
      // Fragments, as the frames brought them.
      expect(d.inflate([two.subarray(0, 7), two.subarray(7)]).equals(second)).toBe(true);
      d.close();
    });

    it('with server_no_context_takeover, starts every message afresh: a reference back does not inflate', () => {
      const d = new ClientDeflate(agreement(true, true), sync);
      expect(d.inflate(serverPayload(first)).equals(first)).toBe(true);
      expect(d.inflate(serverPayload(second)).equals(second)).toBe(true);
      expect(() => d.inflate(serverPayload(second, first))).toThrow(InflateError);
      d.close();
    });

    it('reads the RFC 7692 §7.2.3 examples, BFINAL included, one after another', () => {
      const d = new ClientDeflate(agreement(true), sync);
      for (const payload of ['f2 48 cd c9 c9 07 00', 'f3 48 cd c9 c9 07 00 00', '00 05 00 fa ff 48 65 6c 6c 6f 00', 'f2 48 05 00 00 00 ff ff ca c9 c9 07 00']) {
        expect(d.inflate(hex(payload)).toString()).toBe('Hello');
      }
      d.close();
    });

    it(`stops a message that inflates to more than MAX_INFLATED (${MAX_INFLATED} bytes)`, () => {
      const d = new ClientDeflate(agreement(true), sync);
      const bomb = zeroBomb(MAX_INFLATED / 2 ** 20 + 1);
      expect(() => d.inflate(bomb)).toThrow(/more than 67108864 bytes/);
      d.close();
    });
  });
}

describe('ClientDeflate.recycle', () => {
  it('inflates later messages into memory handed back, once, and ignores anything else', () => {
    const d = new ClientDeflate(agreement(true));
    const a = json(1000, 3);
    const [b, c] = [Buffer.from(a).reverse(), Buffer.from(a).fill(0x61, 0, 100)]; // the same size
    const first = d.inflate(serverPayload(a));
    d.recycle(first);
    d.recycle(first); // twice: still one spare
    d.recycle(Buffer.alloc(first.length)); // not ours
    const second = d.inflate(serverPayload(b));
    const third = d.inflate(serverPayload(c));
    expect(second.buffer).toBe(first.buffer);
    expect(third.buffer).not.toBe(first.buffer);
    expect([second.equals(b), third.equals(c)]).toEqual([true, true]);
    d.close();
  });
});

describe('ClientDeflate.compressNext with a key', () => {
  const data = Buffer.from('{"status": "ok", "value": 42}, '.repeat(200));

  for (const sync of [true, false]) {
    it(`without context takeover, connections send the same bytes for the same key (${sync ? 'sync' : 'one-shot'})`, () => {
      const one = new ClientDeflate(agreement(true), sync);
      const two = new ClientDeflate(agreement(true), sync);
      const first = one.compressNext(data, `test message 1`);
      expect(two.compressNext(data, `test message 1`)).toBe(first);
      expect(inflate(first).equals(data)).toBe(true);
      one.close();
      two.close();
    });

    it(`with context takeover, each connection compresses against its own history (${sync ? 'sync' : 'one-shot'})`, () => {
      const one = new ClientDeflate(agreement(false), sync);
      const two = new ClientDeflate(agreement(false), sync);
      const firstOne = one.compressNext(data, 'test message 2');
      const second = one.compressNext(data, 'test message 2');
      const fresh = two.compressNext(data, 'test message 2');
      // The repeat refers back to the first message; a new connection's first message cannot.
      expect(second.length).toBeLessThan(fresh.length);
      const reader = new ClientDeflate({ ...agreement(false), serverNoContextTakeover: false }, true);
      expect(reader.inflate(firstOne).equals(data)).toBe(true);
      expect(reader.inflate(second).equals(data)).toBe(true);
      one.close();
      two.close();
      reader.close();
    });
  }
});
