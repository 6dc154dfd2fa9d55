/**
 * An RFC 8441 client written on node:http2 for the tests: an extended
 * CONNECT per WebSocket, its stream read by the raw frame client of the
 * runtime tests (which does only what a test tells it).
 */
import { once } from 'node:events';
import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type IncomingHttpHeaders,
  type SecureClientSessionOptions,
  connect,
} from 'node:http2';
import { RawClient } from '../runtime/support.js';

/** Connect (h2 by ALPN for https://, prior knowledge for http://) and wait for the server's SETTINGS. */
export async function h2Session(url: string, options: SecureClientSessionOptions = {}): Promise<ClientHttp2Session> {
  const session = connect(url, { rejectUnauthorized: false, ...options });
  session.on('error', () => {});
  await once(session, 'remoteSettings');
  return session;
}

export interface ConnectOutcome {
  stream: ClientHttp2Stream;
  status: number;
  headers: IncomingHttpHeaders;
}

/** RFC 8441 §4–5: an extended CONNECT for a WebSocket at `path`; `headers` add to or replace the defaults. */
export async function extendedConnect(
  session: ClientHttp2Session,
  path = '/',
  headers: Record<string, string | undefined> = {},
): Promise<ConnectOutcome> {
  const fields: Record<string, string> = {};
  const all = { ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'https', ':path': path, 'sec-websocket-version': '13', ...headers };
  for (const [name, value] of Object.entries(all)) if (value !== undefined) fields[name] = value;
  const stream = session.request(fields, { endStream: false });
  stream.on('error', () => {});
  const [response] = (await Promise.race([
    once(stream, 'response'),
    once(stream, 'close').then(() => {
      throw new Error(`stream closed without a response (RST_STREAM ${stream.rstCode})`);
    }),
  ])) as [IncomingHttpHeaders];
  const status = Number(response[':status']);
  return { stream, status, headers: response };
}

/** The whole body of a refused CONNECT's stream. */
export async function bodyOf(stream: ClientHttp2Stream): Promise<string> {
  let body = '';
  stream.setEncoding('utf8').on('data', (s: string) => (body += s));
  await once(stream, 'end');
  return body;
}

/** An open WebSocket on a new stream of `session`, as a raw frame client; throws unless the answer is 200. */
export async function h2WebSocket(
  session: ClientHttp2Session,
  path = '/',
  headers: Record<string, string | undefined> = {},
): Promise<RawClient<ClientHttp2Stream> & { headers: IncomingHttpHeaders }> {
  const { stream, status, headers: response } = await extendedConnect(session, path, headers);
  if (status !== 200) throw new Error(`extended CONNECT refused: ${status}`);
  return Object.assign(RawClient.over(stream, `HTTP/2 ${status}`), { headers: response });
}
