/**
 * Redis going away and coming back, under two chat and two vote processes:
 * a real redis-server that keeps an append-only file fsynced before every
 * reply is killed (SIGKILL) and restarted on the same port and folder.
 * Meanwhile requests are answered "unavailable" and connections stay open;
 * afterwards the processes are back by themselves, and Redis holds exactly
 * the messages and votes that were acknowledged ("sent", "counted").
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Backend, CHAT_KEYS, VOTE_KEYS } from '../../src/apps/index.js';
import { connectRedis } from '../../src/apps/redis.js';
import { type RunningServer, startCli } from '../support/cli.js';
import { peers, skipWithout } from '../support/peers.js';
import { type Json, JsonClient, type RedisServer, startRedis } from './support.js';

const skip = skipWithout(peers.redis);

/** Generous: the machine is shared, and node-redis backs off up to 2 s between tries. */
const BACK_WITHIN_MS = 30_000;

describe.skipIf(skip)('Redis outage: killed and restarted under running apps', () => {
  const dir = mkdtempSync(join(tmpdir(), 'strictws-redis-'));
  let redis: RedisServer;
  let port: number;
  const servers: RunningServer[] = [];
  const clients: JsonClient[] = [];
  const open = async (server: RunningServer) => {
    const client = await JsonClient.open(server.url);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    redis = await startRedis({ dir });
    port = redis.port;
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.closeAndWait().catch(() => {})));
    await Promise.all(servers.map((server) => server.stop()));
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Send `request` with a fresh ref and wait for the one answer that carries it. */
  let refs = 0;
  const ask = async (client: JsonClient, request: object): Promise<Json> => {
    const ref = `r${++refs}`;
    const from = client.received.length;
    client.send({ ...request, ref });
    return client.next((m) => m.ref === ref, 10_000, from);
  };

  it('chat and vote answer "unavailable" while Redis is down, keep every connection, come back by themselves, and Redis holds exactly what was acknowledged', async () => {
    servers.push(
      ...(await Promise.all([
        startCli('chat', ['--redis', redis.url, '--history', '100'], 30_000),
        startCli('chat', ['--redis', redis.url, '--history', '100'], 30_000),
        startCli('vote', ['--redis', redis.url, '--options', 'red,blue'], 30_000),
        startCli('vote', ['--redis', redis.url, '--options', 'red,blue'], 30_000),
      ])),
    );
    const [chatA, chatB, voteA, voteB] = servers;
    const { client: alice } = await JsonClient.join(chatA.url, 'alice');
    const { client: bob } = await JsonClient.join(chatB.url, 'bob');
    clients.push(alice, bob);
    const [voterA, voterB] = await Promise.all([open(voteA), open(voteB)]);
    await Promise.all([voterA.next((m) => m.type === 'state'), voterB.next((m) => m.type === 'state')]);

    const acknowledged: string[] = [];
    const refused: string[] = [];
    let votes = 0;
    const say = async (client: JsonClient, text: string) => {
      const answer = await ask(client, { type: 'say', text });
      if (answer.type === 'sent') acknowledged.push(text);
      else {
        expect(answer).toMatchObject({ type: 'error', code: 'unavailable' });
        refused.push(text);
      }
      return answer;
    };
    const vote = async (client: JsonClient) => {
      const answer = await ask(client, { type: 'vote', option: 'red' });
      if (answer.type === 'counted') votes++;
      else expect(answer).toMatchObject({ type: 'error', code: 'unavailable' });
      return answer;
    };

    // Before: everything is acknowledged, and crosses between processes.
    expect((await say(alice, 'before the outage')).type).toBe('sent');
    await bob.next((m) => m.type === 'message' && m.text === 'before the outage');
    expect(await vote(voterA)).toMatchObject({ type: 'counted', option: 'red', count: 1 });
    expect(await vote(voterB)).toMatchObject({ type: 'counted', option: 'red', count: 2 });

    await redis.stop('SIGKILL');
    const killed = Date.now();

    // During: every request is refused at once, and nothing is closed.
    expect((await say(alice, 'during 1')).code).toBe('unavailable');
    expect((await say(bob, 'during 2')).code).toBe('unavailable');
    expect((await vote(voterA)).code).toBe('unavailable');
    expect((await vote(voterB)).code).toBe('unavailable');
    const joiner = await open(chatB);
    expect(await ask(joiner, { type: 'join', name: 'late' })).toMatchObject({ type: 'error', code: 'unavailable' });
    const newcomer = await open(voteA);
    await newcomer.next((m) => m.type === 'state');
    for (const client of [alice, bob, voterA, voterB, joiner, newcomer]) expect(client.closed).toBeUndefined();
    for (const server of servers) expect(server.process.exitCode).toBeNull();
    // Long enough for several failed reconnection tries, each an 'error' event in every process.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    for (const server of servers) expect(server.process.exitCode).toBeNull();

    // Back on the same port and folder: the acknowledged writes are in its append-only file.
    redis = await startRedis({ port, dir });
    const restarted = Date.now();
    const retry = async (request: () => Promise<Json>, ok: string) => {
      let refusals = 0;
      for (;;) {
        const answer = await request();
        if (answer.type === ok) return { refusals, ms: Date.now() - restarted };
        refusals++;
        expect(Date.now() - restarted).toBeLessThan(BACK_WITHIN_MS);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    let n = 0;
    const back = await Promise.all([
      retry(() => say(alice, `after A ${++n}`), 'sent'),
      retry(() => say(bob, `after B ${++n}`), 'sent'),
      retry(() => vote(voterA), 'counted'),
      retry(() => vote(voterB), 'counted'),
    ]);
    console.log(
      `redis outage: down ${restarted - killed} ms; after the restart, acknowledged again after [chat A, chat B, vote A, vote B] =`,
      back.map((b) => `${b.ms} ms, ${b.refusals} refused`).join('; '),
    );

    // Live again both ways: each process has resubscribed.
    await say(alice, 'to bob after the outage');
    await bob.next((m) => m.type === 'message' && m.text === 'to bob after the outage', 10_000);
    await say(bob, 'to alice after the outage');
    await alice.next((m) => m.type === 'message' && m.text === 'to alice after the outage', 10_000);
    expect(await ask(joiner, { type: 'join', name: 'late' })).toMatchObject({ type: 'welcome' });
    const last = await vote(voterB);
    await voterA.next((m) => m.type === 'state' && m.options[0].count === last.count, 10_000);
    for (const client of [alice, bob, voterA, voterB, joiner, newcomer]) expect(client.closed).toBeUndefined();
    for (const server of servers) expect(server.process.exitCode).toBeNull();

    // Nothing refused is applied later (no retry behind the client's back), nothing acknowledged is missing.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    let probe: Backend | undefined;
    try {
      probe = await connectRedis(redis.url, () => {});
      const history = (await probe.recent(CHAT_KEYS.history, 1000)).map((json) => JSON.parse(json).text as string);
      expect([...history].sort()).toEqual([...acknowledged].sort());
      for (const text of refused) expect(history).not.toContain(text);
      expect(await probe.counts(VOTE_KEYS.counts)).toEqual({ red: votes });
      expect(last.count).toBe(votes);
    } finally {
      await probe?.close();
    }
    // One notice per outage and one on recovery, not one per failed try.
    for (const server of servers) {
      expect(server.log().match(/redis: connection lost/g), server.log()).toHaveLength(1);
      expect(server.log().match(/redis: reconnected after \d+ ms/g), server.log()).toHaveLength(1);
    }
  }, 90_000);
});
