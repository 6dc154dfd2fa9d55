/** JSON over WebSocket for the apps: reading requests, answering, broadcasting. */
import { WebSocket, encodeMessage } from '../index.js';

/** What every app answers to a request it cannot take; the connection stays open. */
export interface ErrorReply<Code extends string = string> {
  type: 'error';
  code: Code;
  message: string;
  /** The request's `ref`, when it had one. */
  ref?: string;
}

/** Longest `ref` a request may carry, in characters. */
export const MAX_REF = 64;

/** What every request may carry: a `ref` of the client's choosing, repeated in the answer to it. */
export interface Request {
  type: string;
  ref?: string;
  [field: string]: unknown;
}

/** Errors any JSON request can get. */
export type RequestErrorCode = 'bad-json' | 'too-large' | 'bad-request';

/**
 * Per-client cap on bytes queued for sending. A client that does not read
 * is closed with 1008 by the server once its queue passes this, so one slow
 * reader neither delays the others nor makes the server's memory grow.
 */
export const SLOW_CLIENT_CAP = 1024 * 1024;

/**
 * Parse one request: a text message of at most `maxBytes` bytes holding a
 * JSON object with a string "type" and maybe a string "ref". Returns the
 * object or the error to send.
 */
export function readRequest(data: Buffer, isBinary: boolean, maxBytes: number): Request | ErrorReply<RequestErrorCode> {
  if (data.length > maxBytes) {
    return error('too-large', `a request may be at most ${maxBytes} bytes, this one has ${data.length}`);
  }
  if (isBinary) return error('bad-json', 'requests are JSON text messages, not binary');
  let value: unknown;
  try {
    value = JSON.parse(data.toString('utf8'));
  } catch (cause) {
    return error('bad-json', `not JSON: ${(cause as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return error('bad-request', 'a request is a JSON object');
  }
  const request = value as Record<string, unknown>;
  if (typeof request.type !== 'string') return error('bad-request', 'a request needs a string "type"');
  const { ref } = request;
  if (ref !== undefined && (typeof ref !== 'string' || ref === '' || ref.length > MAX_REF)) {
    return error('bad-request', `"ref" must be a string of 1 to ${MAX_REF} characters`);
  }
  return request as Request;
}

export function isError(value: { type: string }): value is ErrorReply {
  return value.type === 'error';
}

/** An error reply; with `ref`, the answer to the request that carried it. */
export function error<Code extends string>(code: Code, message: string, ref?: string): ErrorReply<Code> {
  return ref === undefined ? { type: 'error', code, message } : { type: 'error', code, message, ref };
}

/** Send one JSON event to one client, if it is still open. */
export function send(ws: WebSocket, event: object | string): void {
  if (ws.readyState === WebSocket.OPEN) ws.send(typeof event === 'string' ? event : JSON.stringify(event));
}

/**
 * Frame `json` once and write the same bytes to every open client. A client
 * past the server's maxBufferedAmount is closed with 1008 by `sendFrame`
 * itself; later frames skip it, and the others carry on.
 */
export function broadcast(clients: Iterable<WebSocket>, json: string): void {
  const frame = encodeMessage(Buffer.from(json, 'utf8'), false);
  for (const ws of clients) {
    if (ws.readyState === WebSocket.OPEN) ws.sendFrame(frame);
  }
}
