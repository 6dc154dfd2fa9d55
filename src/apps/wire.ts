/** JSON over WebSocket for the apps: reading requests, answering, broadcasting. */
import { WebSocket, encodeMessage } from '../index.js';

/** What every app answers to a request it cannot take; the connection stays open. */
export interface ErrorReply<Code extends string = string> {
  type: 'error';
  code: Code;
  message: string;
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
 * JSON object with a string "type". Returns the object or the error to send.
 */
export function readRequest(
  data: Buffer,
  isBinary: boolean,
  maxBytes: number,
): { type: string; [field: string]: unknown } | ErrorReply<RequestErrorCode> {
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
  return request as { type: string };
}

export function isError(value: { type: string }): value is ErrorReply {
  return value.type === 'error';
}

export function error<Code extends string>(code: Code, message: string): ErrorReply<Code> {
  return { type: 'error', code, message };
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
