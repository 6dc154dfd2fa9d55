/**
 * `strictws chat` in one process (state in memory), through the real CLI and
 * the `ws` client: joining, history, broadcast, presence, errors that keep
 * the connection open, and a slow reader dropped with 1008 while the rest carry on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHAT_LIMITS } from '../../src/apps/index.js';
import { type RunningServer, startCli } from '../support/cli.js';
import { type Json, JsonClient, RawClient } from './support.js';

const isMessage = (text: string) => (m: Json) => m.type === 'message' && m.text === text;

describe('strictws chat', () => {
  let chat: RunningServer;
  const open: JsonClient[] = [];
  const join = async (name?: string) => {
    const joined = await JsonClient.join(chat.url, name);
    open.push(joined.client);
    return joined;
  };

  beforeAll(async () => {
    chat = await startCli('chat', ['--history', '3']);
  });
  afterAll(async () => {
    await Promise.all(open.map((client) => client.closeAndWait().catch(() => {})));
    await chat?.stop();
  });

  it('a join gets an id and a welcome first; everyone, the joiner too, sees "joined"', async () => {
    const { client: alice, welcome } = await join('alice');
    expect(alice.received[0]).toBe(welcome);
    expect(welcome.you).toEqual({ id: expect.stringMatching(/^user-\d+$/), name: 'alice' });
    expect(Array.isArray(welcome.history)).toBe(true);
    await alice.next((m) => m.type === 'joined' && m.user.id === welcome.you.id);

    const { client: anon, welcome: anonWelcome } = await join();
    // Without a name, the id is the name.
    expect(anonWelcome.you.name).toBe(anonWelcome.you.id);
    expect(anonWelcome.you.id).not.toBe(welcome.you.id);
    const notice = await alice.next((m) => m.type === 'joined' && m.user.id === anonWelcome.you.id);
    expect(notice).toEqual({ type: 'joined', user: anonWelcome.you, time: expect.any(String) });
    await anon.next((m) => m.type === 'joined' && m.user.id === anonWelcome.you.id);
  });

  it('every message goes to everyone, the sender too, with the documented fields', async () => {
    const { client: a, welcome } = await join('ann');
    const { client: b } = await join('bob');
    a.send({ type: 'say', text: 'hello from ann' });
    const [atA, atB] = await Promise.all([a.next(isMessage('hello from ann')), b.next(isMessage('hello from ann'))]);
    expect(atA).toEqual(atB);
    expect(atA).toEqual({
      type: 'message',
      id: expect.any(String),
      from: welcome.you,
      text: 'hello from ann',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    b.send({ type: 'say', text: 'hi ann, <b>bob</b> here' });
    // HTML goes through as text; the page shows it with textContent.
    await a.next(isMessage('hi ann, <b>bob</b> here'));
  });

  it('a late joiner gets the last --history messages first, oldest first', async () => {
    const { client: talker } = await join('talker');
    for (const text of ['h1', 'h2', 'h3', 'h4', 'h5']) talker.send({ type: 'say', text });
    await talker.next(isMessage('h5'));
    const { client: late, welcome } = await join('late');
    expect(late.received[0].type).toBe('welcome');
    expect(welcome.history.map((m: Json) => m.text)).toEqual(['h3', 'h4', 'h5']);
    expect(welcome.history[0]).toMatchObject({ type: 'message', from: { name: 'talker' } });
    // History is not repeated as live messages.
    await late.next((m) => m.type === 'joined' && m.user.id === welcome.you.id);
    expect(late.received.filter((m) => m.type === 'message')).toEqual([]);
  });

  it('a leave is announced to the others', async () => {
    const { client: stay } = await join('stay');
    const { client: go, welcome } = await join('go');
    await go.closeAndWait();
    expect(await stay.next((m) => m.type === 'left' && m.user.id === welcome.you.id)).toEqual({
      type: 'left',
      user: welcome.you,
      time: expect.any(String),
    });
  });

  it('bad input gets an error and the connection stays open', async () => {
    const client = await JsonClient.open(chat.url);
    open.push(client);
    const cases: Array<[unknown, string]> = [
      ['not json', 'bad-json'],
      ['[1,2]', 'bad-request'],
      [{ type: 'dance' }, 'bad-request'],
      [{ type: 'say', text: 'too early' }, 'not-joined'],
      [{ type: 'join', name: '' }, 'bad-request'],
      [{ type: 'join', name: 'x'.repeat(CHAT_LIMITS.name + 1) }, 'bad-request'],
      [{ type: 'join', name: 'bell\u0007' }, 'bad-request'],
      [JSON.stringify({ type: 'say', text: 'x'.repeat(CHAT_LIMITS.requestBytes) }), 'too-large'],
    ];
    for (const [request, code] of cases) {
      const from = client.received.length;
      client.send(request);
      expect(await client.next((m) => m.type === 'error', 5000, from)).toEqual({ type: 'error', code, message: expect.any(String) });
    }
    let from = client.received.length;
    client.ws.send(Buffer.from('{"type":"join"}'));
    expect((await client.next((m) => m.type === 'error', 5000, from)).code).toBe('bad-json');

    // Still open: join and talk.
    client.send({ type: 'join', name: 'survivor' });
    await client.next((m) => m.type === 'welcome');
    from = client.received.length;
    client.send({ type: 'join' });
    expect((await client.next((m) => m.type === 'error', 5000, from)).code).toBe('already-joined');
    for (const [request, code] of [
      [{ type: 'say', text: '' }, 'bad-request'],
      [{ type: 'say', text: 42 }, 'bad-request'],
      [{ type: 'say', text: 'x'.repeat(CHAT_LIMITS.text + 1) }, 'too-large'],
    ] as const) {
      from = client.received.length;
      client.send(request);
      expect((await client.next((m) => m.type === 'error', 5000, from)).code).toBe(code);
    }
    client.send({ type: 'say', text: 'still here' });
    await client.next(isMessage('still here'));
    expect(client.closed).toBeUndefined();
  });

  it('each request gets one answer carrying its ref: "sent" once a say is stored, the welcome, or the error', async () => {
    const client = await JsonClient.open(chat.url);
    open.push(client);
    const ask = async (request: object, ref: string) => {
      const from = client.received.length;
      client.send({ ...request, ref });
      return client.next((m) => m.ref === ref, 5000, from);
    };
    expect(await ask({ type: 'say', text: 'early' }, 'e1')).toEqual({ type: 'error', code: 'not-joined', message: expect.any(String), ref: 'e1' });
    expect(await ask({ type: 'join', name: 'reffy' }, 'j1')).toMatchObject({ type: 'welcome', you: { name: 'reffy' }, ref: 'j1' });
    const sent = await ask({ type: 'say', text: 'with a ref' }, 's1');
    expect(sent).toEqual({ type: 'sent', id: expect.any(String), ref: 's1' });
    expect(await client.next(isMessage('with a ref'))).toMatchObject({ id: sent.id });
    expect(await ask({ type: 'say', text: '' }, 's2')).toMatchObject({ type: 'error', code: 'bad-request', ref: 's2' });
    // Without a ref, the answers come all the same, without one.
    client.send({ type: 'say', text: 'no ref' });
    expect(await client.next((m) => m.type === 'sent' && m.id !== sent.id)).toEqual({ type: 'sent', id: expect.any(String) });
    for (const ref of ['', 'x'.repeat(65), 7]) {
      const from = client.received.length;
      client.send({ type: 'say', text: 'bad ref', ref });
      expect(await client.next((m) => m.type === 'error', 5000, from)).toEqual({ type: 'error', code: 'bad-request', message: expect.stringContaining('"ref"') });
    }
  });

  it('a message over maxPayload (64 KiB) is refused by the server with 1009', async () => {
    const client = await JsonClient.open(chat.url);
    client.ws.send('x'.repeat(CHAT_LIMITS.maxPayload + 1));
    await new Promise((resolve) => client.ws.once('close', resolve));
    expect(client.closed?.code).toBe(1009);
  });

  it('a client that never reads is dropped with 1008 past its cap; the others keep receiving', async () => {
    const { client: sender } = await join('sender');
    const { client: reader } = await join('reader');
    const slow = await RawClient.open(chat.url);
    slow.sendText(JSON.stringify({ type: 'join', name: 'slow' }));
    await slow.waitFor((text) => text.includes('"type":"welcome"'));
    const slowId = /"you":\{"id":"(user-\d+)"/.exec(slow.text())![1];
    slow.stopReading();

    // Heavy chat: ~2 KB per message, until the server gives up on the slow client.
    const text = 'x'.repeat(CHAT_LIMITS.text - 10);
    let sent = 0;
    const start = reader.received.length;
    const dropped = () => chat.log().includes('error SEND_BUFFER_LIMIT');
    while (!dropped() && sent < 20_000) {
      for (let i = 0; i < 200; i++) sender.send({ type: 'say', text: `${sent++} ${text}` });
      // Let the reader keep up, as a healthy client does.
      await reader.next(isMessage(`${sent - 1} ${text}`), 10_000, start);
    }
    expect(dropped()).toBe(true);
    // The rest carry on: every message reached the reader, and more still do.
    sender.send({ type: 'say', text: 'after the drop' });
    await reader.next(isMessage('after the drop'), 10_000, start);
    expect(reader.received.slice(start).filter((m) => m.type === 'message')).toHaveLength(sent + 1);

    // The slow client finds the 1008 close at the end of what was queued for it, and is announced gone.
    await slow.readToEnd();
    const close = slow.frames().at(-1)!;
    expect(close.opcode).toBe(0x8);
    expect(close.payload.readUInt16BE(0)).toBe(1008);
    expect(close.payload.subarray(2).toString()).toBe('send buffer limit exceeded');
    await reader.next((m) => m.type === 'left' && m.user.id === slowId, 10_000, start);
    expect(chat.log()).toMatch(/#\d+ closed 1008/);
  });
});
