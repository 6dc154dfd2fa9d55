/**
 * H: the opening handshake, RFC 6455 §4.1 (what a client sends), §4.2.1
 * (what the server must check) and §4.2.2 (its answers), with the HTTP/1.1
 * syntax of RFC 9112 and the server's request caps (RFC 9110 §15.5.15 414,
 * RFC 6585 §5 431).
 */
import { randomBytes } from 'node:crypto';
import { type Case, type CaseContext, type Family, Mismatch, checkAccept, expectMessage, expectPong, expectServing } from '../case.js';
import { type Conn, type HttpResult, type RequestOptions, acceptFor, buildRequest, sleep } from '../client.js';
import { OP, frames } from '../wire.js';

/** The server's default handshake timeout (ServerOptions.handshakeTimeout, 10 s). */
const HANDSHAKE_TIMEOUT_MS = 10_000;
const HANDSHAKE_SLACK_MS = 10_000;
/**
 * A refused handshake is answered and closed at once (RFC 6455 §4.2.1: the
 * server stops processing the handshake). Well below node:http's 5 s
 * keep-alive timeout, so an idle kept-alive connection is not taken for a close.
 */
const REJECT_CLOSE_MS = 4_000;

function describeResponse(r: HttpResult): string {
  if ('type' in r) return `${r.type}: ${r.detail}`;
  const body = r.body.length ? `, ${r.body.length}-byte body` : ', no body';
  return `HTTP ${r.status} ${r.reason}${body}`;
}

export interface Rejection {
  /** The status, or the statuses any of which is right. */
  status: number | number[];
  /** Header values the answer must carry (case-insensitive compare of the value). */
  headers?: Record<string, string>;
  /** The body must be non-empty text/plain. */
  textBody?: boolean;
}

/** Send `request`, expect an HTTP error response with `want`, then the server's TCP close. */
export async function expectRejection(t: CaseContext, request: string | Buffer, want: Rejection, chunk?: number): Promise<void> {
  const c = await t.connect();
  if (chunk) await c.sendChopped(request, chunk);
  else await c.send(request);
  const r = await c.response();
  const statuses = [want.status].flat();
  const wanted = `HTTP ${statuses.join(' or ')}`;
  if ('type' in r) throw new Mismatch(`expected ${wanted}, got ${describeResponse(r)}`);
  if (!statuses.includes(r.status)) {
    const body = r.body.toString('utf8').trim();
    throw new Mismatch(`expected ${wanted}, got ${describeResponse(r)}${body ? `: ${JSON.stringify(body.length > 80 ? `${body.slice(0, 80)}…` : body)}` : ''}`);
  }
  const notes = [`HTTP ${r.status} ${r.reason}`];
  for (const [name, value] of Object.entries(want.headers ?? {})) {
    const got = r.headers.get(name.toLowerCase());
    if (!got || got.join(', ').toLowerCase() !== value.toLowerCase()) {
      throw new Mismatch(`HTTP ${r.status} carries ${name}: ${got?.join(', ') ?? '(none)'}, expected ${name}: ${value}`);
    }
    notes.push(`${name}: ${got.join(', ')}`);
  }
  if (r.headers.has('sec-websocket-accept')) throw new Mismatch(`HTTP ${r.status} carries Sec-WebSocket-Accept`);
  const connection = (r.headers.get('connection') ?? []).join(',').toLowerCase().split(/\s*,\s*/);
  if (r.headers.has('upgrade') && !connection.includes('upgrade')) {
    throw new Mismatch(`HTTP ${r.status} sends Upgrade without the "upgrade" Connection option (RFC 9110 §7.8)`);
  }
  if (want.textBody) {
    const type = r.headers.get('content-type')?.[0] ?? '';
    if (!type.startsWith('text/plain') || r.body.length === 0) {
      throw new Mismatch(`expected a text body, got Content-Type "${type}" and ${r.body.length} bytes`);
    }
    notes.push(`text body ${JSON.stringify(r.body.toString('utf8').trim())}`);
  }
  t.note(notes.join(', '));
  const e = await c.next(REJECT_CLOSE_MS);
  if (e.type !== 'eof') {
    throw new Mismatch(`expected the server to close the connection right after HTTP ${r.status}, got ${e.type === 'timeout' ? `nothing within ${REJECT_CLOSE_MS} ms` : e.type}`);
  }
  t.note('then TCP close by the server');
}

function rejectCase(id: string, description: string, status: number | number[], request: (t: CaseContext) => string | Buffer, want: Omit<Rejection, 'status'> = {}, why = ''): Case {
  const extras = Object.entries(want.headers ?? {}).map(([k, v]) => ` with ${k}: ${v}`).join('');
  return {
    id,
    description,
    expectation: `HTTP ${[status].flat().join(' or ')}${extras}${want.textBody ? ' and a text body' : ''}, then TCP close by the server within ${REJECT_CLOSE_MS / 1000} s${why ? ` (${why})` : ''}`,
    async run(t) {
      await expectRejection(t, request(t), { status, ...want });
    },
  };
}

/** A request with `options` applied to the standard client handshake. */
const req = (options: RequestOptions) => (t: CaseContext) => buildRequest(t.target, options).text;

/** A request written line by line, for malformed syntax. */
const raw = (lines: (t: CaseContext) => string) => (t: CaseContext) => lines(t);

function standardLines(t: CaseContext): string[] {
  return [
    `Host: ${t.target.hostHeader}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
    'Sec-WebSocket-Version: 13',
  ];
}

function acceptCase(id: string, description: string, expectation: string, run: (t: CaseContext) => Promise<void>): Case {
  return { id, description, expectation, run };
}

async function handshakeOk(t: CaseContext, options: RequestOptions, chunk?: number, pauseMs = 0): Promise<void> {
  const c = await t.connect();
  const { text, key } = buildRequest(t.target, options);
  if (chunk) await c.sendChopped(text, chunk, pauseMs);
  else await c.send(text);
  const r = await c.response();
  checkAccept(r, key, options.headers);
  const chosen = [r.headers.has('sec-websocket-protocol') ? `subprotocol ${r.headers.get('sec-websocket-protocol')}` : '', r.headers.has('sec-websocket-extensions') ? `extensions ${r.headers.get('sec-websocket-extensions')}` : ''].filter(Boolean);
  t.note(`HTTP 101, Sec-WebSocket-Accept ${r.headers.get('sec-websocket-accept')?.[0]} is correct${chosen.length ? `, ${chosen.join(', ')}` : ''}`);
  const probe = Buffer.from('hello after the handshake');
  await c.send(frames({ opcode: OP.TEXT, payload: probe }));
  await expectMessage(t, c, 'text', probe);
}

const accepted: Case[] = [
  acceptCase('H.1.1', 'A minimal valid opening handshake (RFC 6455 §4.1)', 'HTTP 101 with Upgrade, Connection and the right Sec-WebSocket-Accept; then an echo', (t) => handshakeOk(t, {})),
  acceptCase('H.1.2', 'The key from the RFC\'s example, "dGhlIHNhbXBsZSBub25jZQ=="', 'HTTP 101 with Sec-WebSocket-Accept "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" (RFC 6455 §1.3)', async (t) => {
    // Our own SHA-1/base64 path must reproduce the RFC's worked example first.
    if (acceptFor('dGhlIHNhbXBsZSBub25jZQ==') !== 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=') throw new Error('the client computes accept keys wrongly');
    await handshakeOk(t, { key: 'dGhlIHNhbXBsZSBub25jZQ==' });
  }),
  acceptCase('H.1.3', 'Header names in other cases, "Upgrade: WebSocket", "Connection: keep-alive, Upgrade"', 'HTTP 101 (names and these values are case-insensitive, Connection is a list; RFC 6455 §4.2.1)', async (t) => {
    const key = randomBytes(16).toString('base64');
    const c = await t.connect();
    const lines = [`GET ${t.target.path} HTTP/1.1`, `hOsT: ${t.target.hostHeader}`, 'UPGRADE: WebSocket', 'connection: keep-alive, Upgrade', `sec-websocket-key: ${key}`, 'SEC-WEBSOCKET-VERSION: 13'];
    await c.send(`${lines.join('\r\n')}\r\n\r\n`);
    checkAccept(await c.response(), key);
    t.note('HTTP 101 with the right Sec-WebSocket-Accept');
  }),
  acceptCase('H.1.4', 'Origin, User-Agent, an offered subprotocol and an unknown extension', 'HTTP 101 that selects at most one of the offered subprotocols and agrees to no unknown extension (RFC 6455 §4.2.2 items 5.5-5.6, §9.1)', (t) =>
    handshakeOk(t, {
      headers: { Origin: 'http://example.com', 'User-Agent': 'strictws-conformance', 'Sec-WebSocket-Protocol': 'chat, superchat', 'Sec-WebSocket-Extensions': 'x-strictws-unknown; foo=1' },
    }),
  ),
  acceptCase('H.1.5', 'A request target with a query string', 'HTTP 101 (the resource name may carry a query, RFC 6455 §3)', (t) =>
    handshakeOk(t, { target: `${t.target.path}${t.target.path.includes('?') ? '&' : '?'}room=1&x=%20y` }),
  ),
  acceptCase('H.1.6', 'The opening handshake written one byte per write', 'HTTP 101 (the request may arrive in any number of TCP segments)', (t) => handshakeOk(t, {}, 1)),
  acceptCase('H.1.7', 'A text frame, a binary frame and a ping sent in the same write as the handshake', 'HTTP 101, then the text and binary echoed and the ping answered, in order', async (t) => {
    const text = Buffer.from('pipelined text');
    const binary = Buffer.from([0, 1, 2, 0xfe, 0xff]);
    const ping = Buffer.from('pipelined ping');
    const c = await t.open({ pipelined: frames({ opcode: OP.TEXT, payload: text }, { opcode: OP.BINARY, payload: binary }, { opcode: OP.PING, payload: ping }) });
    t.note('HTTP 101');
    await expectMessage(t, c, 'text', text);
    await expectMessage(t, c, 'binary', binary);
    await expectPong(t, c, ping);
  }),
  acceptCase('H.1.8', 'The opening handshake trickled in 8-byte writes every 40 ms (about 1 s)', 'HTTP 101: a slow client that finishes within the handshake timeout is served', (t) => handshakeOk(t, {}, 8, 40)),
];

const NON_ZERO_PAD_KEY = 'dGhlIHNhbXBsZSBub25jZR=='; // "the sample nonce" with the last character's pad bits set

const rejected: Case[] = [
  rejectCase('H.2.1', 'Method POST', 405, req({ method: 'POST' }), { headers: { Allow: 'GET' } }, 'RFC 6455 §4.2.1 item 1: the method MUST be GET'),
  rejectCase('H.2.2', 'Method PUT', 405, req({ method: 'PUT' }), { headers: { Allow: 'GET' } }, 'RFC 6455 §4.2.1 item 1'),
  rejectCase('H.2.3', 'Method "get" in lower case', [400, 405, 501], req({ method: 'get' }), {}, 'methods are case-sensitive (RFC 9110 §9.1), so this is not GET: refused as unknown (501), not allowed (405) or unparsable (400), never upgraded'),
  rejectCase('H.2.4', 'HTTP/1.0', 505, req({ version: 'HTTP/1.0' }), {}, 'RFC 6455 §4.2.1 item 1: HTTP/1.1 or higher'),
  rejectCase('H.2.5', 'No Host header', 400, req({ headers: { Host: undefined } }), {}, 'RFC 6455 §4.2.1 item 2'),
  rejectCase('H.2.6', 'Two Host headers', 400, (t) => buildRequest(t.target, { extraLines: ['Host: other.example'] }).text, {}, 'RFC 9112 §3.2: exactly one Host'),
  rejectCase('H.2.7', 'No Upgrade header', 426, req({ headers: { Upgrade: undefined } }), { headers: { Upgrade: 'websocket' } }, 'RFC 6455 §4.2.1 item 3; RFC 9110 §15.5.22: a 426 names the protocol in Upgrade'),
  rejectCase('H.2.8', '"Upgrade: h2c"', 426, req({ headers: { Upgrade: 'h2c' } }), { headers: { Upgrade: 'websocket' } }, 'RFC 6455 §4.2.1 item 3'),
  rejectCase('H.2.9', 'No Connection header', 400, req({ headers: { Connection: undefined } }), {}, 'RFC 6455 §4.2.1 item 4'),
  rejectCase('H.2.10', '"Connection: keep-alive" without the Upgrade token', 400, req({ headers: { Connection: 'keep-alive' } }), {}, 'RFC 6455 §4.2.1 item 4'),
  rejectCase('H.2.11', 'No Sec-WebSocket-Key', 400, req({ headers: { 'Sec-WebSocket-Key': undefined } }), {}, 'RFC 6455 §4.2.1 item 5'),
  rejectCase('H.2.12', 'A Sec-WebSocket-Key that is not base64', 400, req({ key: 'this is not base64 at all!' }), {}, 'RFC 6455 §4.2.1 item 5'),
  rejectCase('H.2.13', 'A Sec-WebSocket-Key of 15 bytes', 400, req({ key: randomBytes(15).toString('base64') }), {}, 'RFC 6455 §4.2.1 item 5: 16 bytes when decoded'),
  rejectCase('H.2.14', 'A Sec-WebSocket-Key of 17 bytes', 400, req({ key: randomBytes(17).toString('base64') }), {}, 'RFC 6455 §4.2.1 item 5'),
  rejectCase('H.2.15', 'Two Sec-WebSocket-Key headers', 400, (t) => buildRequest(t.target, { extraLines: [`Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`] }).text, {}, 'RFC 6455 §11.3.1: it MUST NOT appear more than once'),
  rejectCase('H.2.16', 'A Sec-WebSocket-Key with non-zero pad bits', 400, req({ key: NON_ZERO_PAD_KEY }), {}, 'not the canonical base64 of 16 bytes; RFC 4648 §3.5 lets decoders reject it'),
  rejectCase('H.2.17', 'No Sec-WebSocket-Version', 426, req({ headers: { 'Sec-WebSocket-Version': undefined } }), { headers: { 'Sec-WebSocket-Version': '13' } }, 'RFC 6455 §4.2.2 item 4'),
  rejectCase('H.2.18', 'Sec-WebSocket-Version: 8 (hybi-08)', 426, req({ headers: { 'Sec-WebSocket-Version': '8' } }), { headers: { 'Sec-WebSocket-Version': '13' } }, 'RFC 6455 §4.4'),
  rejectCase('H.2.19', 'Sec-WebSocket-Version: 14', 426, req({ headers: { 'Sec-WebSocket-Version': '14' } }), { headers: { 'Sec-WebSocket-Version': '13' } }, 'RFC 6455 §4.2.2 item 4'),
  rejectCase('H.2.20', 'A plain HTTP GET, as a browser navigating to the URL sends', 426, (t) => `GET ${t.target.path} HTTP/1.1\r\nHost: ${t.target.hostHeader}\r\nAccept: text/html\r\nUser-Agent: strictws-conformance\r\n\r\n`, { headers: { Upgrade: 'websocket' }, textBody: true }, 'not a WebSocket request: say which protocol is required'),
  rejectCase('H.2.21', 'Sec-WebSocket-Protocol with a non-token element "a/b"', 400, req({ headers: { 'Sec-WebSocket-Protocol': 'chat, a/b' } }), {}, 'RFC 6455 §4.1 item 10: elements are tokens'),
];

const HEADER_FILLER = (n: number) => Array.from({ length: n }, (_, i) => `X-Filler-${i}: ${i}`);

const caps: Case[] = [
  rejectCase('H.3.1', 'A request line of 9,000 bytes', 414, (t) => buildRequest(t.target, { target: `/${'a'.repeat(9000)}` }).text, {}, 'over the 8 KiB request-line cap; RFC 9110 §15.5.15'),
  acceptCase('H.3.2', 'A request line of exactly 8,192 bytes', 'HTTP 101 (at the cap, not over it)', (t) => {
    const fixed = 'GET  HTTP/1.1'.length;
    return handshakeOk(t, { target: `/${'b'.repeat(8192 - fixed - 1)}` });
  }),
  rejectCase('H.3.3', '101 header fields', 431, req({ extraLines: HEADER_FILLER(96) }), {}, 'over the 100-field cap; RFC 6585 §5'),
  acceptCase('H.3.4', 'Exactly 100 header fields', 'HTTP 101 (at the cap, not over it)', (t) => handshakeOk(t, { extraLines: HEADER_FILLER(95) })),
  rejectCase('H.3.5', 'One header field of 17 KiB', 431, req({ extraLines: [`X-Big: ${'c'.repeat(17 * 1024)}`] }), {}, 'over the 16 KiB request-head cap; RFC 6585 §5'),
  rejectCase('H.3.6', 'A request head that never ends, 20 KiB of header lines', 431, (t) => `GET ${t.target.path} HTTP/1.1\r\n${HEADER_FILLER(90).map((l) => `${l}${'d'.repeat(200)}`).join('\r\n')}\r\n`, {}, 'the cap applies before the head is complete'),
];

const malformed: Case[] = [
  rejectCase('H.4.1', 'A request line without an HTTP version', [400, 505], raw((t) => `GET ${t.target.path}\r\n${standardLines(t).join('\r\n')}\r\n\r\n`), {}, 'RFC 9112 §3; a parser may take it for HTTP/0.9 and answer 505'),
  rejectCase('H.4.2', 'A request target containing a raw space ("GET /a b HTTP/1.1")', 400, raw((t) => `GET ${t.target.path}/a b HTTP/1.1\r\n${standardLines(t).join('\r\n')}\r\n\r\n`), {}, 'RFC 9112 §3.2: a target has no whitespace; §3 says not to autocorrect it'),
  rejectCase('H.4.3', 'A header line without a colon', 400, raw((t) => `GET ${t.target.path} HTTP/1.1\r\n${standardLines(t).join('\r\n')}\r\nX-No-Colon here\r\n\r\n`), {}, 'RFC 9112 §5'),
  rejectCase('H.4.4', 'Whitespace between a field name and the colon ("Host : …")', 400, raw((t) => `GET ${t.target.path} HTTP/1.1\r\n${standardLines(t).slice(1).join('\r\n')}\r\nHost : ${t.target.hostHeader}\r\n\r\n`), {}, 'RFC 9112 §5.1: a server MUST reject it with 400'),
  rejectCase('H.4.5', 'An obsolete line folding (a header continued on a line starting with a space)', 400, raw((t) => `GET ${t.target.path} HTTP/1.1\r\n${standardLines(t).join('\r\n')}\r\nX-Folded: one\r\n  two\r\n\r\n`), {}, 'RFC 9112 §5.2: reject obs-fold with 400'),
  rejectCase('H.4.6', 'Lines ended by LF alone', 400, raw((t) => `GET ${t.target.path} HTTP/1.1\n${standardLines(t).join('\n')}\n\n`), {}, 'the handshake is CRLF-delimited (RFC 6455 §4.1, RFC 9112 §2.2)'),
  rejectCase('H.4.7', 'A control character (0x01) in a header value', 400, raw((t) => `GET ${t.target.path} HTTP/1.1\r\n${standardLines(t).join('\r\n')}\r\nX-Ctl: a\x01b\r\n\r\n`), {}, 'RFC 9110 §5.5'),
  rejectCase('H.4.8', 'A field name with a non-token character "X(y)"', 400, raw((t) => `GET ${t.target.path} HTTP/1.1\r\n${standardLines(t).join('\r\n')}\r\nX(y): 1\r\n\r\n`), {}, 'RFC 9110 §5.1'),
  rejectCase('H.4.9', 'A bare CR inside a header value', 400, raw((t) => `GET ${t.target.path} HTTP/1.1\r\n${standardLines(t).join('\r\n')}\r\nX-Cr: a\rb\r\n\r\n`), {}, 'RFC 9112 §2.2'),
  rejectCase('H.4.10', 'A TLS ClientHello sent to the plain-text port', 400, () => Buffer.from('16030100a5010000a10303' + '00'.repeat(32) + '0d0a', 'hex'), {}, 'not HTTP at all'),
];

/** How long the slow cases keep watching after the deadline, to report when the server did close. */
const OBSERVE_MS = 35_000;
const DEADLINE_MS = HANDSHAKE_TIMEOUT_MS + HANDSHAKE_SLACK_MS;

/** Wait for the server to close `c`, trickling `drip` bytes meanwhile if given; judge against the deadline. */
async function expectTimeoutClose(t: CaseContext, c: Conn, started: number, drip?: Buffer): Promise<void> {
  let i = 0;
  while (!c.eof && !c.closed && performance.now() - started < OBSERVE_MS) {
    if (drip) {
      await c.send(drip.subarray(i % drip.length, (i % drip.length) + 1));
      i++;
    }
    await sleep(drip ? 400 : 100);
  }
  const elapsed = performance.now() - started;
  const r = await c.response(50);
  const answer = 'type' in r ? `no HTTP answer (${r.type})` : `HTTP ${r.status} ${r.reason}`;
  const trickled = drip ? ` and ${i} trickled bytes` : '';
  if (!c.eof && !c.closed) throw new Mismatch(`still open after ${(elapsed / 1000).toFixed(1)} s${trickled}`);
  t.note(`${answer} and TCP close after ${(elapsed / 1000).toFixed(1)} s${trickled}`);
  if (elapsed > DEADLINE_MS) throw new Mismatch(`closed only after ${(elapsed / 1000).toFixed(1)} s, later than the ${HANDSHAKE_TIMEOUT_MS / 1000} s handshake timeout (+${HANDSHAKE_SLACK_MS / 1000} s slack)`);
}

const timing: Case[] = [
  {
    id: 'H.5.1',
    description: 'Slowloris: a request head trickled one byte every 400 ms, never finished',
    expectation: `the server closes the connection once its handshake timeout (${HANDSHAKE_TIMEOUT_MS / 1000} s by default) runs out, within ${DEADLINE_MS / 1000} s, though bytes keep arriving`,
    slow: true,
    timeoutMs: OBSERVE_MS + 5_000,
    async run(t) {
      const c = await t.connect();
      const started = performance.now();
      await c.send(`GET ${t.target.path} HTTP/1.1\r\nHost: ${t.target.hostHeader}\r\n`);
      await expectTimeoutClose(t, c, started, Buffer.from('X-Slow: ' + 'z'.repeat(200)));
    },
  },
  {
    id: 'H.5.2',
    description: 'An idle connection that never sends a byte',
    expectation: `the server closes it within ${DEADLINE_MS / 1000} s (handshake timeout)`,
    slow: true,
    timeoutMs: OBSERVE_MS + 5_000,
    async run(t) {
      const c = await t.connect();
      await expectTimeoutClose(t, c, performance.now());
    },
  },
  {
    id: 'H.5.3',
    description: 'A client that closes TCP halfway through its request head',
    expectation: 'the server closes its side and keeps serving new connections',
    async run(t) {
      const c = await t.connect();
      await c.send(`GET ${t.target.path} HTTP/1.1\r\nHost: ${t.target.hostHeader}\r\nUpgr`);
      c.end();
      const r = await c.response();
      if (!('type' in r) || r.type !== 'eof') {
        t.note(`answered ${describeResponse(r)}`);
        if (!c.eof && (await c.next()).type !== 'eof') throw new Mismatch('the server did not close the connection');
      } else {
        t.note('TCP close by the server');
      }
      await expectServing(t);
    },
  },
  {
    id: 'H.5.4',
    description: 'A client that resets the connection (TCP RST) halfway through its request head',
    expectation: 'the server keeps serving new connections',
    async run(t) {
      const c = await t.connect();
      await c.send(`GET ${t.target.path} HTTP/1.1\r\nHost: ${t.target.hostHeader}\r\n`);
      c.destroy(true);
      await sleep(50);
      await expectServing(t);
    },
  },
];

/** A head of exactly HEAD_SIZE bytes is under the 16 KiB cap with room to spare. */
const HEAD_SIZE = 15_000;

/** The standard request with one extra field `name: value`, padded by `pad` to HEAD_SIZE bytes. */
function sizedRequest(t: CaseContext, name: string, value: (fill: number) => string, method = 'GET'): SizedRequest {
  const base = buildRequest(t.target, { method, extraLines: [`${name}: `] }).text.length;
  const filled = value(HEAD_SIZE - base);
  return { ...buildRequest(t.target, { method, extraLines: [`${name}: ${filled}`] }), offered: { [name]: filled } };
}

/** A request padded to HEAD_SIZE, and the field it was padded with (what the 101 is checked against). */
type SizedRequest = { text: string; key: string; offered: Record<string, string> };

const framing: Case[] = [
  {
    id: 'H.6.1',
    description: 'An upgrade request with method HEAD',
    expectation: 'HTTP 405 with Allow: GET and no content after the head, whatever its Content-Length, then TCP close (RFC 9110 §9.3.2: a response to HEAD has no content)',
    async run(t) {
      await expectBodyless(t, buildRequest(t.target, { method: 'HEAD' }).text, 405);
    },
  },
  {
    id: 'H.6.2',
    description: 'A plain HEAD (no Upgrade) of the WebSocket resource',
    expectation: 'an HTTP error status (405 or 426) with no content after the head, then TCP close (RFC 9110 §9.3.2)',
    async run(t) {
      await expectBodyless(t, `HEAD ${t.target.path} HTTP/1.1\r\nHost: ${t.target.hostHeader}\r\n\r\n`, [405, 426]);
    },
  },
  rejectCase('H.6.3', 'Content-Length together with Transfer-Encoding: chunked', 400, (t) => buildRequest(t.target, { extraLines: ['Content-Length: 5', 'Transfer-Encoding: chunked'] }).text + '0\r\n\r\n', {}, 'RFC 9112 §6.3: a possible smuggling attempt, handled as an error'),
  rejectCase('H.6.4', 'Two Content-Length fields with different values', 400, (t) => buildRequest(t.target, { extraLines: ['Content-Length: 0', 'Content-Length: 2'] }).text + '\x81\x80', {}, 'RFC 9112 §6.3 item 5: invalid framing, a server MUST answer 400'),
  rejectCase('H.6.5', 'An invalid Content-Length ("Content-Length: 1x")', 400, (t) => buildRequest(t.target, { extraLines: ['Content-Length: 1x'] }).text, {}, 'RFC 9112 §6.3 item 5'),
  rejectCase('H.6.6', 'Content-Length: 6 with 6 bytes of content that look like a masked text frame', 400, (t) => buildRequest(t.target, { extraLines: ['Content-Length: 6'] }).text + '\x81\x80\x00\x00\x00\x00', {}, 'an upgrade request has no content (RFC 6455 §4.1); the content must not be read as frames'),
  rejectCase('H.6.7', 'Transfer-Encoding: chunked with a chunked body', 400, (t) => buildRequest(t.target, { extraLines: ['Transfer-Encoding: chunked'] }).text + '2\r\n\x81\x80\r\n0\r\n\r\n', {}, 'an upgrade request has no content'),
  acceptCase('H.6.8', 'Content-Length: 0', 'HTTP 101: it announces no content (RFC 9112 §6.3), then an echo', (t) => handshakeOk(t, { extraLines: ['Content-Length: 0'] })),
  rejectCase('H.6.9', 'Host: a b c', 400, req({ headers: { Host: 'a b c' } }), {}, 'RFC 9112 §3.2: a Host that is not uri-host[:port] gets 400'),
  rejectCase('H.6.10', 'A Host with a port over 65535 ("Host: example.com:99999")', 400, req({ headers: { Host: 'example.com:99999' } }), {}, 'RFC 9112 §3.2, RFC 3986 §3.2.3'),
  acceptCase('H.6.11', 'An absolute-form target ("GET http://host/path HTTP/1.1")', 'HTTP 101 (RFC 9112 §3.2.2: a server MUST accept the absolute-form), then an echo', (t) =>
    handshakeOk(t, { target: `http://${t.target.hostHeader}${t.target.path}` }),
  ),
  acceptCase('H.6.12', 'An empty line (CRLF) before the request line', 'HTTP 101 (RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request line), then an echo', async (t) => {
    const c = await t.connect();
    const { text, key } = buildRequest(t.target, {});
    await c.send(`\r\n${text}`);
    checkAccept(await c.response(), key);
    t.note('HTTP 101');
    const probe = Buffer.from('after a leading CRLF');
    await c.send(frames({ opcode: OP.TEXT, payload: probe }));
    await expectMessage(t, c, 'text', probe);
  }),
  rejectCase('H.6.13', '17 KiB of empty lines before the request line', 431, (t) => `${'\r\n'.repeat(17 * 512)}${buildRequest(t.target, {}).text}`, {}, 'the empty lines an RFC 9112 §2.2 server ignores still count against the 16 KiB head cap'),
];

/** Send `request` (a HEAD), expect `status` with a Content-Length, no content, then the server's close. */
async function expectBodyless(t: CaseContext, request: string, status: number | number[]): Promise<void> {
  const c = await t.connect();
  c.headRequest = true;
  await c.send(request);
  const r = await c.response();
  if ('type' in r) throw new Mismatch(`expected HTTP ${[status].flat().join(' or ')}, got ${describeResponse(r)}`);
  if (![status].flat().includes(r.status)) throw new Mismatch(`expected HTTP ${[status].flat().join(' or ')}, got HTTP ${r.status} ${r.reason}`);
  const e = await c.next(REJECT_CLOSE_MS);
  if (e.type !== 'eof') throw new Mismatch(`expected the server to close after HTTP ${r.status}, got ${e.type}`);
  const extra = c.log.received - (r.head.length + 4);
  if (extra !== 0) throw new Mismatch(`HTTP ${r.status} to HEAD carries ${extra} bytes of content (RFC 9110 §9.3.2: none)`);
  const length = r.headers.get('content-length')?.join(', ');
  t.note(`HTTP ${r.status} ${r.reason}${length === undefined ? '' : `, Content-Length: ${length}`}, no content, then TCP close by the server`);
}

/** How many times each adversarial head and its plain twin are sent, one connection each. */
const ROUNDS = 8;
/** An adversarial head may take this many times as long as a plain one, plus SLACK_MS: a wide margin. */
const FACTOR = 20;
const SLACK_MS = 200;

/**
 * Send `hostile` and `plain` heads of the same size ROUNDS times each
 * (alternating), expect each answered with `status`, and the hostile ones
 * in at most FACTOR x the plain ones' time + SLACK_MS. A parser that is
 * super-linear on the hostile shape (a ReDoS) spends far longer.
 */
async function expectLinear(t: CaseContext, hostile: (t: CaseContext) => SizedRequest, plain: (t: CaseContext) => SizedRequest, status: number, chunk?: number, rounds = ROUNDS): Promise<void> {
  const times = { hostile: 0, plain: 0 };
  for (let i = 0; i < rounds; i++) {
    for (const kind of ['plain', 'hostile'] as const) {
      const { text, key, offered } = (kind === 'plain' ? plain : hostile)(t);
      const c = await t.connect(`${kind} ${i + 1}`);
      const started = performance.now();
      if (chunk) await c.sendChopped(text, chunk);
      else await c.send(text);
      const r = await c.response(30_000);
      times[kind] += performance.now() - started;
      if (status === 101) checkAccept(r, key, offered);
      else if ('type' in r || r.status !== status) throw new Mismatch(`${kind} head: expected HTTP ${status}, got ${describeResponse(r)}`);
      c.destroy();
    }
  }
  const limit = FACTOR * times.plain + SLACK_MS;
  const sent = chunk ? `, sent in ${chunk}-byte writes,` : '';
  t.note(`HTTP ${status} to each; ${rounds} adversarial heads of ${plain(t).text.length} bytes${sent} took ${times.hostile.toFixed(0)} ms, ${rounds} plain heads of that size ${times.plain.toFixed(0)} ms`);
  if (times.hostile > limit) {
    throw new Mismatch(`the adversarial heads took ${times.hostile.toFixed(0)} ms, over ${FACTOR}x the plain heads' ${times.plain.toFixed(0)} ms + ${SLACK_MS} ms: super-linear parsing`);
  }
}

const linearExpectation = (status: number, rounds = ROUNDS) => `HTTP ${status}, answered about as fast as a plain head of the same size: ${rounds} such heads in at most ${FACTOR}x the time of ${rounds} plain ones + ${SLACK_MS} ms (a parser must be linear in its input)`;
const plainOf = (t: CaseContext) => sizedRequest(t, 'X-Pad', (n) => `a${'b'.repeat(Math.max(0, n - 1))}`);

const adversarial: Case[] = [
  {
    id: 'H.7.1',
    description: `A header value with a run of spaces inside it ("X-Pad: a" + spaces + "b"), the head ${HEAD_SIZE} bytes`,
    expectation: linearExpectation(101),
    timeoutMs: 60_000,
    heavy: true,
    run: (t) => expectLinear(t, (t) => sizedRequest(t, 'X-Pad', (n) => `a${' '.repeat(Math.max(0, n - 2))}b`), plainOf, 101),
  },
  {
    id: 'H.7.2',
    description: 'A header value with a run of tabs inside it',
    expectation: linearExpectation(101),
    timeoutMs: 60_000,
    heavy: true,
    run: (t) => expectLinear(t, (t) => sizedRequest(t, 'X-Pad', (n) => `a${'\t'.repeat(Math.max(0, n - 2))}b`), plainOf, 101),
  },
  {
    id: 'H.7.3',
    description: 'Sec-WebSocket-Extensions with a long quoted-string of escapes (x; p="\\a\\a\\a…")',
    expectation: linearExpectation(101),
    timeoutMs: 60_000,
    heavy: true,
    run: (t) => expectLinear(t, (t) => sizedRequest(t, 'Sec-WebSocket-Extensions', (n) => `x; p="${'\\a'.repeat(Math.max(0, Math.floor((n - 7) / 2)))}"`), plainOf, 101),
  },
  {
    id: 'H.7.4',
    description: 'Sec-WebSocket-Extensions with a run of commas (empty list elements)',
    expectation: linearExpectation(101),
    timeoutMs: 60_000,
    heavy: true,
    run: (t) => expectLinear(t, (t) => sizedRequest(t, 'Sec-WebSocket-Extensions', (n) => `x${','.repeat(Math.max(0, n - 1))}`), plainOf, 101),
  },
  {
    id: 'H.7.5',
    description: 'Sec-WebSocket-Extensions with a run of parameters ("x; a; a; a…")',
    expectation: linearExpectation(101),
    timeoutMs: 60_000,
    heavy: true,
    run: (t) => expectLinear(t, (t) => sizedRequest(t, 'Sec-WebSocket-Extensions', (n) => `x${'; a'.repeat(Math.max(0, Math.floor((n - 1) / 3)))}`), plainOf, 101),
  },
  {
    id: 'H.7.6',
    description: 'Sec-WebSocket-Extensions with a run of semicolons ("x;;;;…"), not valid',
    expectation: linearExpectation(400),
    timeoutMs: 60_000,
    heavy: true,
    run: (t) => expectLinear(t, (t) => sizedRequest(t, 'Sec-WebSocket-Extensions', (n) => `x${';'.repeat(Math.max(0, n - 1))}`), (t) => sizedRequest(t, 'Sec-WebSocket-Extensions', (n) => `x; ${'b'.repeat(Math.max(0, n - 4))}=`), 400),
  },
  {
    id: 'H.7.7',
    description: 'Sec-WebSocket-Protocol with a run of commas, spaces and tabs between two tokens',
    expectation: linearExpectation(101),
    timeoutMs: 60_000,
    heavy: true,
    run: (t) => expectLinear(t, (t) => sizedRequest(t, 'Sec-WebSocket-Protocol', (n) => `a${', \t'.repeat(Math.max(0, Math.floor((n - 2) / 3)))}b`), plainOf, 101),
  },
  {
    id: 'H.7.8',
    description: `A ${HEAD_SIZE}-byte head with a run of spaces in a header value, sent one byte per write`,
    expectation: linearExpectation(101, 1),
    timeoutMs: 120_000,
    heavy: true,
    run: (t) => expectLinear(t, (t) => sizedRequest(t, 'X-Pad', (n) => `a${' '.repeat(Math.max(0, n - 2))}b`), plainOf, 101, 1, 1),
  },
];

export const handshake: Family = {
  id: 'H',
  title: 'Opening handshake',
  summary: 'RFC 6455 §4.1-4.2: valid requests get a correct 101; every rejection gets its HTTP status (400, 405, 414, 426, 431, 505) and the headers that go with it, then the server closes; slow and broken clients are cut off without hurting others.',
  cases: [...accepted, ...rejected, ...caps, ...malformed, ...timing, ...framing, ...adversarial],
  // RFC 8441 §5 replaces this request with an extended CONNECT, which the E family tests.
  http1Only: 'the case tests the HTTP/1.1 upgrade request (RFC 6455 §4, RFC 9112); over HTTP/2 the opening handshake is an extended CONNECT, tested by the E family',
};
