/**
 * Options objects of the public API: nothing the user passes is ignored in
 * silence. An unknown key throws a TypeError that names it, and for the
 * names `ws` uses that we do not, says what to use instead. A key given as
 * `undefined` means its default, never "no limit".
 */
import {
  ArgumentRangeError,
  ArgumentTypeError,
  DEFAULT_MAX_FRAGMENTS,
  DEFAULT_MAX_PAYLOAD,
  DEFAULT_REQUEST_LIMITS,
  DEFLATE_DEFAULTS,
  type DeflateOptions,
  OptionError,
} from '../protocol/index.js';

export { OptionError };

/**
 * Throw an OptionError for the first own key of `options` that is not in
 * `known`. `instead` maps names other libraries use to a hint naming ours.
 */
export function checkOptions(
  where: string,
  options: object | undefined,
  known: ReadonlySet<string>,
  instead: Readonly<Record<string, string>> = {},
): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object') {
    throw new ArgumentTypeError('INVALID_OPTION', `${where}: options must be an object`);
  }
  for (const key of Object.keys(options)) {
    if (known.has(key)) continue;
    const hint = Object.hasOwn(instead, key) ? instead[key] : undefined;
    throw new OptionError(`${where}: unknown option "${key}"${hint ? `; ${hint}` : ''}`);
  }
}

/** The defaults of every numeric server option (docs/api.md, docs/security.md). */
export const DEFAULTS = {
  maxPayload: DEFAULT_MAX_PAYLOAD,
  maxFragments: DEFAULT_MAX_FRAGMENTS,
  handshakeTimeout: 10_000,
  closeTimeout: 10_000,
  heartbeat: { interval: 30_000, timeout: 30_000 },
  messageTimeout: 60_000,
  highWaterMark: 1024 * 1024,
  maxBufferedAmount: 64 * 1024 * 1024,
  maxConnections: 10_000,
  ...DEFAULT_REQUEST_LIMITS,
} as const;

/** RFC 9110 §10.2.3: what a 503 for the connection cap asks the client to wait, in seconds. */
export const RETRY_AFTER_SECONDS = 5;

/** Every option of `new WebSocketServer(options)`. A new option is added here, or it is refused. */
export const SERVER_OPTIONS: ReadonlySet<string> = new Set([
  'port',
  'host',
  'backlog',
  'server',
  'noServer',
  'path',
  'maxPayload',
  'maxFragments',
  'handleProtocols',
  'authenticate',
  'origins',
  'handshakeTimeout',
  'closeTimeout',
  'messageTimeout',
  'heartbeat',
  'highWaterMark',
  'maxBufferedAmount',
  'maxConnections',
  'clientTracking',
  'perMessageDeflate',
  'handleRequest',
  'maxRequestLine',
  'maxHeaders',
  'maxHeaderBytes',
  'tls',
  'http2',
]);

/** `ws`'s WebSocketServer options that we do not take, and what to do instead. */
export const WS_SERVER_OPTIONS: Readonly<Record<string, string>> = {
  verifyClient: 'use "authenticate: (request) => boolean | { status } | Promise<...>" (and "origins" for an Origin check)',
  skipUTF8Validation: 'refused: text and close reasons are always validated as UTF-8 (RFC 6455 §8.1)',
  autoPong: 'refused: a ping is always answered with a pong (RFC 6455 §5.5.2); the \'ping\' event still fires',
  allowSynchronousEvents: 'refused: events are emitted as each message is parsed',
  WebSocket: 'refused: connections are always strictws WebSocket objects; add behaviour in the \'connection\' listener',
  maxBufferedChunks: 'use "maxFragments" (frames per message) and "maxPayload" (bytes per message)',
  maxPendingAutoPongs: 'refused: automatic pongs are bounded by backpressure ("highWaterMark", "maxBufferedAmount")',
};

export const HEARTBEAT_OPTIONS: ReadonlySet<string> = new Set(['interval', 'timeout']);

/** Our DeflateOptions, as the core defines them. */
export const DEFLATE_OPTIONS: ReadonlySet<string> = new Set(Object.keys(DEFLATE_DEFAULTS));

/** `ws`'s perMessageDeflate options that we do not take. */
export const WS_DEFLATE_OPTIONS: Readonly<Record<string, string>> = {
  zlibDeflateOptions: 'use "level" and "memLevel" (the zlib settings we take; the window is "serverMaxWindowBits")',
  zlibInflateOptions: 'refused: inflating is bounded by "maxPayload", with the window the client was given',
  concurrencyLimit: 'refused: each connection compresses one message at a time, large ones on libuv\'s threadpool',
};

/** A whole number from `min` to `max`; `undefined` gives `fallback`. */
export function integerOption(where: string, value: unknown, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw new ArgumentTypeError('INVALID_OPTION', `${where} must be a number, got ${typeof value}`);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ArgumentRangeError('INVALID_OPTION', `${where} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

/** Check that an option, if given, has the expected type. */
export function typedOption(where: string, value: unknown, type: 'string' | 'boolean' | 'function' | 'object'): void {
  if (value === undefined) return;
  const article = type === 'object' ? 'an' : 'a';
  if (typeof value !== type || value === null) throw new ArgumentTypeError('INVALID_OPTION', `${where} must be ${article} ${type}, got ${value === null ? 'null' : typeof value}`);
}

/**
 * The perMessageDeflate option, checked for names before the core checks the
 * values: keys given as `undefined` are dropped, so they mean the default.
 */
export function deflateOption(value: unknown): boolean | DeflateOptions | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  if (value === null || typeof value !== 'object') throw new ArgumentTypeError('INVALID_OPTION', 'perMessageDeflate must be a boolean or an options object');
  checkOptions('perMessageDeflate', value, DEFLATE_OPTIONS, WS_DEFLATE_OPTIONS);
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as DeflateOptions;
}
