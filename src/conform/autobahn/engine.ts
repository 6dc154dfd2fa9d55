/**
 * Autobahn|Testsuite's cases, judged as Autobahn judges them, written from the
 * descriptions and expectations its reports publish for every case.
 *
 * Seat-independent (kept so for a later fuzzing-server seat, where we are the
 * server and the peer is a WebSocket client):
 * - `AutobahnCase`: id, description, expectation, the events that make it OK
 *   or NON-STRICT (`ok`, `nonStrict`: messages, pongs and timeouts in order),
 *   the close it expects (`close`), and a `script` of what to send and when.
 * - `Script`: the script's only view of the connection (send frames or
 *   messages, chopped as the case says; wait; wait for events).
 * - `judge()`: the verdict from what was received and how the connection
 *   closed; it knows nothing of sockets.
 * Seat-dependent: `Peer` (frames a client masks and a server does not; the
 * opening handshake), implemented here for the client seat over `Conn`.
 *
 * The flow follows Autobahn's: run the script; when we are the one to close
 * (`close.closedByMe`), close with 1000 as soon as every expected event came
 * (or `waitMs` passed); otherwise wait `waitMs` for the peer to close, then
 * close ourselves (which the close verdict counts against the peer).
 */
import type { CaseContext, CloseBehavior, Verdict } from '../case.js';
import { type Conn, type WsEvent, sleep } from '../client.js';
import { OP, type FrameSpec, closeBody, encodeFrames, hex } from '../wire.js';

export type Expected = readonly ['message', Buffer, boolean] | readonly ['pong', Buffer] | readonly ['timeout', string];

export interface ExpectedClose {
  /** The close codes the peer may send (when it sends one). */
  codes: number[];
  /** Whether we (true) or the peer (false) must start the closing handshake. */
  closedByMe: boolean;
  /** Whether the closing handshake must complete (close frames both ways, then the peer's TCP close). */
  requireClean: boolean;
  /** Closed by the wrong endpoint fails the behavior too, not only the close. */
  wrongEndpointFatal?: boolean;
}

export interface AutobahnCase {
  id: string;
  description: string;
  expectation: string;
  /** A permessage-deflate offer; the case is UNIMPLEMENTED when the peer declines it. */
  offer?: string;
  /** Either the list, or a function building it when the case runs (for large payloads). */
  ok: readonly Expected[] | (() => readonly Expected[]);
  nonStrict?: readonly Expected[];
  close: ExpectedClose;
  /** Autobahn rates the case INFORMATIONAL whatever happens (behavior and close). */
  informational?: boolean;
  /** How long to wait after the script for the expected events or the peer's close (default 10 s; a busy peer may be slow). */
  waitMs?: number;
  /** Large payloads: fewer cases beside it. */
  heavy?: boolean;
  /** Latency-sensitive: runs alone. */
  exclusive?: boolean;
  /** Overall limit (default 20 s). */
  timeoutMs?: number;
  script(s: Script): Promise<void>;
}

/** What a script may do. Sends after the connection closed are dropped, as on a closed socket. */
export interface Script {
  /** Frames, in one write (`chop` undefined), one write per frame ('frame'), or writes of `chop` bytes. */
  send(specs: FrameSpec | FrameSpec[], chop?: 'frame' | number): Promise<void>;
  /** Frames encoded as this seat sends them, to write in pieces with `write`. */
  encode(specs: FrameSpec | FrameSpec[]): Buffer;
  /** Raw bytes, in one write. */
  write(bytes: Buffer): Promise<void>;
  /**
   * A data message, in frames of `fragmentSize` payload bytes (0: one frame),
   * in one write or, with `chop` 'frame', one write per frame; compressed when
   * permessage-deflate was agreed. `key`, naming `data`'s content exactly,
   * lets connections share its compressed form (`Peer.compress`).
   */
  message(type: 'text' | 'binary', data: Buffer, fragmentSize?: number, chop?: 'frame', key?: string): Promise<void>;
  /** Wait `ms`; with `marker`, record a ["timeout", marker] event if the connection is still open then. */
  wait(ms: number, marker?: string): Promise<void>;
  /** Wait until `count` events in all were received, the connection closed, or `ms` passed. */
  received(count: number, ms: number): Promise<boolean>;
  /** Whether the connection is closing or closed (a close frame or TCP close came, or we closed). */
  readonly closed: boolean;
  /** Add a sentence to the observation. */
  note(text: string): void;
}

/** The seat-dependent connection a script runs on. */
export interface Peer {
  /** What the other end is called in observations (default 'server'). */
  readonly name?: 'server' | 'client';
  /** Encode a frame, or frames into one buffer, as this seat sends them (a client masks with a fresh key, a server does not). */
  frame(specs: FrameSpec | readonly FrameSpec[]): Buffer;
  send(bytes: Buffer): Promise<void>;
  /** Frames encoded as `frame` does, in one write; their memory is reused from one such write to the next. */
  sendFrames(specs: readonly FrameSpec[]): Promise<void>;
  /** `bytes` in writes of `size`, `pauseMs` apart, until `stop()`, with no pong of ours written in between (Conn.sendChopped). */
  sendChopped(bytes: Buffer, size: number, pauseMs: number, stop: () => boolean): Promise<void>;
  next(timeoutMs: number): Promise<WsEvent>;
  /** A message event's data is no longer needed: its memory may hold a later message. */
  recycle(data: Buffer): void;
  /** permessage-deflate, if agreed: a message's compressed payload (`key`: see `Script.message`). */
  compress?(data: Buffer, key?: string): Buffer;
  readonly eof: boolean;
  /** The code of the peer's first close frame: null without a code, undefined before any. */
  readonly remoteCloseCode: number | null | undefined;
  destroy(): void;
  /** The server seat: once close frames went both ways, close TCP first (RFC 6455 §7.1.1). */
  closeTcp?(): void;
}

/** A `Conn` in its seat: as the client we mask our frames; as the server (`Conn.accept`) we do not, and close TCP first. */
export function connPeer(conn: Conn): Peer {
  const server = conn.seat === 'server';
  // Memory of a write that is done (fresh memory for each large message costs more than the message itself).
  let idle: Buffer | undefined;
  return {
    name: server ? 'client' : 'server',
    frame: (specs) => encodeFrames(Array.isArray(specs) ? specs : [specs], server),
    send: (bytes) => conn.send(bytes),
    async sendFrames(specs) {
      const memory = idle;
      idle = undefined;
      const bytes = encodeFrames(specs, server, memory);
      await conn.send(bytes);
      idle = memory && memory.length >= bytes.length ? memory : bytes;
    },
    sendChopped: (bytes, size, pauseMs, stop) => conn.sendChopped(bytes, size, pauseMs, stop),
    next: (ms) => conn.next(ms),
    recycle: (data) => conn.deflate?.recycle(data),
    compress: conn.deflate ? (data, key) => conn.deflate!.compressNext(data, key) : undefined,
    get eof() {
      return conn.eof || conn.closed;
    },
    get remoteCloseCode() {
      return conn.remoteCloseCode;
    },
    destroy: () => conn.destroy(),
    closeTcp: server ? () => conn.end() : undefined,
  };
}

/** How a case went, for judging. */
export interface Observed {
  /** Whether the received events matched `ok`, `nonStrict`. */
  okMatched: boolean;
  nonStrictMatched: boolean;
  /** The first events received, described, and how many in all. */
  events: string[];
  count: number;
  /** We sent the first close frame, or dropped TCP before the peer closed. */
  closedByMe: boolean;
  /** Close frames both ways and the peer's TCP close. */
  clean: boolean;
  remoteCloseCode: number | null;
  unimplemented?: string;
  violation?: string;
}

const CLOSE_WAIT_MS = 10_000;
const DEFAULT_WAIT_MS = 10_000;
const SHOWN_EVENTS = 6;

function sameEvent(want: Expected, got: Expected): boolean {
  if (want[0] !== got[0]) return false;
  if (want[0] === 'timeout') return want[1] === got[1];
  if (want[0] === 'message') return got[0] === 'message' && want[2] === got[2] && want[1].equals(got[1]);
  return (got[1] as Buffer).equals(want[1]);
}

function describe(e: Expected): string {
  if (e[0] === 'timeout') return `timeout ${e[1]}`;
  const data = e[1];
  const shown = data.length > 16 ? `${data.length} bytes` : data.length === 0 ? 'empty' : `0x${hex(data).replace(/ /g, '')}`;
  return e[0] === 'pong' ? `pong (${shown})` : `${e[2] ? 'binary' : 'text'} message (${shown})`;
}

/** A running comparison of received events with one expected list. */
class Matcher {
  private at = 0;
  private broken = false;
  constructor(private readonly want: readonly Expected[] | undefined) {}
  push(e: Expected): void {
    if (!this.want || this.broken) return;
    if (this.at < this.want.length && sameEvent(this.want[this.at], e)) this.at++;
    else this.broken = true;
  }
  get complete(): boolean {
    return this.want !== undefined && !this.broken && this.at === this.want.length;
  }
  get failed(): boolean {
    return this.want === undefined || this.broken;
  }
}

/** Autobahn's verdict from what was observed. */
export function judge(c: AutobahnCase, o: Observed): Verdict {
  if (o.unimplemented) return { behavior: 'UNIMPLEMENTED', behaviorClose: closeVerdict(c, o).behaviorClose, reason: o.unimplemented };
  const close = closeVerdict(c, o);
  if (c.informational) return { behavior: 'INFORMATIONAL', behaviorClose: 'INFORMATIONAL', reason: `Autobahn leaves this case unjudged; observed: ${received(o)}, ${close.reason ?? 'closed as expected'}` };
  let behavior: Verdict['behavior'] = o.okMatched ? 'OK' : o.nonStrictMatched ? 'NON-STRICT' : 'FAILED';
  const reasons: string[] = [];
  if (o.violation) {
    behavior = 'FAILED';
    reasons.push(o.violation);
  } else if (behavior === 'FAILED') reasons.push(`events differ from what the case expects: ${received(o)}`);
  else if (behavior === 'NON-STRICT') reasons.push(`events match only the looser expectation: ${received(o)}`);
  if (close.behaviorClose === 'FAILED' && c.close.wrongEndpointFatal) {
    behavior = 'FAILED';
  }
  if (close.reason) reasons.push(close.reason);
  return { behavior, behaviorClose: close.behaviorClose, reason: reasons.length ? reasons.join('; ') : undefined };
}

function received(o: Observed): string {
  return o.count === 0 ? 'nothing received' : `received ${o.events.join(', ')}${o.count > o.events.length ? `, … (${o.count} events)` : ''}`;
}

function closeVerdict(c: AutobahnCase, o: Observed): { behaviorClose: CloseBehavior; reason?: string } {
  if (c.informational) return { behaviorClose: 'INFORMATIONAL' };
  if (o.closedByMe !== c.close.closedByMe) {
    return { behaviorClose: 'FAILED', reason: `the connection was closed by the wrong endpoint (${o.closedByMe ? 'we had to close it' : 'the peer closed it first'})` };
  }
  if (c.close.requireClean && !o.clean) return { behaviorClose: 'UNCLEAN', reason: 'the closing handshake did not complete cleanly' };
  if (o.remoteCloseCode !== null && !c.close.codes.includes(o.remoteCloseCode)) {
    return { behaviorClose: 'WRONG CODE', reason: `the peer closed with ${o.remoteCloseCode}, expected ${[...new Set(c.close.codes)].join(' or ')}` };
  }
  return { behaviorClose: 'OK' };
}

/** Run an Autobahn case from the client seat against `t`'s server. */
export async function runAutobahn(c: AutobahnCase, t: CaseContext): Promise<Verdict> {
  const conn = await t.open(c.offer ? { headers: { 'Sec-WebSocket-Extensions': c.offer } } : {});
  const o = await play(c, connPeer(conn), t.note.bind(t), c.offer && !conn.deflate ? `the server declined permessage-deflate offered as "${c.offer}"` : undefined);
  return judge(c, o);
}

/** Drive `peer` (either seat) through the case and record what happened; `unimplemented` skips the script. */
export async function play(c: AutobahnCase, peer: Peer, note: (text: string) => void, unimplemented: string | undefined): Promise<Observed> {
  const ok = new Matcher(typeof c.ok === 'function' ? c.ok() : c.ok);
  const nonStrict = new Matcher(c.nonStrict);
  const events: string[] = [];
  let count = 0;
  let closing = false; // a close frame went either way, or TCP closed
  let sentClose = false;
  let gotClose = false;
  let droppedByMe = false;
  let closedByMe: boolean | undefined;
  let violation: string | undefined;
  let eof = false;
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of waiters) w();
  };
  const record = (e: Expected) => {
    count++;
    if (events.length < SHOWN_EVENTS) events.push(describe(e));
    ok.push(e);
    nonStrict.push(e);
    wake();
  };

  const sendClose = async (code: number) => {
    if (sentClose || eof) return;
    sentClose = true;
    if (!closing) closedByMe = true;
    closing = true;
    await peer.send(peer.frame({ opcode: OP.CLOSE, payload: closeBody(code) }));
  };

  // The reader: every event, until TCP closes.
  const reading = (async () => {
    for (;;) {
      const e = await peer.next(3_600_000);
      if (e.type === 'text' || e.type === 'binary') {
        if (!gotClose) record(['message', e.data, e.type === 'binary']);
        peer.recycle(e.data);
      } else if (e.type === 'pong') {
        if (!gotClose) record(['pong', e.data]);
      } else if (e.type === 'close') {
        if (!gotClose) {
          gotClose = true;
          if (!closing) closedByMe = false;
          closing = true;
          // RFC 6455 §5.5.1: answer a close with a close (echoing its code, or none).
          if (!sentClose) {
            sentClose = true;
            await peer.send(peer.frame({ opcode: OP.CLOSE, payload: e.code === undefined ? undefined : closeBody(e.code) }));
          }
        }
        wake();
      } else if (e.type === 'violation') {
        violation = `the ${peer.name ?? 'server'} broke the protocol: ${e.reason}`;
        if (!closing) closedByMe = true;
        closing = true;
        droppedByMe = true;
        peer.destroy();
        eof = true;
        wake();
        return;
      } else if (e.type === 'eof' || e.type === 'reset') {
        if (!closing) closedByMe = false;
        closing = true;
        eof = true;
        wake();
        return;
      }
    }
  })();

  const until = (done: () => boolean, ms: number) =>
    new Promise<boolean>((resolve) => {
      if (done()) return resolve(true);
      const timer = setTimeout(() => {
        waiters.delete(check);
        resolve(done());
      }, ms);
      timer.unref();
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(true);
      };
      waiters.add(check);
    });

  const script: Script = {
    async send(specs, chop) {
      if (gotClose || eof) return;
      const list = Array.isArray(specs) ? specs : [specs];
      if (list.some((spec) => spec.opcode === OP.CLOSE && !spec.rsv && spec.fin !== false)) {
        // A close frame in the script starts our closing handshake (one with RSV bits or FIN clear is only a bad frame).
        if (!closing) closedByMe = true;
        closing = true;
        sentClose = true;
      }
      if (chop === 'frame') {
        for (const spec of list) if (!gotClose && !eof) await peer.send(peer.frame(spec));
        return;
      }
      if (chop === undefined) return peer.sendFrames(list);
      const bytes = peer.frame(list);
      // Octet-wise chops reach the peer one by one, as Autobahn's do, not merged by a fast sender.
      await peer.sendChopped(bytes, chop, chop === 1 ? 1 : 0, () => eof);
    },
    encode: (specs) => peer.frame(specs),
    async write(bytes) {
      if (!gotClose && !eof) await peer.send(bytes);
    },
    async message(type, data, fragmentSize = 0, chop, key) {
      const opcode = type === 'text' ? OP.TEXT : OP.BINARY;
      const payload = peer.compress ? peer.compress(data, key) : data;
      const rsv = peer.compress ? 4 : 0;
      if (!fragmentSize || payload.length <= fragmentSize) return script.send({ opcode, rsv, payload });
      const specs: FrameSpec[] = [];
      for (let at = 0; at < payload.length; at += fragmentSize) {
        specs.push({ opcode: at === 0 ? opcode : OP.CONT, rsv: at === 0 ? rsv : 0, fin: at + fragmentSize >= payload.length, payload: payload.subarray(at, at + fragmentSize) });
      }
      return script.send(specs, chop);
    },
    async wait(ms, marker) {
      await until(() => gotClose || eof, ms);
      if (marker !== undefined && !gotClose && !eof) record(['timeout', marker]);
    },
    received: (n, ms) => until(() => count >= n || gotClose || eof, ms),
    get closed() {
      return closing || eof;
    },
    note,
  };

  const waitMs = c.waitMs ?? DEFAULT_WAIT_MS;
  if (unimplemented) {
    note(unimplemented);
  } else {
    await c.script(script);
    if (c.close.closedByMe && !sentClose) await until(() => ok.complete || ok.failed || gotClose || eof, waitMs);
    else await until(() => gotClose || eof, waitMs);
  }
  // We close if the peer did not: with a close frame, then TCP if it does not finish.
  if (!closing && !eof) await sendClose(1000);
  if (peer.closeTcp && (await until(() => gotClose || eof, CLOSE_WAIT_MS)) && sentClose && !eof) peer.closeTcp();
  if (!(await until(() => eof, CLOSE_WAIT_MS))) {
    if (!closing) closedByMe = true;
    droppedByMe = true;
    peer.destroy();
    eof = true;
    wake();
  }
  await Promise.race([reading, sleep(10)]);
  if (count > 0 || violation) note(`received ${count} event${count === 1 ? '' : 's'}: ${events.join(', ')}${count > events.length ? ', …' : ''}`);
  note(`${closedByMe ? 'we' : 'the peer'} started the close${peer.remoteCloseCode !== undefined ? `; the peer's close code: ${peer.remoteCloseCode ?? 'none'}` : '; no close frame from the peer'}${droppedByMe ? '; we dropped TCP' : ''}`);
  return {
    okMatched: ok.complete,
    nonStrictMatched: nonStrict.complete,
    events,
    count,
    closedByMe: closedByMe ?? true,
    clean: sentClose && gotClose && !droppedByMe,
    remoteCloseCode: peer.remoteCloseCode ?? null,
    unimplemented,
    violation,
  };
}
