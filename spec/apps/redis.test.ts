/**
 * Scale-out through Redis: a real redis-server (Debian's), the Backend
 * contract held by both implementations, and two app processes on different
 * ports sharing one chat room and one vote board.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Backend, CHAT_KEYS, VOTE_KEYS, memory } from '../../src/apps/index.js';
import { connectRedis } from '../../src/apps/redis.js';
import { type RunningServer, startCli } from '../support/cli.js';
import { peers, skipWithout } from '../support/peers.js';
import { type Json, JsonClient, type RedisServer, startRedis } from './support.js';

const skip = skipWithout(peers.redis);

const noErrors = (message: string) => {
  throw new Error(`unexpected Redis notice: ${message}`);
};

/** The same expectations for the memory and the Redis backend: the apps are written once against them. */
function backendContract(name: string, open: () => Promise<Backend>): void {
  describe(`Backend contract: ${name}`, () => {
    let backend: Backend;
    beforeAll(async () => {
      backend = await open();
    });
    afterAll(async () => {
      await backend?.close();
    });

    it('publish reaches every subscriber, in order', async () => {
      const seen: string[][] = [[], []];
      await backend.subscribe('t:bus', (m) => seen[0].push(m));
      await backend.subscribe('t:bus', (m) => seen[1].push(m));
      for (const m of ['one', 'two', 'three']) await backend.publish('t:bus', m);
      await expect.poll(() => seen).toEqual([['one', 'two', 'three'], ['one', 'two', 'three']]);
    });

    it('a kept publish lands in a list bounded to its last `max` entries', async () => {
      for (let i = 1; i <= 7; i++) await backend.publish('t:kept', `m${i}`, { key: 't:list', max: 5 });
      expect(await backend.recent('t:list', 5)).toEqual(['m3', 'm4', 'm5', 'm6', 'm7']);
      expect(await backend.recent('t:list', 2)).toEqual(['m6', 'm7']);
      expect(await backend.recent('t:list', 0)).toEqual([]);
      expect(await backend.recent('t:none', 5)).toEqual([]);
      await backend.publish('t:kept', 'not kept', { key: 't:empty', max: 0 });
      expect(await backend.recent('t:empty', 5)).toEqual([]);
    });

    it('counters and hashes of counts', async () => {
      expect([await backend.next('t:n'), await backend.next('t:n')]).toEqual([1, 2]);
      expect(await backend.counts('t:h')).toEqual({});
      await backend.increment('t:h', 'a');
      expect(await backend.increment('t:h', 'a')).toBe(2);
      expect(await backend.increment('t:h', 'b')).toBe(1);
      expect(await backend.counts('t:h')).toEqual({ a: 2, b: 1 });
    });

    it('an increment with a channel announces the new count there, in the same step', async () => {
      const seen: unknown[] = [];
      await backend.subscribe('t:counts', (m) => seen.push(JSON.parse(m)));
      expect(await backend.increment('t:announced', 'x "y"', 't:counts')).toBe(1);
      expect(await backend.increment('t:announced', 'x "y"', 't:counts')).toBe(2);
      await expect.poll(() => seen).toEqual([
        { field: 'x "y"', count: 1 },
        { field: 'x "y"', count: 2 },
      ]);
    });
  });
}

backendContract('memory', async () => memory());

describe.skipIf(skip)('with Redis', () => {
  let redis: RedisServer;
  let probe: Backend;
  beforeAll(async () => {
    redis = await startRedis();
    probe = await connectRedis(redis.url, noErrors);
  });
  afterAll(async () => {
    await probe?.close();
    await redis?.stop();
  });

  backendContract('redis', () => connectRedis(redis.url, noErrors));

  describe('two chat processes share one room', () => {
    let a: RunningServer;
    let b: RunningServer;
    const open: JsonClient[] = [];
    const join = async (server: RunningServer, name: string) => {
      const joined = await JsonClient.join(server.url, name);
      open.push(joined.client);
      return joined;
    };
    beforeAll(async () => {
      [a, b] = await Promise.all([
        startCli('chat', ['--redis', redis.url, '--history', '5']),
        startCli('chat', ['--redis', redis.url, '--history', '5']),
      ]);
    });
    afterAll(async () => {
      await Promise.all(open.map((client) => client.closeAndWait().catch(() => {})));
      await Promise.all([a?.stop(), b?.stop()]);
    });

    it('runs on different ports with state in Redis', () => {
      expect(a.port).not.toBe(b.port);
      expect(a.log()).toContain(`shared through Redis at ${redis.url}`);
    });

    it('joins, messages and leaves cross from one process to the other, both ways', async () => {
      const { client: alice, welcome: aliceWelcome } = await join(a, 'alice');
      const { client: bob, welcome: bobWelcome } = await join(b, 'bob');
      // Ids come from one Redis counter: unique across processes.
      expect(bobWelcome.you.id).not.toBe(aliceWelcome.you.id);
      await alice.next((m) => m.type === 'joined' && m.user.name === 'bob');

      bob.send({ type: 'say', text: 'hello from B' });
      expect(await alice.next((m) => m.type === 'message' && m.text === 'hello from B')).toMatchObject({ from: bobWelcome.you });
      alice.send({ type: 'say', text: 'hello from A' });
      await bob.next((m) => m.type === 'message' && m.text === 'hello from A');

      await bob.closeAndWait();
      await alice.next((m) => m.type === 'left' && m.user.id === bobWelcome.you.id);
    });

    it('both processes deliver messages in one order', async () => {
      const { client: onA } = await join(a, 'orderA');
      const { client: onB } = await join(b, 'orderB');
      for (let i = 0; i < 20; i++) {
        onA.send({ type: 'say', text: `a${i}` });
        onB.send({ type: 'say', text: `b${i}` });
      }
      const texts = async (client: JsonClient) => {
        await client.until(() => client.received.filter((m) => m.type === 'message' && /^[ab]\d+$/.test(m.text)).length === 40);
        return client.received.filter((m) => m.type === 'message').map((m) => m.text);
      };
      const [seenOnA, seenOnB] = await Promise.all([texts(onA), texts(onB)]);
      expect(seenOnA).toEqual(seenOnB);
    });

    it('history is bounded in Redis, and a late joiner on either process gets it first', async () => {
      const { client: talker } = await join(a, 'talker');
      for (let i = 1; i <= 8; i++) talker.send({ type: 'say', text: `history ${i}` });
      await talker.next((m) => m.type === 'message' && m.text === 'history 8');
      expect(await probe.recent(CHAT_KEYS.history, 100)).toHaveLength(5);
      const { client: late, welcome } = await join(b, 'late');
      expect(late.received[0]).toBe(welcome);
      expect(welcome.history.map((m: Json) => m.text)).toEqual(['history 4', 'history 5', 'history 6', 'history 7', 'history 8']);
    });

    it('when a process shuts down, its users are announced gone on the other', async () => {
      const { client: stays } = await join(a, 'stays');
      const { welcome } = await join(b, 'leaves-with-b');
      expect(await b.stop('SIGTERM')).toBe(0);
      await stays.next((m) => m.type === 'left' && m.user.id === welcome.you.id);
    });
  });

  describe('two vote processes share one board', () => {
    let a: RunningServer;
    let b: RunningServer;
    const open: JsonClient[] = [];
    const connect = async (server: RunningServer) => {
      const client = await JsonClient.open(server.url);
      open.push(client);
      await client.next((m) => m.type === 'state');
      return client;
    };
    const count = (state: Json, id: string) => state.options.find((o: Json) => o.id === id).count as number;
    const hasCount = (id: string, n: number) => (m: Json) => m.type === 'state' && count(m, id) === n;

    beforeAll(async () => {
      [a, b] = await Promise.all([
        startCli('vote', ['--redis', redis.url, '--options', 'red,green,blue']),
        startCli('vote', ['--redis', redis.url, '--options', 'red,green,blue']),
      ]);
    });
    afterAll(async () => {
      await Promise.all(open.map((client) => client.closeAndWait().catch(() => {})));
      await Promise.all([a?.stop(), b?.stop()]);
    });

    it('a vote on B shows on A, and the counts live in Redis', async () => {
      const [onA, onB] = await Promise.all([connect(a), connect(b)]);
      onB.send({ type: 'vote', option: 'green' });
      await onA.next(hasCount('green', 1));
      onA.send({ type: 'vote', option: 'blue' });
      await onB.next(hasCount('blue', 1));
      expect(await probe.counts(VOTE_KEYS.counts)).toEqual({ green: 1, blue: 1 });
    });

    it('concurrent votes on both processes add up everywhere, and a new client sees the total', async () => {
      const [onA, onB] = await Promise.all([connect(a), connect(b)]);
      for (let i = 0; i < 50; i++) {
        onA.send({ type: 'vote', option: 'red' });
        onB.send({ type: 'vote', option: 'red' });
      }
      await Promise.all([onA.next(hasCount('red', 100)), onB.next(hasCount('red', 100))]);
      expect((await probe.counts(VOTE_KEYS.counts)).red).toBe(100);
      const late = await connect(b);
      expect(count(late.received[0], 'red')).toBe(100);
    });

    it('an unknown option gets an error and changes no count in Redis', async () => {
      const client = await connect(a);
      const before = await probe.counts(VOTE_KEYS.counts);
      client.send({ type: 'vote', option: 'purple' });
      expect((await client.next((m) => m.type === 'error')).code).toBe('unknown-option');
      expect(await probe.counts(VOTE_KEYS.counts)).toEqual(before);
    });

    it('each process holds one connection for commands and one for pub/sub', async () => {
      const names = (await redisCommand(redis.port, 'CLIENT', 'LIST')).match(/\bname=\S+/g) ?? [];
      for (const server of [a, b]) {
        const pid = server.process.pid;
        expect(names.filter((name) => name.startsWith(`name=strictws-${pid}-`)).sort()).toEqual([
          `name=strictws-${pid}-commands`,
          `name=strictws-${pid}-subscriber`,
        ]);
      }
    });
  });
});

/** One command over a raw RESP connection, reply as text. */
async function redisCommand(port: number, ...args: string[]): Promise<string> {
  const { connect } = await import('node:net');
  const socket = connect(port, '127.0.0.1');
  socket.write(`*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`);
  let reply = '';
  socket.setEncoding('utf8');
  for await (const chunk of socket) {
    reply += chunk;
    const match = /^\$(\d+)\r\n/.exec(reply);
    if (match && Buffer.byteLength(reply) >= match[0].length + Number(match[1]) + 2) break;
  }
  socket.destroy();
  return reply.replace(/^\$\d+\r\n/, '');
}
