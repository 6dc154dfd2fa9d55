/**
 * The conformance client's permessage-deflate (src/conform/deflate.ts): a
 * message compressed without context takeover is the same bytes whoever
 * compresses it, so connections share it by key; with context takeover they
 * must not.
 */
import { constants, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { type Agreement, ClientDeflate, PayloadCache, TAIL } from '../../src/conform/deflate.js';

const agreement = (clientNoContextTakeover: boolean): Agreement => ({ serverNoContextTakeover: false, clientNoContextTakeover, serverMaxWindowBits: 15, clientMaxWindowBits: 15 });
const inflate = (payload: Buffer) => inflateRawSync(Buffer.concat([payload, TAIL]), { finishFlush: constants.Z_SYNC_FLUSH });

describe('PayloadCache', () => {
  it('shares a payload being made, and drops the least recently used past its limit', async () => {
    const cache = new PayloadCache(10);
    let made = 0;
    const make = (n: number) => () => {
      made++;
      return Promise.resolve(Buffer.alloc(n));
    };
    const [a, b] = [cache.get('a', make(4)), cache.get('a', make(4))];
    expect(a).toBe(b);
    await a;
    await cache.get('b', make(4));
    await cache.get('a', make(4)); // a is now the most recent
    await cache.get('c', make(4)); // 12 bytes: b goes
    expect(made).toBe(3);
    await cache.get('a', make(4));
    expect(made).toBe(3);
    await cache.get('b', make(4));
    expect(made).toBe(4);
  });

  it('forgets a payload whose making failed', async () => {
    const cache = new PayloadCache(100);
    await expect(cache.get('x', () => Promise.reject(new Error('broken')))).rejects.toThrow('broken');
    await expect(cache.get('x', () => Promise.resolve(Buffer.from('ok')))).resolves.toEqual(Buffer.from('ok'));
  });
});

describe('ClientDeflate.compressNext with a key', () => {
  const data = Buffer.from('{"status": "ok", "value": 42}, '.repeat(200));

  it('without context takeover, connections send the same bytes for the same key', async () => {
    const one = new ClientDeflate(agreement(true));
    const two = new ClientDeflate(agreement(true));
    const first = await one.compressNext(data, 'test message 1');
    expect(await two.compressNext(data, 'test message 1')).toBe(first);
    expect(inflate(first).equals(data)).toBe(true);
    one.close();
    two.close();
  });

  it('with context takeover, each connection compresses against its own history', async () => {
    const one = new ClientDeflate(agreement(false));
    const two = new ClientDeflate(agreement(false));
    await one.compressNext(data, 'test message 2');
    const second = await one.compressNext(data, 'test message 2');
    const fresh = await two.compressNext(data, 'test message 2');
    // The repeat refers back to the first message; a new connection's first message cannot.
    expect(second.length).toBeLessThan(fresh.length);
    one.close();
    two.close();
  });
});
