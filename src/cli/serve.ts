/** Running a WebSocketServer from the command line: logging and graceful shutdown. */
import type { AddressInfo } from 'node:net';
import { ProtocolError } from '../protocol/index.js';
import { DEFAULTS, type ServerOptions, WebSocketServer } from '../server/index.js';
import type { WebSocket } from '../server/index.js';
import type { Logger } from './log.js';

export interface ServeExtras {
  /** Runs on SIGINT/SIGTERM once every client is closed, before the process exits. */
  shutdown?: () => Promise<void>;
}

let nextId = 1;
/** The connection number in log lines, kept on the WebSocket (no closure per connection). */
const kId = Symbol('strictws.cli.id');
type Numbered = WebSocket & { [kId]: number };

/** How often, at most, the log says the connection cap was hit (a storm of refusals is one line per window). */
export const CAP_LOG_WINDOW_MS = 10_000;

/**
 * A warning when the connection cap turns handshakes away: the first refusal
 * is logged at once; the ones in the next `windowMs` are counted and logged
 * as one line when it ends.
 */
export function capReporter(log: Logger, wss: WebSocketServer, windowMs = CAP_LOG_WINDOW_MS): () => void {
  let refused = 0;
  let timer: NodeJS.Timeout | undefined;
  const limit = () => `maxConnections ${wss.options.maxConnections ?? DEFAULTS.maxConnections}`;
  const flush = (): void => {
    if (refused === 0) {
      timer = undefined;
      return;
    }
    log.warn(`connection cap still reached (${limit()}): ${refused} more handshake(s) refused with 503 in the last ${windowMs / 1000} s`);
    refused = 0;
    timer = setTimeout(flush, windowMs).unref();
  };
  return () => {
    if (timer) {
      refused++;
      return;
    }
    log.warn(`connection cap reached (${limit()}): new handshakes get 503 until connections close`);
    timer = setTimeout(flush, windowMs).unref();
  };
}

/**
 * Start a server, log one line per connection event, and stop cleanly on SIGINT/SIGTERM.
 */
export function serve(
  name: string,
  options: ServerOptions,
  log: Logger,
  onConnection: (ws: WebSocket, id: number) => void,
  extras: ServeExtras = {},
): Promise<WebSocketServer> {
  return new Promise((resolve, reject) => {
    const wss = new WebSocketServer(options);
    wss.once('error', reject);
    wss.on('listening', () => {
      wss.off('error', reject);
      wss.on('error', (error: Error) => log.error(`server error: ${error.message}`));
      const { address, port } = wss.address() as AddressInfo;
      const host = address.includes(':') ? `[${address}]` : address;
      const secure = options.tls !== undefined;
      process.stdout.write(`strictws ${name} listening on ${secure ? 'wss' : 'ws'}://${host}:${port}${options.path ?? '/'}\n`);
      if (options.handleRequest) log.info(`page at ${secure ? 'https' : 'http'}://${host}:${port}/`);
      if (options.http2) log.info(secure ? 'HTTP/2 (RFC 8441) and HTTP/1.1 by ALPN' : 'h2c with prior knowledge and HTTP/1.1');
      resolve(wss);
    });
    const capReached = capReporter(log, wss);
    wss.on('handshakeError', (error: Error & { code?: string }) => {
      if (error.code === 'TOO_MANY_CONNECTIONS') capReached();
      else log.debug(`handshake refused: ${error.message}`);
    });
    // One listener of each kind for every connection; `this` is the WebSocket.
    function onError(this: Numbered, error: Error & { code?: string }): void {
      const level = error instanceof ProtocolError ? 'warn' : 'info';
      if (log.enabled(level)) log[level](`#${this[kId]} error ${error.code}: ${error.message}`);
    }
    function onClose(this: Numbered, code: number, reason: string): void {
      log.info(`#${this[kId]} closed ${code}${reason ? ` ${reason}` : ''}`);
    }
    wss.on('connection', (ws: WebSocket) => {
      const id = nextId++;
      (ws as Numbered)[kId] = id;
      ws.on('error', onError); // also keeps an 'error' from throwing
      if (log.enabled('info')) {
        log.info(`#${id} open from ${ws.remoteAddress} over ${ws.transport === 'h2' ? 'HTTP/2' : 'HTTP/1.1'}`);
        ws.on('close', onClose);
      }
      onConnection(ws, id);
    });
    const stop = (signal: string) => {
      log.info(`${signal}: closing ${wss.clients.size} connection(s)`);
      wss
        .close()
        .then(() => extras.shutdown?.())
        .then(() => process.exit(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
