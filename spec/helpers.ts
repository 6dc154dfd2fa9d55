/**
 * Shared test helpers for spec/ and property-tests/: an event-collecting
 * ConnectionHandler, client frame builders written independently of the
 * encoder under test, a parser for the (unmasked) frames the server writes,
 * and a builder for a valid opening handshake request.
 */
import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import {
  Connection,
  type ConnectionHandler,
  type ConnectionOptions,
  type FrameFailureCode,
  FrameFailures,
  HandshakeError,
  type HttpRequest,
  type ProtocolError,
  RequestReader,
  type RequestLimits,
  type UpgradePolicy,
  type UpgradeRequest,
  validateUpgrade,
} from '../src/protocol/index.js';

// ---------------------------------------------------------------------------
// Connection events
// ---------------------------------------------------------------------------

export type ConnectionEvent =
  | { type: 'message'; data: Buffer; isBinary: boolean }
  | { type: 'ping'; data: Buffer }
  | { type: 'pong'; data: Buffer }
  | { type: 'close'; code: number; reason: string }
  | { type: 'error'; code: FrameFailureCode; closeCode: number }
  | { type: 'write'; data: Buffer }
  | { type: 'closeTransport' };

/**
 * A ConnectionHandler that records every callback, in order. Payloads are
 * copied: the core hands out views of the input chunks.
 */
export class EventRecorder implements ConnectionHandler {
  readonly events: ConnectionEvent[] = [];
  readonly errors: ProtocolError[] = [];

  onMessage(data: Buffer, isBinary: boolean): void {
    this.events.push({ type: 'message', data: Buffer.from(data), isBinary });
  }
  onPing(data: Buffer): void {
    this.events.push({ type: 'ping', data: Buffer.from(data) });
  }
  onPong(data: Buffer): void {
    this.events.push({ type: 'pong', data: Buffer.from(data) });
  }
  onCloseFrame(code: number, reason: string): void {
    this.events.push({ type: 'close', code, reason });
  }
  onProtocolError(error: ProtocolError): void {
    this.errors.push(error);
    this.events.push({ type: 'error', code: error.code, closeCode: error.closeCode });
  }
  write(data: Buffer): void {
    this.events.push({ type: 'write', data: Buffer.from(data) });
  }
  closeTransport(): void {
    this.events.push({ type: 'closeTransport' });
  }

  /** Every event except writes. */
  get received(): ConnectionEvent[] {
    return this.events.filter((e) => e.type !== 'write');
  }

  /** Everything written, concatenated, parsed as server frames. */
  get written(): ParsedFrame[] {
    const bytes = Buffer.concat(this.events.flatMap((e) => (e.type === 'write' ? [e.data] : [])));
    return parseServerFrames(bytes);
  }

  /** The single protocol error reported, or undefined; fails if there were several. */
  get error(): ProtocolError | undefined {
    if (this.errors.length > 1) throw new Error(`${this.errors.length} protocol errors reported`);
    return this.errors[0];
  }

  clear(): void {
    this.events.length = 0;
    this.errors.length = 0;
  }
}

export function openConnection(options?: ConnectionOptions): { connection: Connection; recorder: EventRecorder } {
  const recorder = new EventRecorder();
  return { connection: new Connection(recorder, options), recorder };
}

/** Cut `bytes` at the given positions (any order, duplicates and out-of-range ignored). */
export function splitAt(bytes: Uint8Array, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.filter((c) => c > 0 && c < bytes.length))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const p of [...points, bytes.length]) {
    // Each chunk is a fresh copy: the decoder unmasks in place.
    chunks.push(Buffer.from(bytes.subarray(start, p)));
    start = p;
  }
  return chunks.filter((c) => c.length > 0);
}

/** `length` bytes of a simple non-constant pattern (so misplaced bytes show). */
export function pattern(length: number, seed = 0): Buffer {
  return Buffer.from(Array.from({ length }, (_, i) => (i * 131 + seed * 7 + 3) & 0xff));
}

/** Cut positions at every byte of `bytes` (or of its first `limit` bytes): one byte per chunk. */
export function everyByte(bytes: Uint8Array, limit = bytes.length): number[] {
  return Array.from({ length: Math.min(limit, bytes.length) }, (_, i) => i);
}

/** Feed `bytes` to a connection cut at `cuts` (no cuts: one chunk). Works on copies. */
export function feed(connection: Connection, bytes: Uint8Array, cuts: readonly number[] = []): void {
  for (const chunk of splitAt(bytes, cuts)) connection.receive(chunk);
}

/** A fresh connection fed `bytes`; returns its recorder. */
export function receiveAll(bytes: Uint8Array, options?: ConnectionOptions, cuts: readonly number[] = []): EventRecorder {
  const { connection, recorder } = openConnection(options);
  feed(connection, bytes, cuts);
  return recorder;
}

// ---------------------------------------------------------------------------
// Frames (built by hand, not with the encoder under test)
// ---------------------------------------------------------------------------

export { DEFAULT_KEY, type FrameSpec, OP, type ParsedFrame, frame, frameHeader, parseServerFrames, xorMask } from './support/frames.js';
import { type FrameSpec, OP, type ParsedFrame, frame, parseServerFrames, toBytes } from './support/frames.js';

type FrameOptions = Omit<FrameSpec, 'opcode' | 'payload'>;

export const text = (payload: Uint8Array | string, o: FrameOptions = {}) => frame({ ...o, opcode: OP.TEXT, payload });
export const binary = (payload: Uint8Array | string, o: FrameOptions = {}) => frame({ ...o, opcode: OP.BINARY, payload });
export const continuation = (payload: Uint8Array | string, o: FrameOptions = {}) =>
  frame({ ...o, opcode: OP.CONT, payload });
export const ping = (payload: Uint8Array | string = '', o: FrameOptions = {}) => frame({ ...o, opcode: OP.PING, payload });
export const pong = (payload: Uint8Array | string = '', o: FrameOptions = {}) => frame({ ...o, opcode: OP.PONG, payload });

/** A close frame body: no code gives an empty body; `reason` may be raw bytes. */
export function closeBody(code?: number, reason: Uint8Array | string = ''): Buffer {
  if (code === undefined) return Buffer.alloc(0);
  const codeBytes = Buffer.alloc(2);
  codeBytes.writeUInt16BE(code);
  return Buffer.concat([codeBytes, toBytes(reason)]);
}

export const close = (code?: number, reason: Uint8Array | string = '', o: FrameOptions = {}) =>
  frame({ ...o, opcode: OP.CLOSE, payload: closeBody(code, reason) });

/** A message split into data frames at the given payload offsets. */
export function fragmented(opcode: number, payload: Uint8Array | string, cuts: readonly number[], o: FrameOptions = {}): Buffer[] {
  const pieces = splitAt(toBytes(payload), cuts);
  if (pieces.length === 0) pieces.push(Buffer.alloc(0));
  return pieces.map((piece, i) =>
    frame({ ...o, opcode: i === 0 ? opcode : OP.CONT, payload: piece, fin: i === pieces.length - 1 }),
  );
}

/** The close frame the server wrote (its code, or undefined for an empty body). */
export function writtenCloseCode(recorder: EventRecorder): number | undefined | 'none' {
  const closes = recorder.written.filter((f) => f.opcode === OP.CLOSE);
  if (closes.length === 0) return 'none';
  if (closes.length > 1) throw new Error('more than one close frame written');
  const body = closes[0].payload;
  return body.length === 0 ? undefined : body.readUInt16BE(0);
}

const OPCODE_NAMES: Record<number, string> = { 0: 'cont', 1: 'text', 2: 'binary', 8: 'close', 9: 'ping', 10: 'pong' };

/**
 * Events as short strings, for readable assertions: "text:Hello",
 * "binary:010203" (hex), "ping:…", "pong:…", "close:1000:reason",
 * "error:CODE", "closeTransport", and each written frame as "write:<op>:<hex>".
 */
export function summarize(events: readonly ConnectionEvent[]): string[] {
  return events.flatMap((e): string[] => {
    switch (e.type) {
      case 'message':
        return [e.isBinary ? `binary:${e.data.toString('hex')}` : `text:${e.data.toString('utf8')}`];
      case 'ping':
      case 'pong':
        return [`${e.type}:${e.data.toString('hex')}`];
      case 'close':
        return [`close:${e.code}:${e.reason}`];
      case 'error':
        return [`error:${e.code}`];
      case 'write':
        return parseServerFrames(e.data).map((f) => `write:${OPCODE_NAMES[f.opcode]}:${f.payload.toString('hex')}`);
      case 'closeTransport':
        return ['closeTransport'];
    }
  });
}

/** The summary of writing a close frame with `code` and `reason`. */
export const closeWrite = (code?: number, reason = '') => `write:close:${closeBody(code, reason).toString('hex')}`;

/**
 * Asserts the connection was failed exactly once, with `code`, as its last
 * act: our close frame carrying the mapped close code (unless one was sent
 * before), then onProtocolError, then closeTransport, and nothing after.
 * Returns the summary of the events before the failure.
 */
export function expectFailure(recorder: EventRecorder, code: FrameFailureCode, { closeWritten = true } = {}): string[] {
  const summary = summarize(recorder.events);
  const tail = [...(closeWritten ? [closeWrite(FrameFailures[code])] : []), `error:${code}`, 'closeTransport'];
  expect(summary.slice(-tail.length)).toEqual(tail);
  expect(summary.filter((s) => s.startsWith('error:') || s === 'closeTransport')).toEqual(tail.slice(-2));
  return summary.slice(0, -tail.length);
}

/** Asserts the connection is still open: no failure, no close. */
export function expectOpen(recorder: EventRecorder): void {
  expect(summarize(recorder.events).filter((s) => /^(error:|close:|closeTransport|write:close)/.test(s))).toEqual([]);
}

// ---------------------------------------------------------------------------
// Opening handshake
// ---------------------------------------------------------------------------

/** RFC 6455 §1.3 sample nonce and its accept value. */
export const SAMPLE_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
export const SAMPLE_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

export type HeaderList = Array<[name: string, value: string]>;

/** The minimal valid client handshake headers (RFC 6455 §4.1). */
export function validHeaders(key = SAMPLE_KEY): HeaderList {
  return [
    ['Host', 'server.example.com'],
    ['Upgrade', 'websocket'],
    ['Connection', 'Upgrade'],
    ['Sec-WebSocket-Key', key],
    ['Sec-WebSocket-Version', '13'],
  ];
}

/** `headers` with every field called `name` (any case) replaced by `values` (none: removed). */
export function withHeader(headers: HeaderList, name: string, ...values: string[]): HeaderList {
  const lower = name.toLowerCase();
  const index = headers.findIndex(([n]) => n.toLowerCase() === lower);
  const rest = headers.filter(([n]) => n.toLowerCase() !== lower);
  const added: HeaderList = values.map((v) => [name, v]);
  rest.splice(index === -1 ? rest.length : index, 0, ...added);
  return rest;
}

export interface RequestSpec {
  method?: string;
  target?: string;
  version?: string;
  /** A whole request line, overriding method/target/version. */
  requestLine?: string;
  headers?: HeaderList;
  /** Raw header lines appended as they are (for malformed-syntax tests). */
  rawLines?: string[];
}

/** An HTTP/1.1 request head, CRLF-terminated. */
export function handshakeRequest(spec: RequestSpec = {}): Buffer {
  const { method = 'GET', target = '/chat', version = 'HTTP/1.1', headers = validHeaders(), rawLines = [] } = spec;
  const requestLine = spec.requestLine ?? `${method} ${target} ${version}`;
  const lines = [requestLine, ...headers.map(([n, v]) => `${n}: ${v}`), ...rawLines];
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

/** Run bytes through a RequestReader (cut at `cuts`); throws if the head never completes. */
export function readRequest(
  bytes: Uint8Array,
  limits?: RequestLimits,
  cuts: readonly number[] = [],
): { request: HttpRequest; reader: RequestReader } {
  const reader = new RequestReader(limits);
  for (const chunk of splitAt(bytes, cuts)) {
    const request = reader.push(chunk);
    if (request) return { request, reader };
  }
  throw new Error('request head incomplete');
}

export type HandshakeOutcome =
  | { status: 101; upgrade: UpgradeRequest }
  | { status: number; error: HandshakeError };

/** Read and validate a request: 101 with the upgrade, or the rejection's status. */
export function handshake(
  bytes: Uint8Array,
  policy?: UpgradePolicy,
  limits?: RequestLimits,
  cuts: readonly number[] = [],
): HandshakeOutcome {
  try {
    const { request } = readRequest(bytes, limits, cuts);
    return { status: 101, upgrade: validateUpgrade(request, policy) };
  } catch (error) {
    if (!(error instanceof HandshakeError)) throw error;
    return { status: error.status, error };
  }
}

/** RFC 6455 §4.2.2 item 5.4, computed independently of the code under test. */
export function expectedAccept(key: string): string {
  return createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
}

/** Parse an HTTP response head: status, reason, lower-cased headers, body. */
export function parseResponse(bytes: Buffer): {
  statusLine: string;
  status: number;
  headers: Map<string, string>;
  body: string;
} {
  const text = bytes.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  if (end === -1) throw new Error('no end of head');
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    if (headers.has(name)) throw new Error(`duplicate response header ${name}`);
    headers.set(name, line.slice(colon + 1).trim());
  }
  return {
    statusLine,
    status: Number(statusLine.split(' ')[1]),
    headers,
    body: bytes.subarray(Buffer.byteLength(text.slice(0, end + 4), 'latin1')).toString('utf8'),
  };
}
