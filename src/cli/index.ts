/** The `strictws` command line. */
import { parseArgs } from 'node:util';
import { REDIS_RANGE, echoPage, pageHandler } from '../apps/index.js';
import { chat, vote } from './apps.js';
import { UsageError, bytes, commonFlags, level, listenOptions, parse } from './args.js';
import { createLogger } from './log.js';
import { serve } from './serve.js';
import type { WebSocket } from '../server/index.js';

const USAGE = `Usage: strictws <command> [options]

Commands:
  echo     a strict RFC 6455 echo server: text comes back as text, binary as binary
  chat     a chat room with recent history, joins and leaves announced
  vote     a live vote board: options with counts every client sees change
  Each also serves a page to try it in a browser on GET / (docs/apps.md).
  conform  test a WebSocket server: strictws conform ws://host:port/path (see strictws conform --help)
           or a client: strictws conform --serve (see strictws conform --serve --help)

Options:
  -p, --port <n>          port to listen on (default 9001; 0 picks a free one)
  -H, --host <addr>       address to listen on (default 127.0.0.1)
      --path <path>       serve WebSocket only on this path (default: any)
      --max-payload <n>   largest message in bytes, e.g. 1048576, 64k, 16MiB (default 16MiB)
      --message-timeout <ms>  a message started must end within this, or close 1008 (default 60000)
      --max-connections <n>  open connections plus handshakes in progress; past it, 503
                          with Retry-After and a (rate-limited) warning in the log (default 10000)
      --deflate           negotiate permessage-deflate (RFC 7692) with clients that offer it (default off)
      --deflate-threshold <n>       send messages under n bytes uncompressed (default 1k; 0: compress all)
      --deflate-window-bits <n>     LZ77 window both ways, 9-15 (default 15; smaller: less memory)
      --deflate-mem-level <n>       zlib memLevel for compressing, 1-9 (default 8)
      --deflate-level <n>           zlib level for compressing, 0-9 (default 1: least CPU per byte on large
                                    messages; 3 suits feeds of small messages; 9: smallest output)
      --deflate-no-context-takeover compress each message on its own, both ways (least memory)
      --tls-cert <file>   serve wss:// and the page over https:// with this PEM certificate (chain)...
      --tls-key <file>    ...and this PEM private key; WebSockets over HTTP/2 (RFC 8441) too, by ALPN
      --http2             without TLS: also take h2c with prior knowledge (RFC 8441 over cleartext HTTP/2)
  -l, --log-level <lvl>   silent, error, warn, info or debug (default info)
  -h, --help              show this help

Options of chat and vote:
      --redis <url>       share the room between processes through Redis, e.g. redis://127.0.0.1:6379
                          (needs the optional "redis" package: npm install redis@${REDIS_RANGE})
      --history <n>       chat: messages a joining user gets first (default 100, at most 1000)
      --options <list>    vote: the options, comma-separated (default "yes,no,maybe")
  (chat and vote default to --max-payload 64k)
`;

async function echo(argv: string[]): Promise<void> {
  const flags = parse(() => parseArgs({ args: argv, options: commonFlags, strict: true })).values;
  if (flags.help) {
    process.stdout.write(USAGE);
    return;
  }
  const log = createLogger(level(flags['log-level']));
  const listen = listenOptions(flags);
  await serve(
    'echo',
    {
      ...listen,
      maxPayload: flags['max-payload'] === undefined ? undefined : bytes('max-payload', flags['max-payload']),
      handleRequest: pageHandler(echoPage(listen.path)),
    },
    log,
    (ws) => ws.on('message', echoBack),
  );
}

const TEXT = { binary: false };
const BINARY = { binary: true };

/** The echo: text comes back as text, binary as binary. One function for every connection. */
function echoBack(this: WebSocket, data: Buffer, isBinary: boolean): void {
  this.send(data, isBinary ? BINARY : TEXT);
}

const commands: Record<string, (argv: string[]) => Promise<void>> = {
  echo,
  chat: (argv) => chat(argv, USAGE),
  vote: (argv) => vote(argv, USAGE),
  // Loaded on demand: the suite's case tables are not the servers' business.
  conform: async (argv) => (await import('./conform.js')).conform(argv),
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  try {
    if (!command) throw new UsageError(`unknown command "${name}"`);
    await command(rest);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`strictws: ${error.message}\n${error.help ? 'Run "strictws --help" for usage.\n' : ''}`);
      return 2;
    }
    process.stderr.write(`strictws: ${(error as Error).message}\n`);
    return 1;
  }
}
