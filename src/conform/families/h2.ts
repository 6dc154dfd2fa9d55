/**
 * E: the opening handshake over HTTP/2, RFC 8441 §4–5 (an extended CONNECT
 * with ":protocol: websocket", answered 200), and one HTTP/2 connection
 * carrying several WebSockets (§5.1: each is one stream; a stream's reset is
 * that WebSocket's TCP reset, not the connection's). Runs with --http2 only.
 */
import { type Case, type CaseContext, type Family, Mismatch, NotApplicable, expectMessage, expectServing } from '../case.js';
import type { HttpResult, RequestOptions } from '../client.js';
import { type H2Fields, h2Fields } from '../transport.js';
import { OP, closeBody, frame } from '../wire.js';

/** The standard extended CONNECT of the case's target with `change` applied (undefined removes a field). */
function fields(t: CaseContext, change: Record<string, string | undefined> = {}): H2Fields {
  const base = h2Fields(t.target);
  if (typeof base === 'string') throw new Error(base);
  for (const [name, value] of Object.entries(change)) {
    if (value === undefined) delete base[name];
    else base[name] = value;
  }
  return base;
}

function describe(r: HttpResult): string {
  if ('type' in r) return r.detail;
  const body = r.body.toString('utf8').trim();
  return `HTTP ${r.status}${body ? ` ${JSON.stringify(body.length > 80 ? `${body.slice(0, 80)}…` : body)}` : ''}`;
}

/** An echo round trip on a WebSocket the case opened. */
async function echoes(t: CaseContext, label: string, text: string): Promise<void> {
  const c = await t.open({ label });
  const payload = Buffer.from(text);
  await c.send(frame({ opcode: OP.TEXT, payload }));
  await expectMessage(t, c, 'text', payload);
}

export interface Refusal {
  /** Any of these statuses is right. */
  status: number[];
  /** A stream reset with one of these error codes (RFC 9113 §8.1.1: a malformed request) is right too. */
  resets?: string[];
  /** Fields the answer must carry. */
  headers?: Record<string, string>;
}

/** Send `request`; expect a refusal as `want` says, and then a WebSocket on the same connection still works. */
async function expectRefusal(t: CaseContext, request: H2Fields, want: Refusal): Promise<void> {
  const { result } = await t.extendedConnect(request);
  const wanted = [...want.status.map((s) => `HTTP ${s}`), ...(want.resets ?? []).map((r) => `RST_STREAM ${r}`)].join(' or ');
  if ('type' in result) {
    const reset = /RST_STREAM (\w+)/.exec(result.detail)?.[1];
    if (result.type !== 'reset' || reset === undefined || !(want.resets ?? []).includes(reset)) throw new Mismatch(`expected ${wanted}, got ${describe(result)}`);
    t.note(`the server reset the stream with ${reset}`);
  } else {
    if (!want.status.includes(result.status)) throw new Mismatch(`expected ${wanted}, got ${describe(result)}`);
    const notes = [`HTTP ${result.status}`];
    for (const [name, value] of Object.entries(want.headers ?? {})) {
      const got = result.headers.get(name);
      if (got?.join(', ').toLowerCase() !== value.toLowerCase()) throw new Mismatch(`HTTP ${result.status} carries ${name}: ${got?.join(', ') ?? '(none)'}, expected ${name}: ${value}`);
      notes.push(`${name}: ${value}`);
    }
    t.note(notes.join(', '));
  }
  // RFC 8441 §5.1 / RFC 9113 §5.4.2: a refused stream is that stream's business, not the connection's.
  await expectServing(t, 'on the same connection');
}

/** `expectRefusal` for the standard extended CONNECT with `options` applied (RFC 8441 §5: as the HTTP/1.1 fields would be). */
export function expectH2Refusal(t: CaseContext, options: RequestOptions, want: Refusal): Promise<void> {
  const request = h2Fields(t.target, options);
  if (typeof request === 'string') throw new NotApplicable(request);
  return expectRefusal(t, request, want);
}

function refusalCase(id: string, description: string, change: Record<string, string | undefined>, want: Refusal, why: string): Case {
  const statuses = want.status.map((s) => `HTTP ${s}`).join(' or ');
  const extras = Object.entries(want.headers ?? {}).map(([k, v]) => ` with ${k}: ${v}`).join('');
  const resets = want.resets?.length ? ` (or a stream reset ${want.resets.join(' or ')})` : '';
  return {
    id,
    description,
    expectation: `${statuses}${extras}${resets}, never 200; then a new WebSocket on the same HTTP/2 connection is echoed (${why})`,
    run: (t) => expectRefusal(t, fields(t, change), want),
  };
}

const accepted: Case[] = [
  {
    id: 'E.1.1',
    description: 'An extended CONNECT: :method CONNECT, :protocol websocket, :scheme, :path, :authority, sec-websocket-version 13 (RFC 8441 §4-5)',
    expectation: 'HTTP 200 (no Sec-WebSocket-Accept: RFC 8441 has no key), then an echo and a clean close on the stream',
    async run(t) {
      const c = await t.open();
      t.note('HTTP 200');
      const payload = Buffer.from('hello over HTTP/2');
      await c.send(frame({ opcode: OP.TEXT, payload }));
      await expectMessage(t, c, 'text', payload);
      await c.send(frame({ opcode: OP.CLOSE, payload: closeBody(1000) }));
      const e = await c.next();
      if (e.type !== 'close' || e.code !== 1000) throw new Mismatch(`expected close 1000, got ${e.type}`, true);
      const end = await c.next();
      if (end.type !== 'eof') throw new Mismatch(`expected the server to end the stream (END_STREAM, RFC 8441 §5.1), got ${end.type}`, true);
      t.note('close 1000, then END_STREAM');
    },
  },
  {
    id: 'E.1.2',
    description: 'Two subprotocols offered in sec-websocket-protocol',
    expectation: 'HTTP 200 that selects at most one of the offered subprotocols (RFC 8441 §5, RFC 6455 §4.2.2), then an echo',
    async run(t) {
      const c = await t.open({ headers: { 'Sec-WebSocket-Protocol': 'chat, superchat' } });
      const chosen = c.protocol;
      t.note(chosen ? `HTTP 200 selecting ${chosen}` : 'HTTP 200 selecting no subprotocol');
      const payload = Buffer.from('with subprotocols offered');
      await c.send(frame({ opcode: OP.TEXT, payload }));
      await expectMessage(t, c, 'text', payload);
    },
  },
  {
    id: 'E.1.3',
    description: 'A :path with a query string',
    expectation: 'HTTP 200 (the resource name may carry a query, RFC 6455 §3, RFC 9113 §8.3.1), then an echo',
    async run(t) {
      const c = await t.open({ target: `${t.target.path}${t.target.path.includes('?') ? '&' : '?'}room=1&x=%20y` });
      t.note('HTTP 200');
      const payload = Buffer.from('with a query');
      await c.send(frame({ opcode: OP.TEXT, payload }));
      await expectMessage(t, c, 'text', payload);
    },
  },
  {
    id: 'E.1.4',
    description: '20 WebSockets open at once on one HTTP/2 connection, each sending its own message',
    expectation: 'each gets its own message back, on its own stream (RFC 8441 §5: one stream per WebSocket)',
    async run(t) {
      const conns = await Promise.all(Array.from({ length: 20 }, (_, i) => t.open({ label: `stream ${i + 1}` })));
      await Promise.all(conns.map((c, i) => c.send(frame({ opcode: OP.TEXT, payload: `message ${i + 1}` }))));
      for (const [i, c] of conns.entries()) {
        const e = await c.next();
        if (e.type !== 'text' || e.data.toString() !== `message ${i + 1}`) throw new Mismatch(`stream ${i + 1} got ${e.type === 'text' ? JSON.stringify(e.data.toString()) : e.type} instead of its own message`);
      }
      t.note('20 streams, each echoed its own message');
    },
  },
  {
    id: 'E.1.5',
    description: 'One of two WebSockets on a connection is reset by the client (RST_STREAM CANCEL)',
    expectation: 'the other WebSocket still echoes, and a new one opens on the same connection (RFC 8441 §5.1: a reset is that WebSocket\'s, not the connection\'s)',
    async run(t) {
      const doomed = await t.open({ label: 'reset' });
      const other = await t.open({ label: 'kept' });
      doomed.destroy(true);
      const payload = Buffer.from('after the neighbour was reset');
      await other.send(frame({ opcode: OP.TEXT, payload }));
      await expectMessage(t, other, 'text', payload);
      await echoes(t, 'new', 'a new stream');
    },
  },
];

const VERSION = { 'sec-websocket-version': '13' };
/** RFC 9113 §8.1.1: a malformed request is a stream error of type PROTOCOL_ERROR (node:http2 resets such streams itself). */
const MALFORMED = ['PROTOCOL_ERROR'];

const refused: Case[] = [
  refusalCase('E.2.1', 'sec-websocket-version: 8', { 'sec-websocket-version': '8' }, { status: [426], headers: VERSION }, 'RFC 8441 §5 keeps RFC 6455 §4.2.2: 426 names the version spoken'),
  refusalCase('E.2.2', 'No sec-websocket-version', { 'sec-websocket-version': undefined }, { status: [426], headers: VERSION }, 'RFC 6455 §4.2.1 item 6, as over HTTP/1.1 (H.2.17)'),
  refusalCase('E.2.3', ':protocol other than websocket (":protocol: not-websocket")', { ':protocol': 'not-websocket' }, { status: [400, 404, 501], resets: MALFORMED }, 'RFC 8441 §4: only "websocket" bootstraps a WebSocket'),
  refusalCase('E.2.4', 'An empty :path', { ':path': '' }, { status: [400], resets: MALFORMED }, 'RFC 8441 §4 requires :path; RFC 9113 §8.3.1: it MUST NOT be empty'),
  refusalCase('E.2.5', 'An empty :authority', { ':authority': '' }, { status: [400], resets: MALFORMED }, 'RFC 9113 §8.5 and RFC 8441 §4: the target\'s authority'),
  refusalCase('E.2.6', 'A :path in absolute form ("http://example.com/")', { ':path': 'http://example.com/' }, { status: [400], resets: MALFORMED }, 'RFC 9113 §8.3.1: :path is the path and query of the target URI'),
];

export const extendedConnect: Family = {
  id: 'E',
  title: 'Extended CONNECT (HTTP/2)',
  summary: 'RFC 8441 §4-5: over HTTP/2 a WebSocket opens with an extended CONNECT answered 200; a wrong version gets 426 with sec-websocket-version, other bad requests 400 or a stream reset, and the connection serves on; several WebSockets share a connection, and a reset stream is that WebSocket alone. Runs with --http2.',
  cases: [...accepted, ...refused],
};
