/**
 * Catching up after an outage: while a process's subscription is away, the
 * others go on publishing; once the backend resumes, the process delivers
 * what its clients missed, in order and once. Two app instances in this
 * process share one memory backend; one sees it through a view that loses
 * its subscription, as a process does when its Redis connection drops.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Backend, createChat, createVote, memory } from '../../src/apps/index.js';
import type { WebSocket, WebSocketServer } from '../../src/index.js';
import { listen } from '../runtime/support.js';
import { type Json, JsonClient } from './support.js';

/** `shared`, as seen by a process whose subscription can drop and come back. */
function flaky(shared: Backend) {
  let away = false;
  const resumed: Array<() => void> = [];
  const backend: Backend = {
    ...shared,
    subscribe: (channel, listener) => shared.subscribe(channel, (message) => away || listener(message)),
    onResume: (listener) => void resumed.push(listener),
  };
  return {
    backend,
    drop: () => void (away = true),
    resume: () => {
      away = false;
      for (const listener of resumed) listener();
    },
  };
}

const servers: WebSocketServer[] = [];
const clients: JsonClient[] = [];
async function serve(onConnection: (ws: WebSocket) => void): Promise<string> {
  const { wss, url } = await listen();
  wss.on('connection', onConnection);
  servers.push(wss);
  return url;
}
afterAll(async () => {
  await Promise.all(clients.map((client) => client.closeAndWait().catch(() => {})));
  await Promise.all(servers.map((wss) => wss.close()));
});

const settle = () => new Promise((resolve) => setTimeout(resolve, 200));

describe('after an outage, a process catches up', () => {
  const shared = memory();
  const b = flaky(shared);
  let urlA: string;
  let urlB: string;
  beforeAll(async () => {
    const [chatA, chatB] = await Promise.all([createChat({ backend: shared }), createChat({ backend: b.backend })]);
    [urlA, urlB] = await Promise.all([serve(chatA.onConnection), serve(chatB.onConnection)]);
  });

  it('chat: the messages it missed reach its clients after the resume, in order, once each', async () => {
    const { client: alice } = await JsonClient.join(urlA, 'alice');
    const { client: bob } = await JsonClient.join(urlB, 'bob');
    clients.push(alice, bob);
    const texts = () => bob.received.filter((m) => m.type === 'message').map((m) => m.text);
    alice.send({ type: 'say', text: 'before' });
    await bob.next((m) => m.type === 'message' && m.text === 'before');

    b.drop();
    for (const text of ['missed 1', 'missed 2']) {
      alice.send({ type: 'say', text, ref: text });
      await alice.next((m: Json) => m.type === 'sent' && m.ref === text);
    }
    await settle();
    expect(texts()).toEqual(['before']);

    b.resume();
    await bob.until(() => texts().length === 3);
    alice.send({ type: 'say', text: 'after' });
    await bob.next((m) => m.type === 'message' && m.text === 'after');
    await settle();
    expect(texts()).toEqual(['before', 'missed 1', 'missed 2', 'after']);
  });
});

describe('after an outage, a vote process catches up', () => {
  const shared = memory();
  const b = flaky(shared);
  let urlA: string;
  let urlB: string;
  beforeAll(async () => {
    const options = ['red', 'blue'];
    const [voteA, voteB] = await Promise.all([createVote({ backend: shared, options }), createVote({ backend: b.backend, options })]);
    [urlA, urlB] = await Promise.all([serve(voteA.onConnection), serve(voteB.onConnection)]);
  });

  it('vote: the counts it missed reach its clients after the resume', async () => {
    const [onA, onB] = await Promise.all([JsonClient.open(urlA), JsonClient.open(urlB)]);
    clients.push(onA, onB);
    await onB.next((m) => m.type === 'state');
    b.drop();
    onA.send({ type: 'vote', option: 'blue' });
    onA.send({ type: 'vote', option: 'blue', ref: 'second' });
    expect(await onA.next((m) => m.ref === 'second')).toEqual({ type: 'counted', option: 'blue', count: 2, ref: 'second' });
    await settle();
    const blue = (m: Json) => m.options.find((o: Json) => o.id === 'blue').count as number;
    expect(onB.received.filter((m) => m.type === 'state').map(blue)).toEqual([0]);

    b.resume();
    await onB.next((m) => m.type === 'state' && blue(m) === 2);
  });
});
