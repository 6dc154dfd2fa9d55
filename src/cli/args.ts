/** Flag parsing shared by the commands: node:util parseArgs, with clear errors. */
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { DeflateOptions } from '../protocol/index.js';
import { LEVELS, type Level } from './log.js';

export class UsageError extends Error {
  override name = 'UsageError';
  /** `help`: whether pointing to --help would help (not for a missing package). */
  constructor(message: string, readonly help = true) {
    super(message);
  }
}

/** Flags every server command takes. */
export const commonFlags = {
  port: { type: 'string', short: 'p', default: '9001' },
  host: { type: 'string', short: 'H', default: '127.0.0.1' },
  path: { type: 'string' },
  'max-payload': { type: 'string' },
  'message-timeout': { type: 'string' },
  'max-connections': { type: 'string' },
  deflate: { type: 'boolean', default: false },
  'deflate-threshold': { type: 'string' },
  'deflate-window-bits': { type: 'string' },
  'deflate-mem-level': { type: 'string' },
  'deflate-level': { type: 'string' },
  'deflate-no-context-takeover': { type: 'boolean', default: false },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  http2: { type: 'boolean', default: false },
  'log-level': { type: 'string', short: 'l', default: 'info' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** Run node:util parseArgs (or anything that parses flags), turning its errors into usage errors. */
export function parse<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new UsageError(`--port must be an integer from 0 to 65535, got "${value}"`);
  return n;
}

const UNITS: Record<string, number> = { '': 1, k: 1024, kib: 1024, m: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gib: 1024 ** 3 };

/** A byte count such as 1048576, 64k or 16MiB. */
export function bytes(flag: string, value: string): number {
  const match = /^(\d+)\s*([a-z]*)$/i.exec(value);
  const unit = match ? UNITS[match[2].toLowerCase()] : undefined;
  if (!match || unit === undefined || Number(match[1]) === 0) {
    throw new UsageError(`--${flag} must be a positive byte count such as 1048576, 64k or 16MiB, got "${value}"`);
  }
  return Number(match[1]) * unit;
}

/** A number of milliseconds for a server timeout, or undefined for the default. */
export function milliseconds(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  return integer(flag, value, 1, 2 ** 31 - 1);
}

export function level(value: string): Level {
  if (!(LEVELS as readonly string[]).includes(value)) {
    throw new UsageError(`--log-level must be one of ${LEVELS.join(', ')}, got "${value}"`);
  }
  return value as Level;
}

export function path(value: string | undefined): string | undefined {
  if (value !== undefined && !value.startsWith('/')) throw new UsageError(`--path must start with "/", got "${value}"`);
  return value;
}

function integer(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) throw new UsageError(`--${flag} must be an integer from ${min} to ${max}, got "${value}"`);
  return n;
}

/** --max-connections: open connections plus handshakes in progress (undefined: the library's default). */
export function maxConnections(value: string | undefined): number | undefined {
  return value === undefined ? undefined : integer('max-connections', value, 1, Number.MAX_SAFE_INTEGER);
}

/** Where and how every command listens, from the common flags. */
export function listenOptions(
  flags: DeflateFlags & TransportFlags & { port: string; host: string; path?: string; 'max-connections'?: string; 'message-timeout'?: string },
) {
  return {
    port: port(flags.port),
    host: flags.host,
    path: path(flags.path),
    perMessageDeflate: deflate(flags),
    maxConnections: maxConnections(flags['max-connections']),
    messageTimeout: milliseconds('message-timeout', flags['message-timeout']),
    ...transport(flags),
  };
}

export interface DeflateFlags {
  deflate?: boolean;
  'deflate-threshold'?: string;
  'deflate-window-bits'?: string;
  'deflate-mem-level'?: string;
  'deflate-level'?: string;
  'deflate-no-context-takeover'?: boolean;
}

/** The server's perMessageDeflate option from the --deflate flags (off without --deflate). */
export function deflate(flags: DeflateFlags): DeflateOptions | false {
  const tuned = (['deflate-threshold', 'deflate-window-bits', 'deflate-mem-level', 'deflate-level', 'deflate-no-context-takeover'] as const).filter(
    (name) => flags[name] !== undefined && flags[name] !== false,
  );
  if (!flags.deflate) {
    if (tuned.length > 0) throw new UsageError(`--${tuned[0]} needs --deflate`);
    return false;
  }
  const options: DeflateOptions = {};
  if (flags['deflate-threshold'] !== undefined) {
    // 0 is allowed here: compress every message.
    options.threshold = flags['deflate-threshold'] === '0' ? 0 : bytes('deflate-threshold', flags['deflate-threshold']);
  }
  if (flags['deflate-window-bits'] !== undefined) {
    const bits = integer('deflate-window-bits', flags['deflate-window-bits'], 9, 15);
    options.serverMaxWindowBits = bits;
    options.clientMaxWindowBits = bits;
  }
  if (flags['deflate-mem-level'] !== undefined) options.memLevel = integer('deflate-mem-level', flags['deflate-mem-level'], 1, 9);
  if (flags['deflate-level'] !== undefined) options.level = integer('deflate-level', flags['deflate-level'], 0, 9);
  if (flags['deflate-no-context-takeover']) {
    options.serverNoContextTakeover = true;
    options.clientNoContextTakeover = true;
  }
  return options;
}

export interface TransportFlags {
  'tls-cert'?: string;
  'tls-key'?: string;
  http2?: boolean;
}

function readPem(flag: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`--${flag}: cannot read ${file}: ${(error as Error).message}`);
  }
}

/**
 * The server's `tls` and `http2` options from --tls-cert, --tls-key and
 * --http2. With TLS, HTTP/2 is offered next to HTTP/1.1 (ALPN); without,
 * --http2 serves h2c with prior knowledge next to HTTP/1.1.
 */
export function transport(flags: TransportFlags): { tls?: { cert: string; key: string }; http2: boolean } {
  const certFile = flags['tls-cert'];
  const keyFile = flags['tls-key'];
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new UsageError(`--${certFile === undefined ? 'tls-key needs --tls-cert' : 'tls-cert needs --tls-key'}`);
  }
  if (certFile === undefined || keyFile === undefined) return { http2: flags.http2 === true };
  const tls = { cert: readPem('tls-cert', certFile), key: readPem('tls-key', keyFile) };
  try {
    // Fails now, with OpenSSL's reason, on a bad PEM or a key that is not the certificate's.
    createSecureContext(tls);
  } catch (error) {
    throw new UsageError(`--tls-cert ${certFile} / --tls-key ${keyFile}: ${(error as Error).message}`);
  }
  return { tls, http2: true };
}
