/**
 * The fuzzing server (`strictws conform --serve`): Autobahn's cases run from
 * the server's seat against WebSocket clients, over the HTTP paths of
 * Autobahn's fuzzingserver, so client drivers written for it work unchanged:
 *
 *   /getCaseCount                 sends the number of cases, then closes
 *   /getCaseInfo?case=N           sends {"id", "description"} of case N (1-based)
 *   /runCase?case=N&agent=A       runs case N on this connection, filed under A
 *   /getCaseStatus?case=N&agent=A sends {"behavior"} of A's last run of case N
 *   /updateReports?agent=A        hands A's results to `onReports`, then closes
 *
 * Each is a WebSocket connection (the client's handshake is checked as a
 * server must, RFC 6455 §4.2.1). The cases, the judging and the reports are
 * the client mode's (autobahn/engine.ts, report.ts); only the seat differs.
 */
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { CaseResult, Family, Verdict } from './case.js';
import { Conn } from './client.js';
import { AUTOBAHN, AUTOBAHN_CASES, plainDescription } from './autobahn/index.js';
import { type AutobahnCase, connPeer, judge, play } from './autobahn/engine.js';
import { casePatterns } from './patterns.js';
import { type ConformRun, DEFAULT_CASE_TIMEOUT, fmtMs, summarize } from './run.js';
import { checkRequest, negotiate, readOffers, requestsOf, switchingProtocols } from './server-peer.js';
import { OP, closeBody, frame } from './wire.js';

export interface ServeOptions {
  /** Default 9001, Autobahn's; 0 for a port the OS picks. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Serve wss:// with this PEM certificate (chain) and key (HTTP/1.1 only). */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Autobahn's case patterns (as `strictws conform --cases`); the case numbers count the selected cases only. */
  cases?: string;
  exclude?: string;
  /** Per-case limit in ms for cases without a longer one of their own (default 20 s). */
  timeoutMs?: number;
  /** Called as each case finishes. */
  onResult?: (agent: string, result: CaseResult, index: number, total: number) => void;
  /** /updateReports?agent=A: the agent's results so far; the connection closes once this resolves. */
  onReports?: (run: ConformRun) => void | Promise<void>;
}

export interface FuzzingServer {
  /** ws://host:port, or wss://host:port with `tls` */
  url: string;
  port: number;
  /** The selected cases, in the order of their numbers (case=1 is the first). */
  cases: AutobahnCase[];
  /** An agent's results so far, as a run (the reports' input). */
  run(agent: string): ConformRun;
  /** Agents that ran at least one case. */
  agents(): string[];
  close(): Promise<void>;
}

/** The client cases: Autobahn's sections in Autobahn's order, each tagged with its family. */
function clientCases(options: ServeOptions): { c: AutobahnCase; family: Family }[] {
  const include = options.cases ? casePatterns(options.cases) : () => true;
  const exclude = options.exclude ? casePatterns(options.exclude) : () => false;
  const all = AUTOBAHN.flatMap((family) => (AUTOBAHN_CASES.get(family.id) ?? []).map((c) => ({ c, family })));
  const chosen = all.filter(({ c }) => include(c.id) && !exclude(c.id));
  if (chosen.length === 0) throw new RangeError(`no case matches --cases ${options.cases ?? '*'}${options.exclude ? ` without --exclude ${options.exclude}` : ''}`);
  return chosen;
}

/** The case's description from the server's seat: in 12 and 13 the server accepts the client's offer, asking for the case's parameters. */
function seatDescription(c: AutobahnCase): string {
  return plainDescription(c)
    .replace('Use default permessage-deflate offer.', "Accept the client's permessage-deflate offer with default parameters.")
    .replace('Use permessage-deflate client offers (requestNoContextTakeover, requestMaxWindowBits)', 'Accept permessage-deflate asking the client for (requestNoContextTakeover, requestMaxWindowBits), in order of preference');
}

/** Agents name report files and directories: anything but letters, digits, ".", "_" and "-" becomes "_". */
export const agentSlug = (agent: string) => agent.replace(/[^\w.-]/g, '_');

const INFO_CLOSE_WAIT_MS = 2_000;

function refuse(socket: Socket, status: number, reason: string, text: string): void {
  const body = `${text}\n`;
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

/** Accept the WebSocket, send `text` (if any) and close with 1000; the server closes TCP first (RFC 6455 §7.1.1). */
async function answer(req: IncomingMessage, socket: Socket, head: Buffer, text: string | undefined): Promise<void> {
  socket.write(switchingProtocols(req));
  const conn = Conn.accept(socket, req.url ?? '/', head);
  if (text !== undefined) await conn.send(frame({ opcode: OP.TEXT, payload: text, mask: false }));
  await conn.send(frame({ opcode: OP.CLOSE, payload: closeBody(1000), mask: false }));
  for (;;) {
    const e = await conn.next(INFO_CLOSE_WAIT_MS);
    if (e.type !== 'text' && e.type !== 'binary' && e.type !== 'pong') break;
  }
  conn.end();
  setTimeout(() => conn.destroy(), INFO_CLOSE_WAIT_MS).unref();
}

export async function startFuzzingServer(options: ServeOptions = {}): Promise<FuzzingServer> {
  const chosen = clientCases(options);
  const cases = chosen.map(({ c }) => c);
  const results = new Map<string, Map<string, CaseResult>>();
  const started = new Map<string, { iso: string; at: number }>();
  const sockets = new Set<Socket>();
  const host = options.host ?? '127.0.0.1';
  let url = '';

  const runCase = async (n: number, agent: string, req: IncomingMessage, socket: Socket, head: Buffer): Promise<CaseResult> => {
    const { c, family } = chosen[n - 1];
    const at = performance.now();
    const notes: string[] = [];
    const note = (text: string) => notes.push(text);
    let conn: Conn | undefined;
    let verdict: Verdict;
    const bad = checkRequest(req);
    if (bad) {
      refuse(socket, 400, 'Bad Request', bad);
      verdict = { behavior: 'FAILED', behaviorClose: 'FAILED', reason: `the client's opening handshake is not valid: ${bad}` };
    } else {
      let unimplemented: string | undefined;
      let negotiated;
      if (c.offer) {
        const offer = req.headers['sec-websocket-extensions'];
        negotiated = negotiate(readOffers(offer), requestsOf(c.offer));
        if (!negotiated) unimplemented = offer ? `the client's offer "${offer}" cannot be accepted as the case asks` : 'the client did not offer permessage-deflate';
        else note(`permessage-deflate agreed: ${negotiated.response}`);
      }
      socket.write(switchingProtocols(req, negotiated?.response));
      conn = Conn.accept(socket, `runCase ${c.id}`, head, negotiated?.ours);
      const limit = options.timeoutMs ? Math.max(options.timeoutMs, c.timeoutMs ?? 0) : (c.timeoutMs ?? DEFAULT_CASE_TIMEOUT);
      let timer: NodeJS.Timeout | undefined;
      verdict = await Promise.race([
        play(c, connPeer(conn), note, unimplemented).then((o) => judge(c, o)),
        new Promise<Verdict>((resolve) => {
          timer = setTimeout(() => resolve({ behavior: 'FAILED', behaviorClose: 'FAILED', reason: `the case did not finish within ${fmtMs(limit)}` }), limit);
        }),
      ]);
      clearTimeout(timer);
      conn.destroy();
    }
    if (verdict.reason) notes.push(`${verdict.behavior}: ${verdict.reason}`);
    return {
      id: c.id,
      family: family.id,
      description: seatDescription(c),
      expectation: c.expectation,
      observation: notes.join('; ') || '(nothing observed)',
      behavior: verdict.behavior,
      behaviorClose: verdict.behaviorClose,
      reason: verdict.reason,
      durationMs: Math.round((performance.now() - at) * 10) / 10,
      remoteCloseCode: conn?.remoteCloseCode ?? null,
      wire: conn ? [conn.log] : [],
    };
  };

  const run = (agent: string): ConformRun => {
    const mine = results.get(agent) ?? new Map<string, CaseResult>();
    const ordered = cases.flatMap((c) => mine.get(c.id) ?? []);
    const start = started.get(agent);
    const ids = new Set(cases.map((c) => c.id));
    return {
      agent,
      url: `${url} (fuzzing server, client agent "${agent}")`,
      seat: 'server',
      started: start?.iso ?? new Date().toISOString(),
      durationMs: start ? Math.round(performance.now() - start.at) : 0,
      selection: { cases: options.cases ?? null, exclude: options.exclude ?? null },
      allIds: AUTOBAHN.flatMap((f) => (AUTOBAHN_CASES.get(f.id) ?? []).map((c) => c.id)),
      selected: (id) => ids.has(id),
      results: ordered,
      families: summarize(AUTOBAHN, ordered),
    };
  };

  const onUpgrade = async (req: IncomingMessage, socket: Socket, head: Buffer) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const u = new URL(req.url ?? '/', 'http://fuzzing.server');
    const param = (name: string) => u.searchParams.get(name);
    const caseNumber = () => {
      const text = param('case') ?? '';
      const n = /^\d+$/.test(text) ? Number(text) : NaN;
      return n >= 1 && n <= cases.length ? n : undefined;
    };
    const agentName = () => {
      const agent = param('agent');
      return agent && agent.length <= 200 && !/[\x00-\x1f\x7f]/.test(agent) ? agent : undefined;
    };
    const needs = u.pathname === '/runCase' || u.pathname === '/getCaseInfo' || u.pathname === '/getCaseStatus';
    const n = caseNumber();
    const agent = agentName();
    if (!['/getCaseCount', '/runCase', '/getCaseInfo', '/getCaseStatus', '/updateReports'].includes(u.pathname)) {
      return refuse(socket, 404, 'Not Found', `${u.pathname}: the fuzzing server answers /getCaseCount, /getCaseInfo, /runCase, /getCaseStatus and /updateReports`);
    }
    if (needs && n === undefined) return refuse(socket, 400, 'Bad Request', `case=${param('case') ?? ''}: expected a case number from 1 to ${cases.length}`);
    if (u.pathname !== '/getCaseCount' && u.pathname !== '/getCaseInfo' && agent === undefined) return refuse(socket, 400, 'Bad Request', 'agent=: the client agent name is missing or has control characters');
    if (u.pathname === '/runCase') {
      if (!started.has(agent!)) started.set(agent!, { iso: new Date().toISOString(), at: performance.now() });
      const result = await runCase(n!, agent!, req, socket, head);
      if (!results.has(agent!)) results.set(agent!, new Map());
      results.get(agent!)!.set(result.id, result);
      options.onResult?.(agent!, result, n!, cases.length);
      return;
    }
    const bad = checkRequest(req);
    if (bad) return refuse(socket, 400, 'Bad Request', bad);
    if (u.pathname === '/getCaseCount') return answer(req, socket, head, String(cases.length));
    if (u.pathname === '/getCaseInfo') return answer(req, socket, head, JSON.stringify({ id: cases[n! - 1].id, description: seatDescription(cases[n! - 1]) }));
    if (u.pathname === '/getCaseStatus') return answer(req, socket, head, JSON.stringify({ behavior: results.get(agent!)?.get(cases[n! - 1].id)?.behavior ?? 'UNKNOWN' }));
    await options.onReports?.(run(agent!));
    return answer(req, socket, head, undefined);
  };

  const page = (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(426, { 'Content-Type': 'text/plain; charset=utf-8', Upgrade: 'websocket', Connection: 'close' });
    res.end('strictws conform --serve: a fuzzing server for WebSocket clients; connect with WebSocket to /getCaseCount, /runCase?case=N&agent=A, ...\n');
  };
  // With TLS, ALPN offers only http/1.1: the client cases run on RFC 6455 upgrades.
  const server = options.tls ? createHttpsServer({ ...options.tls, ALPNProtocols: ['http/1.1'] }, page) : createServer(page);
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    onUpgrade(req, socket, head).catch((error: Error) => {
      process.emitWarning(`strictws conform --serve: ${req.url}: ${error.message}`);
      socket.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 9001, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  url = `${options.tls ? 'wss' : 'ws'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    url,
    port,
    cases,
    run,
    agents: () => [...results.keys()],
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
