/**
 * npm run conformance (part of npm test): start `strictws echo` and
 * `strictws echo --deflate` on free ports and run `strictws conform` (the
 * full suite, src/conform) against each, gated on the committed expected
 * verdicts in autobahn/. Extra arguments go to both runs, e.g.
 *
 *   npm run conformance -- --cases "6.*,H.2.1"
 *   npm run conformance -- --update        # rewrite both expected files
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN, type RunningServer, startCli } from '../../spec/support/cli.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** GET / on strictws echo serves its try-it page; the cases use a path that is only a WebSocket endpoint. */
const RESOURCE = '/conformance';

/**
 * Autobahn's compression cases (12.*, 13.*) send 1,000 messages each, 10.9 GB
 * of messages each way in all: too long for npm test on a small machine.
 * Against --deflate it runs the rows of messages up to 16 KiB (1-7), whole or
 * auto-fragmented (11, 12), of every payload set and parameter set, 108 of the
 * 216; `strictws conform` runs them all (docs/conformance.md). These
 * exclusions hold with --cases too; an --exclude given here replaces them.
 */
const COMPRESSION_ROWS = [1, 2, 3, 4, 5, 6, 7, 11, 12];
const COMPRESSION_SUBSET = [
  ...[1, 2, 3, 4, 5].flatMap((set) => COMPRESSION_ROWS.map((row) => `12.${set}.${row}`)),
  ...[1, 2, 3, 4, 5, 6, 7].flatMap((set) => COMPRESSION_ROWS.map((row) => `13.${set}.${row}`)),
];
const SERVERS = [
  { agent: 'strictws-echo', args: [] as string[], expected: 'autobahn/conform.echo.expected.json', exclude: [] as string[] },
  {
    agent: 'strictws-echo-deflate',
    args: ['--deflate'],
    expected: 'autobahn/conform.echo-deflate.expected.json',
    exclude: ['--exclude', [12, 13].flatMap((s) => [1, 2, 3, 4, 5, 6, 7].flatMap((set) => Array.from({ length: 18 }, (_, i) => `${s}.${set}.${i + 1}`))).filter((id) => !COMPRESSION_SUBSET.includes(id)).join(',')],
  },
  // RFC 6455 §5.5.2 while the server closes first (C.5.*): a short message deadline makes it close first.
  { agent: 'strictws-echo-message-timeout', args: ['--message-timeout', '300'], expected: 'autobahn/conform.echo-message-timeout.expected.json', exclude: [] as string[], only: ['--cases', 'C.5.*'] },
];

async function conform(server: RunningServer, agent: string, expected: string, extra: string[]): Promise<number> {
  const url = new URL(RESOURCE, server.url).href;
  const args = [BIN, 'conform', url, '--agent', agent, '--expected', join(ROOT, expected), '--out', join(ROOT, 'reports/conformance', agent), '--junit', join(ROOT, 'reports/conformance', `${agent}.junit.xml`), ...extra];
  process.stderr.write(`\n== strictws conform ${url} (${agent}: strictws echo ${server.process.spawnargs.slice(3).join(' ')})\n`);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (server.process.exitCode !== null) process.stderr.write(`the server exited with ${server.process.exitCode}: ${server.log().trim().split('\n').slice(-3).join(' | ')}\n`);
  return code ?? 1;
}

async function main(): Promise<number> {
  const extra = process.argv.slice(2);
  let worst = 0;
  // One server at a time: the machine is small, and a run already keeps both cores busy.
  for (const { agent, args, expected, exclude, only = [] } of SERVERS) {
    const server = await startCli('echo', [...args, '--log-level', 'error']);
    try {
      // `only` comes last: its --cases wins over one given on the command line.
      worst = Math.max(worst, await conform(server, agent, expected, [...exclude, ...extra, ...only]));
    } finally {
      await server.stop();
    }
  }
  return worst;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`conformance: ${error.message}\n`);
    process.exit(2);
  },
);
