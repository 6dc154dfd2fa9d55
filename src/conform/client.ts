/**
 * A raw WebSocket client for the conformance run: node:net (or node:tls)
 * sockets to the server, an opening handshake written by hand (RFC 6455
 * §4.1), server frames read with our own parser (wire.ts), and a log of the
 * first bytes each way. Over HTTP/2 (RFC 8441, transport.ts) the same
 * connection runs on an extended CONNECT stream instead of a socket.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type ClientHttp2Stream, constants as h2 } from 'node:http2';
import { type Socket, connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { type Agreement, ClientDeflate } from './deflate.js';
import { FrameParser, OP, OutgoingFrames, type ServerFrame, frame, hex, joined } from './wire.js';

/** RFC 6455 §1.3. */
export const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export function acceptFor(key: string): string {
  return createHash('sha1').update(key + GUID).digest('base64');
}

export interface Target {
  host: string;
  port: number;
  /** The resource name sent in the request line, e.g. "/". */
  path: string;
  /** The Host header value (HTTP/2: ":authority"). */
  hostHeader: string;
  /** wss://: TLS, with `insecure` accepting a certificate that does not verify. */
  tls?: { insecure: boolean };
  /** RFC 8441: each WebSocket is an extended CONNECT stream (h2c for ws://, h2 by ALPN for wss://). */
  http2?: boolean;
}

export interface TargetOptions {
  /** wss:// only: accept a self-signed (or otherwise unverifiable) certificate. */
  insecure?: boolean;
  /** WebSockets over HTTP/2 (RFC 8441) instead of the HTTP/1.1 upgrade. */
  http2?: boolean;
}

export function targetFromUrl(url: string, options: TargetOptions = {}): Target {
  const u = new URL(url);
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new Error(`only ws:// and wss:// URLs are supported, got ${url}`);
  const secure = u.protocol === 'wss:';
  if (options.insecure && !secure) throw new Error(`insecure applies to wss:// URLs only, got ${url}`);
  const port = Number(u.port || (secure ? 443 : 80));
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port,
    path: `${u.pathname}${u.search}` || '/',
    hostHeader: u.host,
    tls: secure ? { insecure: options.insecure === true } : undefined,
    http2: options.http2 === true || undefined,
  };
}

export type WsEvent =
  /** `compressed`: the server sent it compressed (RSV1, permessage-deflate); `data` is inflated. `wire`: payload bytes on the wire. */
  | { type: 'text' | 'binary'; data: Buffer; frames: number; compressed?: boolean; wire?: number }
  | { type: 'pong'; data: Buffer }
  | { type: 'close'; code: number | undefined; reason: Buffer; payload: Buffer }
  | { type: 'eof' }
  | { type: 'reset'; error: string }
  | { type: 'violation'; reason: string }
  | { type: 'timeout'; ms: number };

export interface HttpResponse {
  version: string;
  status: number;
  reason: string;
  /** Lower-cased names, every occurrence in order. */
  headers: Map<string, string[]>;
  head: string;
  body: Buffer;
}

export type HttpResult = HttpResponse | { type: 'eof' | 'timeout' | 'reset' | 'malformed'; detail: string };

/** The first bytes each way, with timestamps, and byte totals. */
export interface WireLogEntry {
  /** Milliseconds since the connection was opened. */
  t: number;
  /** '>' client to server, '<' server to client, '*' a transport event. */
  dir: '>' | '<' | '*';
  /** Bytes in this chunk (all of them, even when only some are shown). */
  n?: number;
  /** Hex of the bytes shown. */
  hex?: string;
  /** How many chunks (reads or writes) this line stands for, when more than one. */
  chunks?: number;
  /** A run of tiny chunks that later tiny chunks fold into. */
  tiny?: boolean;
  note?: string;
}

export interface WireLog {
  label: string;
  sent: number;
  received: number;
  entries: WireLogEntry[];
}

/** The hex log keeps the first LOG_CHUNK_BYTES of each chunk, up to LOG_BYTES each way. */
export const LOG_CHUNK_BYTES = 48;
export const LOG_BYTES = 192;
/** Lines of byte chunks a log keeps; the rest are counted on one line. */
const LOG_ENTRIES = 24;
/** Chunks this small, one after another the same way, share a log line. */
const TINY_CHUNK = 8;

export const DEFAULT_TIMEOUT = 5_000;

function describeHeaders(headers: Record<string, string | undefined>): string {
  return Object.entries(headers)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
}

export interface RequestOptions {
  method?: string;
  target?: string;
  version?: string;
  /** Header values; undefined removes a default header. Names are written as given. */
  headers?: Record<string, string | undefined>;
  /** Headers appended after the defaults, as raw lines (may repeat names). */
  extraLines?: string[];
  key?: string;
}

/** A client opening handshake (RFC 6455 §4.1), with every part overridable. */
export function buildRequest(target: Target, options: RequestOptions = {}): { text: string; key: string } {
  const key = options.key ?? randomBytes(16).toString('base64');
  const defaults: Record<string, string | undefined> = {
    Host: target.hostHeader,
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': key,
    'Sec-WebSocket-Version': '13',
  };
  const headers = { ...defaults, ...options.headers };
  const line = `${options.method ?? 'GET'} ${options.target ?? target.path} ${options.version ?? 'HTTP/1.1'}\r\n`;
  const extra = (options.extraLines ?? []).map((l) => `${l}\r\n`).join('');
  return { text: `${line}${describeHeaders(headers)}${extra}\r\n`, key };
}

export class Conn {
  readonly log: WireLog;
  /** Set once the server's FIN arrived. */
  eof = false;
  private errored = false;
  closed = false;
  private readonly started = performance.now();
  private loggedOut = 0;
  private loggedIn = 0;
  private phase: 'http' | 'ws' | 'after-http' = 'http';
  private httpBuffer: Buffer = Buffer.alloc(0);
  private httpResult: HttpResult | undefined;
  private httpWaiters: ((r: HttpResult) => void)[] = [];
  private readonly events: WsEvent[] = [];
  private waiter: ((e: WsEvent) => void) | undefined;
  private readonly parser: FrameParser;
  private message: { opcode: number; parts: Buffer[]; frames: number; compressed: boolean } | undefined;
  /** permessage-deflate, once the server agreed to it (RFC 7692). */
  deflate: ClientDeflate | undefined;
  /** The 101's (or over HTTP/2 the 200's) Sec-WebSocket-Extensions value, if it had one. */
  extensions: string | undefined;
  /** The subprotocol the answer selected (Sec-WebSocket-Protocol), if any. */
  protocol: string | undefined;
  private violated = false;
  private omitted: { writes: number; sent: number; reads: number; received: number; entry: WireLogEntry } | undefined;
  /** Pings the server sent us (answered automatically). */
  serverPings = 0;
  /** sendChopped calls under way, or a frame we wrote only part of: meanwhile our pongs wait in `heldPongs`. */
  private chopping = 0;
  private heldPongs: Buffer[] = [];
  private readonly outgoing: OutgoingFrames;
  /** The request was a HEAD: the response has no content, whatever its Content-Length (RFC 9110 §9.3.2). */
  headRequest = false;
  /** The code of the server's first close frame: null for a close without a code, undefined before any. */
  remoteCloseCode: number | null | undefined;

  /** The other end: 'server' for the conformance client, 'client' when we are the fuzzing server (`accept`). */
  private readonly peerName: 'server' | 'client';

  /** How a side ends its half of the byte stream: a TCP FIN, or END_STREAM on an HTTP/2 stream (RFC 8441 §5.1). */
  private readonly fin: string;

  private constructor(
    /** A TCP or TLS socket, or an HTTP/2 stream (RFC 8441). */
    readonly socket: Socket | ClientHttp2Stream,
    label: string,
    /** Which end of the connection we are. */
    readonly seat: 'client' | 'server' = 'client',
  ) {
    this.peerName = seat === 'client' ? 'server' : 'client';
    this.log = { label, sent: 0, received: 0, entries: [] };
    // Over HTTP/2 the handshake went in HEADERS: the stream starts with frames, no request head.
    this.outgoing = new OutgoingFrames(seat === 'client' && 'setNoDelay' in socket);
    this.parser = new FrameParser((f) => this.onFrame(f), seat === 'server');
    this.fin = 'setNoDelay' in socket ? 'TCP FIN' : 'END_STREAM';
    if ('setNoDelay' in socket) socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => {
      // node:http2 also ends a stream's readable side when the stream is reset; a reset
      // closes the stream in the same turn, so wait one turn to tell END_STREAM from RST_STREAM.
      if ('setNoDelay' in socket) this.onEnd();
      else setImmediate(() => (this.eof || (socket.closed && socket.rstCode !== h2.NGHTTP2_NO_ERROR) ? undefined : this.onEnd()));
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.errored = true;
      this.entry('*', `socket error ${error.code ?? error.message}`);
      this.finishHttp({ type: 'reset', detail: error.code ?? error.message });
      this.push({ type: 'reset', error: error.code ?? error.message });
    });
    socket.on('close', () => {
      this.closed = true;
      // Both sides ended: the stream closes (NO_ERROR) in the turn its END_STREAM arrived.
      if (!this.eof && 'rstCode' in socket && socket.rstCode === h2.NGHTTP2_NO_ERROR && socket.readableEnded) this.onEnd();
      this.deflate?.close();
      // Destroyed without an end (by us, or a reset already reported): wake whoever still waits.
      const reset = 'rstCode' in socket && socket.rstCode !== undefined && socket.rstCode !== h2.NGHTTP2_NO_ERROR && !this.destroyedByUs;
      const rst = reset ? ` (RST_STREAM ${rstName(socket.rstCode!)})` : '';
      if (reset && !this.errored) this.entry('*', `${this.peerName} reset the stream${rst}`);
      if (!this.eof && !this.errored) this.push({ type: 'reset', error: `connection closed${rst}` });
    });
  }

  private onEnd(): void {
    this.eof = true;
    this.entry('*', `${this.peerName} closed its side (${this.fin})`);
    this.finishHttp({ type: 'eof', detail: 'the server closed the connection' });
    this.push({ type: 'eof' });
  }

  /** Set once we destroyed or reset the connection ourselves. */
  private destroyedByUs = false;
  /** The TCP socket under a TLS one (the one that can send an RST). */
  private tcp: Socket | undefined;

  /** A TCP connection, or a TLS one for wss:// (ALPN http/1.1: the RFC 6455 upgrade). */
  static connect(target: Target, label = 'connection'): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const tcp = netConnect({ host: target.host, port: target.port });
      // TLS runs on a socket of our own: a TLS socket cannot send a TCP RST itself (`destroy(true)`).
      const socket = target.tls
        ? tlsConnect({ socket: tcp, servername: serverName(target.host), rejectUnauthorized: !target.tls.insecure, ALPNProtocols: ['http/1.1'] })
        : tcp;
      const onError = (error: Error) => {
        tcp.destroy();
        reject(error);
      };
      socket.once('error', onError);
      if (socket !== tcp) tcp.once('error', onError);
      socket.once(target.tls ? 'secureConnect' : 'connect', () => {
        socket.off('error', onError);
        tcp.off('error', onError);
        const conn = new Conn(socket, label);
        conn.tcp = tcp;
        resolve(conn);
      });
    });
  }

  /**
   * RFC 8441: an extended CONNECT stream the server answered with 200; what
   * follows on it are WebSocket frames. `head` notes the request and answer.
   */
  static overStream(stream: ClientHttp2Stream, label: string, head: string[]): Conn {
    const conn = new Conn(stream, label);
    for (const line of head) conn.entry('*', line);
    conn.phase = 'ws';
    return conn;
  }

  /**
   * The server seat: a socket whose opening handshake we (the server) already
   * answered with 101, and the bytes that came after the client's request.
   * Frames must be masked and are unmasked; ours go out unmasked. With
   * `deflate` (our side's view, see server-peer.ts), permessage-deflate is on.
   */
  static accept(socket: Socket, label: string, head: Buffer, deflate?: Agreement): Conn {
    const conn = new Conn(socket, label, 'server');
    conn.phase = 'ws';
    if (deflate) conn.enableDeflate(deflate);
    if (head.length) conn.onData(head);
    return conn;
  }

  /** The server agreed to permessage-deflate: expect RSV1 on compressed messages, and inflate them. */
  enableDeflate(agreement: Agreement): ClientDeflate {
    this.deflate = new ClientDeflate(agreement);
    this.parser.allowRsv1 = true;
    return this.deflate;
  }

  private now(): number {
    return Math.round((performance.now() - this.started) * 10) / 10;
  }

  private entry(dir: '*', note: string): void {
    this.log.entries.push({ t: this.now(), dir, note });
  }

  private logBytes(ours: '>' | '<', bytes: Buffer): void {
    // '>' is always client to server: in the server seat, what we send is '<'.
    const dir = this.seat === 'client' ? ours : ours === '>' ? '<' : '>';
    if (dir === '>') this.log.sent += bytes.length;
    else this.log.received += bytes.length;
    const shown = dir === '>' ? this.loggedOut : this.loggedIn;
    const last = this.log.entries.at(-1);
    // Runs of tiny chunks one way (byte-by-byte cases) fold into one line.
    const sameWay = last !== undefined && last.dir === dir;
    // Once the hex budget one way is spent, chunks that way fold into one "not shown" line too.
    const spent = LOG_BYTES - shown <= 0;
    const fold = sameWay && ((bytes.length <= TINY_CHUNK && (last.tiny ?? false)) || (spent && last.hex === undefined));
    const inEntry = fold ? (last.hex ? last.hex.split(' ').length : 0) : 0;
    const take = Math.max(0, Math.min(LOG_CHUNK_BYTES - inEntry, LOG_BYTES - shown, bytes.length));
    if (dir === '>') this.loggedOut += take;
    else this.loggedIn += take;
    if (fold) {
      last.n = (last.n ?? 0) + bytes.length;
      last.chunks = (last.chunks ?? 1) + 1;
      if (take > 0) last.hex = last.hex ? `${last.hex} ${hex(bytes, take)}` : hex(bytes, take);
      return;
    }
    if (this.log.entries.length >= LOG_ENTRIES) {
      // Past the line budget, one line counts what is left out (events still get their own).
      const o = (this.omitted ??= { writes: 0, sent: 0, reads: 0, received: 0, entry: { t: this.now(), dir: '*', note: '' } });
      if (dir === '>') (o.writes++, (o.sent += bytes.length));
      else (o.reads++, (o.received += bytes.length));
      o.entry.note = `… ${o.writes} more writes (${o.sent.toLocaleString('en')} B) and ${o.reads} more reads (${o.received.toLocaleString('en')} B), not shown`;
      if (!this.log.entries.includes(o.entry)) this.log.entries.push(o.entry);
      return;
    }
    this.log.entries.push({ t: this.now(), dir, n: bytes.length, hex: take > 0 ? hex(bytes, take) : undefined, tiny: bytes.length <= TINY_CHUNK || undefined });
  }

  // Sending.

  /** One write; resolves once Node has handed it to the kernel (or it failed). */
  send(data: Buffer | string): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    this.logBytes('>', bytes);
    this.outgoing.push(bytes);
    const written = this.write(bytes);
    this.releasePongs();
    return written;
  }

  private write(bytes: Buffer): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed || !this.socket.writable) {
        this.entry('*', `write of ${bytes.length} bytes skipped: socket no longer writable`);
        resolve();
        return;
      }
      this.socket.write(bytes, (error) => {
        if (error) this.entry('*', `write failed: ${(error as NodeJS.ErrnoException).code ?? error.message}`);
        resolve();
      });
    });
  }

  /**
   * Send `data` in writes of `size` bytes, each awaited, with an optional
   * pause between them, until done or `stop()` says so. Our pongs wait
   * until the last piece is written: a frame in pieces must not have another
   * frame written into it (RFC 6455 §5.4 lets control frames in between
   * fragments, never inside a frame).
   */
  async sendChopped(data: Buffer | string, size: number, pauseMs = 0, stop?: () => boolean): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    this.chopping++;
    try {
      for (let i = 0; i < bytes.length && !stop?.(); i += size) {
        await this.send(bytes.subarray(i, i + size));
        if (pauseMs > 0) await sleep(pauseMs);
      }
    } finally {
      this.chopping--;
      this.releasePongs();
    }
  }

  /** Pongs held back go out once no frame of ours is half written (RFC 6455 §5.4: never inside a frame). */
  private releasePongs(): void {
    if (this.chopping === 0 && this.outgoing.atBoundary) for (const pong of this.heldPongs.splice(0)) void this.send(pong);
  }

  /** Half-close our side (TCP FIN; END_STREAM over HTTP/2). */
  end(): void {
    if (!this.socket.destroyed) {
      this.entry('*', `${this.seat} closed its side (${this.fin})`);
      this.socket.end();
    }
  }

  /** Close at once; with `reset`, send a TCP RST (over HTTP/2: RST_STREAM CANCEL, RFC 8441 §5.1). */
  destroy(reset = false): void {
    if (this.socket.destroyed) return;
    this.destroyedByUs = true;
    if (!reset) this.socket.destroy();
    else if ('resetAndDestroy' in this.socket) {
      this.entry('*', `${this.seat} reset the connection (TCP RST)`);
      (this.tcp ?? this.socket).resetAndDestroy();
      this.socket.destroy();
    } else {
      this.entry('*', `${this.seat} reset the stream (RST_STREAM CANCEL)`);
      this.socket.close(h2.NGHTTP2_CANCEL);
    }
  }

  /** Our pong, at once or, while a frame of ours is half written (by `send` or `sendChopped`), right after it. */
  private pong(payload: Buffer): void {
    this.heldPongs.push(frame({ opcode: OP.PONG, payload, mask: this.seat === 'server' ? false : undefined }));
    this.releasePongs();
  }

  // Receiving.

  private onData(chunk: Buffer): void {
    this.logBytes('<', chunk);
    if (this.phase === 'ws') {
      this.parser.push(chunk);
      this.checkViolation();
      return;
    }
    this.httpBuffer = this.httpBuffer.length ? Buffer.concat([this.httpBuffer, chunk]) : chunk;
    if (this.phase === 'after-http') return;
    this.tryHttp();
  }

  private tryHttp(): void {
    const end = this.httpBuffer.indexOf('\r\n\r\n');
    if (end < 0) {
      if (this.httpBuffer.length > 64 * 1024) this.finishHttp({ type: 'malformed', detail: 'response head over 64 KiB' });
      return;
    }
    const head = this.httpBuffer.toString('latin1', 0, end);
    const lines = head.split('\r\n');
    const m = /^HTTP\/(\d\.\d) (\d{3}) ?(.*)$/.exec(lines[0]);
    if (!m) {
      this.finishHttp({ type: 'malformed', detail: `bad status line ${JSON.stringify(lines[0])}` });
      return;
    }
    const headers = new Map<string, string[]>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) {
        this.finishHttp({ type: 'malformed', detail: `bad header line ${JSON.stringify(line)}` });
        return;
      }
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers.set(name, [...(headers.get(name) ?? []), value]);
    }
    const status = Number(m[2]);
    const rest = this.httpBuffer.subarray(end + 4);
    if (status === 101) {
      this.phase = 'ws';
      this.httpBuffer = Buffer.alloc(0);
      this.finishHttp({ version: m[1], status, reason: m[3], headers, head, body: Buffer.alloc(0) });
      if (rest.length) {
        this.parser.push(rest);
        this.checkViolation();
      }
      return;
    }
    const length = this.headRequest ? 0 : Number(headers.get('content-length')?.[0] ?? NaN);
    if (Number.isFinite(length)) {
      if (rest.length < length) return;
      this.phase = 'after-http';
      this.finishHttp({ version: m[1], status, reason: m[3], headers, head, body: rest.subarray(0, length) });
    } else if (this.eof) {
      this.finishHttp({ version: m[1], status, reason: m[3], headers, head, body: rest });
    }
  }

  private finishHttp(result: HttpResult): void {
    if (this.httpResult) return;
    if ('type' in result && result.type === 'eof' && this.httpBuffer.length && this.phase === 'http') {
      // A response without Content-Length ends at EOF.
      this.tryHttp();
      if (this.httpResult) return;
    }
    this.httpResult = result;
    for (const w of this.httpWaiters.splice(0)) w(result);
  }

  /** The server's HTTP response to our request (or why there is none). */
  response(timeoutMs = DEFAULT_TIMEOUT): Promise<HttpResult> {
    if (this.httpResult) return Promise.resolve(this.httpResult);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.httpWaiters = this.httpWaiters.filter((w) => w !== done);
        resolve({ type: 'timeout', detail: `no response within ${timeoutMs} ms` });
      }, timeoutMs);
      const done = (r: HttpResult) => {
        clearTimeout(timer);
        resolve(r);
      };
      this.httpWaiters.push(done);
    });
  }

  private checkViolation(): void {
    if (this.parser.violation !== undefined && !this.violated) {
      this.violated = true;
      this.push({ type: 'violation', reason: this.parser.violation });
    }
  }

  private onFrame(f: ServerFrame): void {
    if (this.violated) return;
    switch (f.opcode) {
      case OP.PING: {
        // A server may ping at any time (strictws's heartbeat does, every 30 s): answer
        // as RFC 6455 §5.5.2 requires and keep it out of the events cases look at.
        this.serverPings++;
        const data = joined(f.parts);
        this.entry('*', `${this.peerName} ping (${data.length} bytes), answered with a pong`);
        this.pong(data);
        return;
      }
      case OP.PONG:
        this.push({ type: 'pong', data: joined(f.parts) });
        return;
      case OP.CLOSE: {
        const p = joined(f.parts);
        if (p.length === 1) {
          this.violate(`${this.peerName} close frame has a 1-byte body (RFC 6455 §5.5.1)`);
          return;
        }
        if (this.remoteCloseCode === undefined) this.remoteCloseCode = p.length >= 2 ? p.readUInt16BE(0) : null;
        this.push({
          type: 'close',
          code: p.length >= 2 ? p.readUInt16BE(0) : undefined,
          reason: p.subarray(2),
          payload: p,
        });
        return;
      }
      case OP.CONT:
        if (!this.message) {
          this.violate(`${this.peerName} sent a continuation frame with no message to continue (RFC 6455 §5.4)`);
          return;
        }
        if (f.rsv !== 0) {
          this.violate(`${this.peerName} set RSV1 on a continuation frame: only the first frame of a message may (RFC 7692 §6)`);
          return;
        }
        this.message.parts.push(...f.parts);
        this.message.frames++;
        break;
      default:
        if (this.message) {
          this.violate(`${this.peerName} started a new message inside a fragmented one (RFC 6455 §5.4)`);
          return;
        }
        this.message = { opcode: f.opcode, parts: f.parts, frames: 1, compressed: f.rsv === 4 };
    }
    if (f.fin && this.message) {
      const { opcode, parts, frames, compressed } = this.message;
      this.message = undefined;
      const type = opcode === OP.TEXT ? 'text' : 'binary';
      if (!compressed) {
        const payload = joined(parts);
        this.push({ type, data: payload, frames, compressed: false, wire: payload.length });
        return;
      }
      let data: Buffer;
      try {
        data = this.deflate!.inflate(parts);
      } catch (error) {
        this.violate(`${this.peerName}'s compressed message does not inflate: ${(error as Error).message} (RFC 7692 §7.2.2)`);
        return;
      }
      this.push({ type, data, frames, compressed, wire: parts.reduce((n, p) => n + p.length, 0) });
    }
  }

  private violate(reason: string): void {
    this.violated = true;
    this.push({ type: 'violation', reason });
  }

  private push(event: WsEvent): void {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w(event);
    } else {
      this.events.push(event);
    }
  }

  /** The next thing the server did after the handshake, or a timeout. */
  next(timeoutMs = DEFAULT_TIMEOUT): Promise<WsEvent> {
    const queued = this.events.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        resolve({ type: 'timeout', ms: timeoutMs });
      }, timeoutMs);
      // An open socket keeps the process alive; a wait alone must not.
      timer.unref();
      this.waiter = (e) => {
        clearTimeout(timer);
        resolve(e);
      };
    });
  }

  /** Events already received and not yet taken. */
  get queued(): number {
    return this.events.length;
  }
}

/** TLS SNI takes a host name, never an address (RFC 6066 §3). */
export function serverName(host: string): string | undefined {
  return /^[\d.]+$/.test(host) || host.includes(':') ? undefined : host;
}

/** RFC 9113 §7: the HTTP/2 error codes, by value. */
const H2_ERRORS = ['NO_ERROR', 'PROTOCOL_ERROR', 'INTERNAL_ERROR', 'FLOW_CONTROL_ERROR', 'SETTINGS_TIMEOUT', 'STREAM_CLOSED', 'FRAME_SIZE_ERROR', 'REFUSED_STREAM', 'CANCEL', 'COMPRESSION_ERROR', 'CONNECT_ERROR', 'ENHANCE_YOUR_CALM', 'INADEQUATE_SECURITY', 'HTTP_1_1_REQUIRED'];

/** An HTTP/2 error code's name, e.g. 8 → "CANCEL". */
export function rstName(code: number): string {
  return H2_ERRORS[code] ?? `0x${code.toString(16)}`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
