/**
 * The server seat of the conformance cases (`strictws conform --serve`): the
 * checks a server makes of a client's opening handshake (RFC 6455 §4.2.1),
 * the 101 it answers (§4.2.2), and permessage-deflate as a server negotiates
 * it (RFC 7692 §7.1). Independent of src/, like the rest of src/conform.
 */
import type { IncomingMessage } from 'node:http';
import { acceptFor } from './client.js';
import type { Agreement } from './deflate.js';

/** Comma-separated elements of the header's every occurrence (RFC 9110 §5.6.1), lower-cased names without parameters. */
function tokens(value: string | string[] | undefined): string[] {
  return ([] as string[])
    .concat(value ?? [])
    .flatMap((v) => v.split(','))
    .map((t) => t.split(';')[0].trim().toLowerCase())
    .filter(Boolean);
}

/** RFC 6455 §4.2.1: why the client's opening handshake is not valid, or undefined when it is. */
export function checkRequest(req: IncomingMessage): string | undefined {
  if (req.method !== 'GET') return `the method is ${req.method}, not GET (§4.2.1 item 1)`;
  if (req.httpVersionMajor < 1 || (req.httpVersionMajor === 1 && req.httpVersionMinor < 1)) return `the request is HTTP/${req.httpVersion}, not 1.1 or higher (§4.2.1 item 1)`;
  if (!req.headers.host) return 'the request has no Host header (§4.2.1 item 2)';
  if (!tokens(req.headers.upgrade).includes('websocket')) return `Upgrade is "${req.headers.upgrade ?? ''}", without "websocket" (§4.2.1 item 3)`;
  if (!tokens(req.headers.connection).includes('upgrade')) return `Connection is "${req.headers.connection ?? ''}", without "Upgrade" (§4.2.1 item 4)`;
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string' || !/^[A-Za-z0-9+/]{22}==$/.test(key.trim())) return `Sec-WebSocket-Key "${key ?? ''}" is not 16 bytes in base64 (§4.2.1 item 5)`;
  if (req.headers['sec-websocket-version'] !== '13') return `Sec-WebSocket-Version is "${req.headers['sec-websocket-version'] ?? ''}", not 13 (§4.2.1 item 6)`;
  return undefined;
}

/** The 101 for a valid request (§4.2.2), with a Sec-WebSocket-Extensions answer when there is one. */
export function switchingProtocols(req: IncomingMessage, extensions?: string): string {
  const key = String(req.headers['sec-websocket-key']).trim();
  const lines = ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${acceptFor(key)}`];
  if (extensions) lines.push(`Sec-WebSocket-Extensions: ${extensions}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** One permessage-deflate element of an offer, read as a server must (RFC 7692 §7.1): undefined if it is not valid. */
export interface DeflateOffer {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits?: number;
  /** true: offered without a value (the client supports any). */
  clientMaxWindowBits?: number | true;
}

function readOffer(element: string): DeflateOffer | undefined {
  const [name, ...params] = element.split(';').map((p) => p.trim());
  if (name.toLowerCase() !== 'permessage-deflate') return undefined;
  const offer: DeflateOffer = { serverNoContextTakeover: false, clientNoContextTakeover: false };
  const seen = new Set<string>();
  for (const param of params) {
    const [key, raw] = param.split('=').map((s) => s.trim());
    if (seen.has(key)) return undefined; // §7.1: a parameter at most once
    seen.add(key);
    const value = raw?.replace(/^"(.*)"$/, '$1');
    const bits = value !== undefined && /^(8|9|1[0-5])$/.test(value) ? Number(value) : undefined;
    if (key === 'server_no_context_takeover' && raw === undefined) offer.serverNoContextTakeover = true;
    else if (key === 'client_no_context_takeover' && raw === undefined) offer.clientNoContextTakeover = true;
    else if (key === 'server_max_window_bits' && bits !== undefined) offer.serverMaxWindowBits = bits;
    else if (key === 'client_max_window_bits' && (raw === undefined || bits !== undefined)) offer.clientMaxWindowBits = bits ?? true;
    else return undefined; // §7.1: an unknown parameter or a bad value declines the element
  }
  return offer;
}

/** The valid permessage-deflate elements of a Sec-WebSocket-Extensions offer, in the client's order of preference. */
export function readOffers(value: string | string[] | undefined): DeflateOffer[] {
  return ([] as string[])
    .concat(value ?? [])
    .flatMap((v) => v.split(','))
    .map((e) => readOffer(e.trim()))
    .filter((o): o is DeflateOffer => o !== undefined);
}

/** What the server asks of the client: Autobahn's (requestNoContextTakeover, requestMaxWindowBits), 0 bits for no request. */
export interface AcceptRequest {
  noContextTakeover: boolean;
  maxWindowBits: number;
}

export interface Negotiated {
  /** The Sec-WebSocket-Extensions answer. */
  response: string;
  /** The agreement from our side, in the terms of `ClientDeflate` (which names the side that compresses "client"). */
  ours: Agreement;
  /** The same in the RFC's terms (server = us), for the observation. */
  agreed: Agreement;
}

/**
 * Accept the client's first offer element that meets one of the `requests`
 * (tried in order): client_max_window_bits can only be asked for when the
 * client offered it (§7.1.2.2); client_no_context_takeover always (§7.1.1.2).
 * The client's server_* parameters are honoured (§7.1.1.1, §7.1.2.1), except
 * server_max_window_bits=8, which zlib cannot compress with: that element is
 * declined. Undefined when nothing can be accepted.
 */
export function negotiate(offers: DeflateOffer[], requests: AcceptRequest[]): Negotiated | undefined {
  for (const request of requests) {
    for (const offer of offers) {
      if (offer.serverMaxWindowBits === 8) continue;
      if (request.maxWindowBits && offer.clientMaxWindowBits === undefined) continue;
      const clientBits = request.maxWindowBits ? Math.min(request.maxWindowBits, offer.clientMaxWindowBits === true ? 15 : (offer.clientMaxWindowBits ?? 15)) : undefined;
      const params = ['permessage-deflate'];
      if (request.noContextTakeover) params.push('client_no_context_takeover');
      if (clientBits !== undefined) params.push(`client_max_window_bits=${clientBits}`);
      if (offer.serverNoContextTakeover) params.push('server_no_context_takeover');
      if (offer.serverMaxWindowBits !== undefined) params.push(`server_max_window_bits=${offer.serverMaxWindowBits}`);
      const agreed: Agreement = {
        serverNoContextTakeover: offer.serverNoContextTakeover,
        clientNoContextTakeover: request.noContextTakeover,
        serverMaxWindowBits: offer.serverMaxWindowBits ?? 15,
        clientMaxWindowBits: clientBits ?? (typeof offer.clientMaxWindowBits === 'number' ? offer.clientMaxWindowBits : 15),
      };
      // Our compressor plays ClientDeflate's "client"; its inflater reads the client's messages with the largest
      // window (any smaller one inflates too), reset per message when we asked for client_no_context_takeover.
      const ours: Agreement = {
        clientNoContextTakeover: agreed.serverNoContextTakeover,
        clientMaxWindowBits: agreed.serverMaxWindowBits,
        serverNoContextTakeover: agreed.clientNoContextTakeover,
        serverMaxWindowBits: 15,
      };
      return { response: params.join('; '), ours, agreed };
    }
  }
  return undefined;
}

/** The requests behind a case's client-seat offer: its server_* parameters become what we, the server, ask of the client. */
export function requestsOf(caseOffer: string): AcceptRequest[] {
  return readOffers(caseOffer).map((o) => ({ noContextTakeover: o.serverNoContextTakeover, maxWindowBits: o.serverMaxWindowBits ?? 0 }));
}
