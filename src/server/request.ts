/** Bridges between Node's IncomingMessage and the protocol core's HttpRequest. */
import { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { HttpRequest } from '../protocol/index.js';

/** The core's view of a request Node has already parsed. */
export function fromIncomingMessage(req: IncomingMessage): HttpRequest {
  const headers = new Map<string, string[]>();
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    const values = headers.get(name);
    if (values) values.push(raw[i + 1]);
    else headers.set(name, [raw[i + 1]]);
  }
  return { method: req.method ?? '', target: req.url ?? '', httpVersion: req.httpVersion, headers };
}

/**
 * An IncomingMessage for a request our own reader parsed, so that hooks and
 * 'connection' listeners get the object they know from `ws` and node:http.
 */
export function toIncomingMessage(request: HttpRequest, socket: Socket): IncomingMessage {
  const req = new IncomingMessage(socket);
  req.method = request.method;
  req.url = request.target;
  req.httpVersion = request.httpVersion;
  const [major, minor] = request.httpVersion.split('.').map(Number);
  req.httpVersionMajor = major;
  req.httpVersionMinor = minor;
  const rawHeaders: string[] = [];
  for (const [name, values] of request.headers) {
    for (const value of values) rawHeaders.push(name, value);
    // node:http joins repeated fields with ", " (set-cookie aside, which a request lacks).
    req.headers[name] = values.join(', ');
  }
  req.rawHeaders = rawHeaders;
  req.complete = true;
  return req;
}

/**
 * A request as the opening handshake sees it: the core's HttpRequest, and the
 * IncomingMessage that hooks and 'connection' listeners get. A standalone
 * server reads requests with its own reader; their IncomingMessage is built
 * from the parsed head only when something asks for it.
 */
export class HandshakeRequest {
  private constructor(
    readonly parsed: HttpRequest,
    private readonly socket: Socket,
    private message: IncomingMessage | undefined,
  ) {}

  /** A request our own reader parsed. */
  static parsed(request: HttpRequest, socket: Socket): HandshakeRequest {
    return new HandshakeRequest(request, socket, undefined);
  }

  /** A request node:http parsed (an attached server's 'upgrade', `handleUpgrade`). */
  static fromNode(request: IncomingMessage, socket: Socket): HandshakeRequest {
    return new HandshakeRequest(fromIncomingMessage(request), socket, request);
  }

  /** Whether the IncomingMessage exists already (node:http's, or built once asked for). */
  get built(): boolean {
    return this.message !== undefined;
  }

  get incoming(): IncomingMessage {
    return (this.message ??= toIncomingMessage(this.parsed, this.socket));
  }
}
