/** `strictws chat` and `strictws vote`: the apps of src/apps/ on the command line (see docs/apps.md). */
import { parseArgs } from 'node:util';
import {
  type Backend,
  MissingPackageError,
  CHAT_LIMITS,
  DEFAULT_OPTIONS,
  MAX_HISTORY,
  SLOW_CLIENT_CAP,
  VOTE_LIMITS,
  chatCap,
  chatPage,
  createChat,
  createVote,
  openBackend,
  pageHandler,
  parseOptions,
  votePage,
} from '../apps/index.js';
import { UsageError, bytes, commonFlags, deflate, level, parse, path, port, transport } from './args.js';
import { type Logger, createLogger } from './log.js';
import { serve } from './serve.js';

const chatFlags = {
  ...commonFlags,
  redis: { type: 'string' },
  history: { type: 'string', default: String(CHAT_LIMITS.history) },
} as const;

const voteFlags = {
  ...commonFlags,
  redis: { type: 'string' },
  options: { type: 'string', default: DEFAULT_OPTIONS.join(',') },
} as const;

function history(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > MAX_HISTORY) {
    throw new UsageError(`--history must be an integer from 0 to ${MAX_HISTORY}, got "${value}"`);
  }
  return Number(value);
}

function options(value: string): string[] {
  try {
    return parseOptions(value);
  } catch (error) {
    throw new UsageError(`--options: ${(error as Error).message}`);
  }
}

function redisUrl(value: string | undefined): string | undefined {
  if (value !== undefined && !/^rediss?:\/\//.test(value)) {
    throw new UsageError(`--redis must be a URL such as redis://127.0.0.1:6379, got "${value}"`);
  }
  return value;
}

/** Open the backend and start the app on it; if the start fails, let go of Redis so the process can exit. */
async function withBackend(url: string | undefined, log: Logger, start: (backend: Backend) => Promise<void>): Promise<void> {
  const backend = await openBackend(url, (message) => log.warn(`redis: ${message}`)).catch((error: Error) => {
    // Exit status 2 and the one line that says what to install, no stack.
    throw error instanceof MissingPackageError ? new UsageError(error.message, false) : error;
  });
  log.info(url === undefined ? 'state in memory (one process)' : `state and messages shared through Redis at ${url}`);
  try {
    await start(backend);
  } catch (error) {
    await backend.close();
    throw error;
  }
}

export async function chat(argv: string[], usage: string): Promise<void> {
  const flags = parse(() => parseArgs({ args: argv, options: chatFlags, strict: true })).values;
  if (flags.help) {
    process.stdout.write(usage);
    return;
  }
  const log = createLogger(level(flags['log-level']));
  const keep = history(flags.history);
  const url = redisUrl(flags.redis);
  const wsPath = path(flags.path);
  const listen = { port: port(flags.port), host: flags.host, path: wsPath, perMessageDeflate: deflate(flags), ...transport(flags) };
  const maxPayload = flags['max-payload'] === undefined ? CHAT_LIMITS.maxPayload : bytes('max-payload', flags['max-payload']);
  await withBackend(url, log, async (shared) => {
    const app = await createChat({ backend: shared, history: keep, warn: log.warn });
    const options = { ...listen, maxPayload, maxBufferedAmount: chatCap(keep), handleRequest: pageHandler(chatPage(wsPath)) };
    await serve('chat', options, log, (ws) => app.onConnection(ws), { shutdown: () => shared.close() });
  });
}

export async function vote(argv: string[], usage: string): Promise<void> {
  const flags = parse(() => parseArgs({ args: argv, options: voteFlags, strict: true })).values;
  if (flags.help) {
    process.stdout.write(usage);
    return;
  }
  const log = createLogger(level(flags['log-level']));
  const choices = options(flags.options);
  const url = redisUrl(flags.redis);
  const wsPath = path(flags.path);
  const listen = { port: port(flags.port), host: flags.host, path: wsPath, perMessageDeflate: deflate(flags), ...transport(flags) };
  const maxPayload = flags['max-payload'] === undefined ? VOTE_LIMITS.maxPayload : bytes('max-payload', flags['max-payload']);
  await withBackend(url, log, async (shared) => {
    const app = await createVote({ backend: shared, options: choices, warn: log.warn });
    const options = { ...listen, maxPayload, maxBufferedAmount: SLOW_CLIENT_CAP, handleRequest: pageHandler(votePage(wsPath)) };
    await serve('vote', options, log, (ws) => app.onConnection(ws), { shutdown: () => shared.close() });
  });
}
