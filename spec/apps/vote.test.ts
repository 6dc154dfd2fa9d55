/** `strictws vote` in one process (counts in memory), through the real CLI and the `ws` client. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseOptions } from '../../src/apps/index.js';
import { type RunningServer, startCli } from '../support/cli.js';
import { type Json, JsonClient } from './support.js';

const counts = (state: Json) => Object.fromEntries(state.options.map((o: Json) => [o.id, o.count]));
const isState = (expected: Record<string, number>) => (m: Json) =>
  m.type === 'state' && JSON.stringify(counts(m)) === JSON.stringify(expected);

describe('strictws vote', () => {
  let vote: RunningServer;
  const open: JsonClient[] = [];
  const connect = async () => {
    const client = await JsonClient.open(vote.url);
    open.push(client);
    await client.next((m) => m.type === 'state');
    return client;
  };

  beforeAll(async () => {
    vote = await startCli('vote', ['--options', 'tabs, spaces ,both']);
  });
  afterAll(async () => {
    await Promise.all(open.map((client) => client.closeAndWait().catch(() => {})));
    await vote?.stop();
  });

  it('a new client gets every option, in order, with its count', async () => {
    const client = await connect();
    expect(client.received[0]).toEqual({
      type: 'state',
      options: [
        { id: 'tabs', count: 0 },
        { id: 'spaces', count: 0 },
        { id: 'both', count: 0 },
      ],
    });
  });

  it('a vote updates every client live, and a later client sees the current counts', async () => {
    const [a, b] = await Promise.all([connect(), connect()]);
    a.send({ type: 'vote', option: 'spaces' });
    await Promise.all([a.next(isState({ tabs: 0, spaces: 1, both: 0 })), b.next(isState({ tabs: 0, spaces: 1, both: 0 }))]);
    b.send({ type: 'vote', option: 'tabs' });
    await a.next(isState({ tabs: 1, spaces: 1, both: 0 }));
    const late = await connect();
    expect(counts(late.received[0])).toEqual({ tabs: 1, spaces: 1, both: 0 });
  });

  it('many votes at once are all counted', async () => {
    const [a, b] = await Promise.all([connect(), connect()]);
    for (let i = 0; i < 100; i++) {
      a.send({ type: 'vote', option: 'both' });
      b.send({ type: 'vote', option: 'both' });
    }
    await Promise.all([a.next(isState({ tabs: 1, spaces: 1, both: 200 })), b.next(isState({ tabs: 1, spaces: 1, both: 200 }))]);
  });

  it('an unknown option or a bad request gets an error, changes no count, and the connection stays open', async () => {
    const client = await connect();
    const before = counts(client.received[0]);
    const cases: Array<[unknown, string]> = [
      [{ type: 'vote', option: 'emacs' }, 'unknown-option'],
      [{ type: 'vote', option: '__proto__' }, 'unknown-option'],
      [{ type: 'vote', option: 'TABS' }, 'unknown-option'],
      [{ type: 'vote', option: 1 }, 'bad-request'],
      [{ type: 'vote' }, 'bad-request'],
      [{ type: 'like', option: 'tabs' }, 'bad-request'],
      ['{"type":', 'bad-json'],
      [JSON.stringify({ type: 'vote', option: 'tabs', padding: 'x'.repeat(2000) }), 'too-large'],
    ];
    for (const [request, code] of cases) {
      const from = client.received.length;
      client.send(request);
      expect(await client.next((m) => m.type === 'error', 5000, from)).toEqual({ type: 'error', code, message: expect.any(String) });
    }
    const late = await connect();
    expect(counts(late.received[0])).toEqual(before);
    // Still open and voting.
    client.send({ type: 'vote', option: 'tabs' });
    await client.next(isState({ ...before, tabs: before.tabs + 1 }));
  });

  it('the voter gets "counted" with the new count, and every answer carries the request\'s ref', async () => {
    const client = await connect();
    const before = counts(client.received[0]);
    client.send({ type: 'vote', option: 'spaces', ref: 'v1' });
    expect(await client.next((m) => m.type === 'counted')).toEqual({ type: 'counted', option: 'spaces', count: before.spaces + 1, ref: 'v1' });
    client.send({ type: 'vote', option: 'emacs', ref: 'v2' });
    expect(await client.next((m) => m.type === 'error')).toMatchObject({ code: 'unknown-option', ref: 'v2' });
    const from = client.received.length;
    client.send({ type: 'vote', option: 'spaces', ref: 'x'.repeat(65) });
    expect(await client.next((m) => m.type === 'error', 5000, from)).toEqual({ type: 'error', code: 'bad-request', message: expect.stringContaining('"ref"') });
  });
});

describe('vote options', () => {
  it('are a comma-separated list of distinct, non-empty options', () => {
    expect(parseOptions('a,b,c')).toEqual(['a', 'b', 'c']);
    expect(parseOptions(' Red , Green ')).toEqual(['Red', 'Green']);
    expect(() => parseOptions('a,,b')).toThrow(/empty option/);
    expect(() => parseOptions('a,b,a')).toThrow(/twice/);
    expect(() => parseOptions('x'.repeat(65))).toThrow(/longer than 64/);
    expect(() => parseOptions(Array.from({ length: 33 }, (_, i) => `o${i}`).join(','))).toThrow(/at most 32/);
  });
});
