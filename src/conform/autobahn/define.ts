/** Shorthands for writing Autobahn's cases: the common expectations, payloads and frame lists. */
import { OP, type FrameSpec, closeBody } from '../wire.js';
import type { AutobahnCase, Expected, ExpectedClose, Script } from './engine.js';

/** We close with 1000 once everything expected came; the peer answers 1000; the handshake completes. */
export const NORMAL_CLOSE: ExpectedClose = { codes: [1000], closedByMe: true, requireClean: true };
/** The peer fails the connection (close `code`, or just TCP close). */
export const failClose = (codes: number[] = [1002], wrongEndpointFatal = false): ExpectedClose => ({ codes, closedByMe: false, requireClean: false, wrongEndpointFatal: wrongEndpointFatal || undefined });

export type Script1 = (s: Script) => Promise<void>;

export function echoCase(id: string, description: string, expectation: string, ok: AutobahnCase['ok'], script: Script1, extra: Partial<AutobahnCase> = {}): AutobahnCase {
  return { id, description, expectation, ok, close: NORMAL_CLOSE, script, ...extra };
}

export function failCase(id: string, description: string, expectation: string, script: Script1, extra: Partial<AutobahnCase> = {}): AutobahnCase {
  return { id, description, expectation, ok: [], close: failClose(), script, ...extra };
}

export const text = (s: string | Buffer): Expected => ['message', Buffer.isBuffer(s) ? s : Buffer.from(s, 'utf8'), false];
export const binary = (b: Buffer): Expected => ['message', b, true];
export const pong = (s: string | Buffer): Expected => ['pong', Buffer.isBuffer(s) ? s : Buffer.from(s, 'utf8')];
export const timeout = (marker: string): Expected => ['timeout', marker];

export const T = (payload: string | Buffer, fin = true, rsv = 0): FrameSpec => ({ opcode: OP.TEXT, payload, fin, rsv });
export const B = (payload: Buffer, fin = true, rsv = 0): FrameSpec => ({ opcode: OP.BINARY, payload, fin, rsv });
export const CONT = (payload: string | Buffer, fin = true): FrameSpec => ({ opcode: OP.CONT, payload, fin });
export const PING = (payload: string | Buffer = '', fin = true, rsv = 0): FrameSpec => ({ opcode: OP.PING, payload, fin, rsv });
export const PONG = (payload: string | Buffer = '', fin = true): FrameSpec => ({ opcode: OP.PONG, payload, fin });
export const CLOSE = (code?: number, reason: string | Buffer = ''): FrameSpec => ({ opcode: OP.CLOSE, payload: code === undefined ? undefined : closeBody(code, reason) });

/** `n` bytes of `pattern` repeated. */
export function repeat(pattern: string | number, n: number): Buffer {
  if (typeof pattern === 'number') return Buffer.alloc(n, pattern);
  const unit = Buffer.from(pattern, 'utf8');
  const out = Buffer.alloc(n);
  for (let at = 0; at < n; at += unit.length) unit.copy(out, at, 0, Math.min(unit.length, n - at));
  return out;
}

export const hexBytes = (h: string) => Buffer.from(h.replace(/\s+/g, ''), 'hex');

/** Autobahn's "octet-wise chops" and "frame-wise chops". */
export const OCTETS = 1;
export const FRAMES = 'frame' as const;

/** A value built on first use (large payloads are not built when the module loads). */
export function lazy<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}
