/** Flag parsing shared by the commands: node:util parseArgs, with clear errors. */
import { LEVELS, type Level } from './log.js';

export class UsageError extends Error {
  override name = 'UsageError';
}

/** Flags every server command takes. */
export const commonFlags = {
  port: { type: 'string', short: 'p', default: '9001' },
  host: { type: 'string', short: 'H', default: '127.0.0.1' },
  path: { type: 'string' },
  'max-payload': { type: 'string' },
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
