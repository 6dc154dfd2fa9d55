/** Bridges between Node's IncomingMessage and the protocol core's HttpRequest. */
import { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { type HttpRequest, headerMap } from '../protocol/index.js';

/** The core's view of a request Node has already parsed. */
export function fromIncomingMessage(req: IncomingMessage): HttpRequest {
  return { method: req.method ?? '', target: req.url ?? '', httpVersion: req.httpVersion, headers: headerMap(req.rawHeaders) };
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

  /** A request parsed elsewhere, its IncomingMessage already built (an HTTP/2 stream's, RFC 8441). */
  static ofMessage(request: HttpRequest, socket: Socket, message: IncomingMessage): HandshakeRequest {
    return new HandshakeRequest(request, socket, message);
  }

  /** Whether the IncomingMessage exists already (node:http's, or built once asked for). */
  get built(): boolean {
    return this.message !== undefined;
  }

  get incoming(): IncomingMessage {
    return (this.message ??= toIncomingMessage(this.parsed, this.socket));
  }
}
