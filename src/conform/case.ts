/**
 * What a conformance case is, the context it runs in, the verdict classes it
 * ends with (Autobahn's), and the expectation helpers that turn what the
 * server did into an observation or a failure.
 */
import { Conn, DEFAULT_TIMEOUT, type HttpResponse, type HttpResult, type Target, type WireLog, type WsEvent, acceptFor, buildRequest, type RequestOptions } from './client.js';
import { readAgreement } from './deflate.js';
import { type ConnectAnswer, type H2Fields, extendedConnect, h2Fields, h2Session } from './transport.js';
import { closeBody, frame, hex, OP } from './wire.js';
import type { ClientHttp2Session } from 'node:http2';

/**
 * Autobahn's verdict classes for what the peer did (`behavior`): OK; NON-STRICT
 * (allowed, but later or looser than the case prefers, e.g. failing invalid
 * UTF-8 only at the end of the message); INFORMATIONAL (not judged, the RFC
 * leaves it open); UNIMPLEMENTED (the peer lacks an optional feature the case
 * needs, e.g. permessage-deflate); FAILED.
 */
export type Behavior = 'OK' | 'NON-STRICT' | 'INFORMATIONAL' | 'UNIMPLEMENTED' | 'FAILED';
/**
 * The same for the closing handshake (`behaviorClose`), plus Autobahn's close
 * classes: WRONG CODE (a close code outside those the case allows) and UNCLEAN
 * (the closing handshake did not complete: no close frame, or no TCP close).
 */
export type CloseBehavior = Behavior | 'WRONG CODE' | 'UNCLEAN';

export const BEHAVIORS: readonly Behavior[] = ['OK', 'NON-STRICT', 'INFORMATIONAL', 'UNIMPLEMENTED', 'FAILED'];

/** How a case ended, as returned by `Case.run` or carried by an `Outcome`. */
export interface Verdict {
  behavior: Behavior;
  behaviorClose: CloseBehavior;
  /** Why, when not OK. */
  reason?: string;
}

export interface Case {
  /**
   * Autobahn's own id ("1.1.3") for Autobahn's cases, with Autobahn's meaning;
   * a letter prefix per family ("H.2.1", "U.3.4") for our own.
   */
  id: string;
  description: string;
  expectation: string;
  /** Cases that wait on server timers; they start first and run side by side. */
  slow?: boolean;
  /** Heavy cases (large payloads) run with fewer neighbours. */
  heavy?: boolean;
  /** Latency-sensitive cases run alone, one after another, once the others are done (as Autobahn runs every case). */
  exclusive?: boolean;
  /** Overall limit for the case (default 20 s). */
  timeoutMs?: number;
  /**
   * Why the case is about the HTTP/1.1 upgrade itself and cannot run over
   * HTTP/2 (RFC 8441): with --http2 it is reported UNIMPLEMENTED with this
   * reason, not run. The family's `http1Only` applies when the case has none.
   */
  http1Only?: string;
  /**
   * Runs the case. Resolving with nothing means OK for both behavior and close;
   * a case may resolve with its own verdict, or throw an `Outcome` (a
   * `Mismatch` is FAILED).
   */
  run(t: CaseContext): Promise<void | Verdict>;
}

export interface Family {
  /** The id prefix: "H", "U", ... for ours; "1", "2", ... for Autobahn's sections. */
  id: string;
  title: string;
  /** One line on what the family covers and where the RFC says so. */
  summary: string;
  cases: Case[];
  /** As `Case.http1Only`, for every case of the family. */
  http1Only?: string;
}

/** A case ended with `verdict`; thrown from deep inside a case. */
export class Outcome extends Error {
  override name = 'Outcome';
  constructor(
    readonly verdict: Verdict & { reason: string },
  ) {
    super(verdict.reason);
  }
}

/**
 * A case failed: the message says what differed from the expectation. With
 * `close`, the closing handshake failed (behaviorClose FAILED too); otherwise
 * the close is left unjudged (INFORMATIONAL).
 */
export class Mismatch extends Outcome {
  override name = 'Mismatch';
  constructor(reason: string, close = false) {
    super({ behavior: 'FAILED', behaviorClose: close ? 'FAILED' : 'INFORMATIONAL', reason });
  }
}

/** The peer lacks an optional feature the case needs (e.g. it declined permessage-deflate). */
export class Unimplemented extends Outcome {
  override name = 'Unimplemented';
  constructor(reason: string) {
    super({ behavior: 'UNIMPLEMENTED', behaviorClose: 'UNIMPLEMENTED', reason });
  }
}

/** The case cannot run over this transport (an HTTP/1.1 case over HTTP/2): UNIMPLEMENTED, saying why. */
export class NotApplicable extends Unimplemented {
  override name = 'NotApplicable';
  constructor(why: string) {
    super(`not applicable over HTTP/2 (RFC 8441): ${why}`);
  }
}

export interface CaseContext {
  target: Target;
  /**
   * A raw TCP (or TLS) connection to the server, nothing sent yet. Logged
   * (the first two per case). Over HTTP/2 there is none: NotApplicable.
   */
  connect(label?: string): Promise<Conn>;
  /**
   * HTTP/2 only: an extended CONNECT with exactly `fields` on the case's
   * HTTP/2 connection (RFC 8441 §4), and the answer. The stream is closed when
   * the case ends.
   */
  extendedConnect(fields: H2Fields): Promise<ConnectAnswer>;
  /**
   * A connection with a completed, verified opening handshake. If the server
   * agreed to permessage-deflate, its answer is checked and the connection
   * compresses and inflates (`conn.deflate`).
   */
  open(options?: OpenOptions): Promise<Conn>;
  /** Add a sentence to the observation. */
  note(text: string): void;
}

/** Everything a run records for one case. */
export interface CaseResult {
  id: string;
  family: string;
  description: string;
  expectation: string;
  observation: string;
  behavior: Behavior;
  behaviorClose: CloseBehavior;
  reason?: string;
  durationMs: number;
  /** The close code of the peer's first close frame on the case's first connection (null: none). */
  remoteCloseCode: number | null;
  wire: WireLog[];
}

/**
 * `pipelined`: bytes sent with the request (over HTTP/2, right after the
 * 200). `responseTimeoutMs`: how long to wait for the answer (default 5 s).
 */
export type OpenOptions = RequestOptions & { label?: string; pipelined?: Buffer; responseTimeoutMs?: number };

/** How many connection logs a case keeps. */
const KEPT_LOGS = 2;

export class Context implements CaseContext {
  readonly notes: string[] = [];
  readonly conns: Conn[] = [];
  private opened = 0;
  /** Over HTTP/2: the case's one connection, made at its first WebSocket. */
  private session: Promise<ClientHttp2Session> | undefined;

  constructor(readonly target: Target) {}

  note(text: string): void {
    this.notes.push(text);
  }

  async connect(label?: string): Promise<Conn> {
    if (this.target.http2) throw new NotApplicable('the case writes HTTP/1.1 bytes on a connection of its own');
    const n = ++this.opened;
    const conn = await Conn.connect(this.target, label ?? `connection ${n}`);
    this.track(conn);
    return conn;
  }

  private track(conn: Conn): void {
    if (this.conns.length < KEPT_LOGS) this.conns.push(conn);
    this.all.add(conn);
    conn.socket.once('close', () => this.all.delete(conn));
  }

  /** Every connection still open, closed when the case ends. */
  readonly all = new Set<Conn>();
  private readonly streams = new Set<ConnectAnswer['stream']>();

  async extendedConnect(fields: H2Fields, timeoutMs?: number): Promise<ConnectAnswer> {
    if (!this.target.http2) throw new Unimplemented('an HTTP/2 case: run with --http2');
    const session = await (this.session ??= h2Session(this.target));
    const answer = await extendedConnect(session, fields, timeoutMs);
    this.streams.add(answer.stream);
    return answer;
  }

  async open(options: OpenOptions = {}): Promise<Conn> {
    // Extensions offered in extra header lines count as offered too.
    const extraOffers = (options.extraLines ?? []).flatMap((line) => /^sec-websocket-extensions:(.*)$/i.exec(line)?.[1].trim() ?? []);
    const offered = extraOffers.length
      ? { ...options.headers, 'Sec-WebSocket-Extensions': [options.headers?.['Sec-WebSocket-Extensions'], ...extraOffers].filter(Boolean).join(', ') }
      : options.headers;
    let conn: Conn;
    let response: HttpResponse;
    if (this.target.http2) {
      const fields = h2Fields(this.target, options);
      if (typeof fields === 'string') throw new NotApplicable(fields);
      const answer = await this.extendedConnect(fields, options.responseTimeoutMs);
      checkConnectAnswer(answer.result, offered);
      response = answer.result;
      const n = ++this.opened;
      conn = Conn.overStream(answer.stream, options.label ?? `stream ${n}`, answer.lines);
      this.track(conn);
      if (options.pipelined) await conn.send(options.pipelined);
    } else {
      conn = await this.connect(options.label);
      const { text, key } = buildRequest(this.target, options);
      await conn.send(options.pipelined ? Buffer.concat([Buffer.from(text, 'latin1'), options.pipelined]) : text);
      const result = await conn.response(options.responseTimeoutMs);
      checkAccept(result, key, offered);
      response = result;
    }
    const extensions = response.headers.get('sec-websocket-extensions');
    conn.extensions = extensions?.join(', ');
    conn.protocol = response.headers.get('sec-websocket-protocol')?.[0];
    if (extensions) {
      // RFC 7692 §7.1: what a client checks of the answer before using it.
      const agreement = readAgreement(extensions.join(', '));
      if (typeof agreement === 'string') throw new Mismatch(`the answer's Sec-WebSocket-Extensions "${extensions.join(', ')}" is not a valid permessage-deflate answer: ${agreement}`);
      conn.enableDeflate(agreement);
    }
    return conn;
  }

  cleanup(): void {
    for (const conn of this.all) conn.destroy();
    this.all.clear();
    for (const stream of this.streams) if (!stream.destroyed) stream.destroy();
    this.streams.clear();
    void this.session?.then(
      (session) => session.destroy(),
      () => {},
    );
  }
}

/** Comma-separated list elements of a header value (RFC 9110 §5.6.1), without parameters. */
function listNames(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((part) => part.split(';')[0].trim().toLowerCase())
    .filter(Boolean);
}

/**
 * RFC 6455 §4.1, the client's checks of the server's response: 101, Upgrade
 * websocket, Connection upgrade, the right Sec-WebSocket-Accept, and a
 * subprotocol or extensions only from among those the client offered.
 */
export function checkAccept(response: HttpResult, key: string, offered: RequestOptions['headers'] = {}): asserts response is HttpResponse {
  expectStatus(response, 101);
  const one = (name: string) => response.headers.get(name)?.join(', ');
  if (one('upgrade')?.toLowerCase() !== 'websocket') throw new Mismatch(`101 without "Upgrade: websocket" (got ${one('upgrade')})`);
  if (!listNames(one('connection')).includes('upgrade')) throw new Mismatch(`101 without "Connection: Upgrade" (got ${one('connection')})`);
  const accept = response.headers.get('sec-websocket-accept');
  if (accept?.length !== 1 || accept[0] !== acceptFor(key)) {
    throw new Mismatch(`Sec-WebSocket-Accept is ${accept?.join(', ')}, expected ${acceptFor(key)}`);
  }
  checkNegotiation(response, offered);
}

/**
 * RFC 8441 §5: the server's answer to an extended CONNECT: 200 (no
 * Sec-WebSocket-Accept: there is no key), and a subprotocol or extensions
 * only from among those offered, as over HTTP/1.1 (RFC 6455 §4.1).
 */
export function checkConnectAnswer(response: HttpResult, offered: RequestOptions['headers'] = {}): asserts response is HttpResponse {
  expectStatus(response, 200);
  checkNegotiation(response, offered);
}

function expectStatus(response: HttpResult, status: number): asserts response is HttpResponse {
  if ('type' in response) throw new Mismatch(`expected HTTP ${status}, got ${response.type}: ${response.detail}`);
  if (response.status !== status) {
    throw new Mismatch(`expected HTTP ${status}, got ${response.status}${response.reason ? ` ${response.reason}` : ''}: ${response.body.toString('utf8').trim()}`);
  }
}

/** RFC 6455 §4.1 and §9.1: the answer agrees only to a subprotocol and extensions the client offered. */
function checkNegotiation(response: HttpResponse, offered: RequestOptions['headers'] = {}): void {
  const one = (name: string) => response.headers.get(name)?.join(', ');
  const header = (name: string) => Object.entries(offered ?? {}).find(([k]) => k.toLowerCase() === name)?.[1];
  const offeredExtensions = listNames(header('sec-websocket-extensions'));
  for (const name of listNames(one('sec-websocket-extensions'))) {
    if (!offeredExtensions.includes(name)) throw new Mismatch(`${response.status} agrees to the extension "${name}", which the client did not offer (RFC 6455 §9.1)`);
  }
  const protocol = response.headers.get('sec-websocket-protocol');
  if (protocol !== undefined) {
    const offeredProtocols = (header('sec-websocket-protocol') ?? '').split(',').map((p) => p.trim()).filter(Boolean);
    if (protocol.length !== 1 || !offeredProtocols.includes(protocol[0])) {
      throw new Mismatch(`${response.status} selects the subprotocol "${protocol.join(', ')}", which the client did not offer (RFC 6455 §4.1)`);
    }
  }
}

// Describing what happened.

function preview(data: Buffer, max = 24): string {
  const text = data.toString('utf8', 0, Math.min(max, data.length));
  return JSON.stringify(text) + (data.length > max ? '…' : '');
}

export function describeEvent(e: WsEvent): string {
  switch (e.type) {
    case 'text':
      return `text message of ${e.data.length} bytes${e.frames > 1 ? ` in ${e.frames} frames` : ''}${e.data.length ? ` ${preview(e.data)}` : ''}`;
    case 'binary':
      return `binary message of ${e.data.length} bytes${e.frames > 1 ? ` in ${e.frames} frames` : ''}`;
    case 'pong':
      return `pong with ${e.data.length}-byte payload`;
    case 'close':
      return e.code === undefined
        ? 'close frame with no status code'
        : `close ${e.code}${e.reason.length ? ` with ${e.reason.length}-byte reason` : ''}`;
    case 'eof':
      return 'TCP close by the server';
    case 'reset':
      return `connection reset (${e.error})`;
    case 'violation':
      return `an invalid server frame: ${e.reason}`;
    case 'timeout':
      return `nothing within ${e.ms} ms`;
  }
}

// Expectations on a connection after the handshake.

export async function expectMessage(
  t: CaseContext,
  c: Conn,
  type: 'text' | 'binary',
  data: Buffer,
  timeoutMs = DEFAULT_TIMEOUT,
): Promise<void> {
  const e = await c.next(timeoutMs);
  if (e.type === type && e.data.equals(data)) {
    t.note(`echo of ${data.length}-byte ${type}`);
    return;
  }
  if (e.type === type) {
    let at = 0;
    while (at < Math.min(e.data.length, data.length) && e.data[at] === data[at]) at++;
    throw new Mismatch(`expected echo of ${data.length}-byte ${type}, got ${e.data.length} bytes differing from byte ${at}`);
  }
  throw new Mismatch(`expected echo of ${data.length}-byte ${type}, got ${describeEvent(e)}`);
}

export async function expectPong(t: CaseContext, c: Conn, data: Buffer, timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
  const e = await c.next(timeoutMs);
  if (e.type === 'pong' && e.data.equals(data)) {
    t.note(`pong with the ping's ${data.length}-byte payload`);
    return;
  }
  if (e.type === 'pong') throw new Mismatch(`pong payload ${hex(e.data, 16)} differs from the ping's ${hex(data, 16)}`);
  throw new Mismatch(`expected a pong with ${data.length}-byte payload, got ${describeEvent(e)}`);
}

/** The server's FIN (it closes the TCP connection, RFC 6455 §7.1.1). */
export async function expectTcpClose(t: CaseContext, c: Conn, timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
  const e = await c.next(timeoutMs);
  if (e.type === 'eof') {
    t.note('then TCP close by the server');
    return;
  }
  throw new Outcome({ behavior: 'FAILED', behaviorClose: 'UNCLEAN', reason: `expected the server to close the TCP connection, got ${describeEvent(e)}` });
}

/**
 * A close frame with one of `codes` (undefined = no status code), then the
 * server's TCP close. We answer the close frame as a client should (§5.5.1).
 */
export async function expectClose(
  t: CaseContext,
  c: Conn,
  codes: (number | undefined)[],
  timeoutMs = DEFAULT_TIMEOUT,
): Promise<WsEvent & { type: 'close' }> {
  const e = await c.next(timeoutMs);
  const want = codes.map((code) => (code === undefined ? 'close with no status code' : `close ${code}`)).join(' or ');
  if (e.type !== 'close') throw new Mismatch(`expected ${want}, got ${describeEvent(e)}`);
  if (!codes.includes(e.code)) throw new Outcome({ behavior: 'FAILED', behaviorClose: 'WRONG CODE', reason: `expected ${want}, got ${describeEvent(e)}` });
  t.note(describeEvent(e));
  if (!c.eof) await c.send(frame({ opcode: OP.CLOSE, payload: e.code === undefined ? undefined : closeBody(e.code) }));
  await expectTcpClose(t, c, timeoutMs);
  return e;
}

/** Fail the WebSocket Connection with `code` (RFC 6455 §7.1.7): close `code`, then TCP close. */
export function expectFail(t: CaseContext, c: Conn, code: number, timeoutMs = DEFAULT_TIMEOUT): Promise<WsEvent & { type: 'close' }> {
  return expectClose(t, c, [code], timeoutMs);
}

/** Nothing at all arrives for `ms`. */
export async function expectSilence(t: CaseContext, c: Conn, ms: number, what = 'nothing'): Promise<void> {
  const e = await c.next(ms);
  if (e.type !== 'timeout') throw new Mismatch(`expected ${what} within ${ms} ms, got ${describeEvent(e)}`);
  t.note(`${what} within ${ms} ms`);
}

/** A valid echo round trip on a fresh connection: the server is still serving. */
export async function expectServing(t: CaseContext, label = 'check'): Promise<void> {
  const c = await t.open({ label });
  const probe = Buffer.from('still serving?');
  await c.send(frame({ opcode: OP.TEXT, payload: probe }));
  const e = await c.next();
  if (e.type !== 'text' || !e.data.equals(probe)) throw new Mismatch(`a new connection got ${describeEvent(e)} instead of an echo`);
  t.note('a new connection is still echoed');
  await c.send(frame({ opcode: OP.CLOSE, payload: closeBody(1000) }));
  const close = await c.next();
  if (close.type !== 'close' || close.code !== 1000) throw new Mismatch(`a new connection's close got ${describeEvent(close)}`);
  c.destroy();
}
