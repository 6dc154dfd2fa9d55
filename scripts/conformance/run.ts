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

const SERVERS = [
  { agent: 'strictws-echo', args: [] as string[], expected: 'autobahn/conform.echo.expected.json' },
  { agent: 'strictws-echo-deflate', args: ['--deflate'], expected: 'autobahn/conform.echo-deflate.expected.json' },
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
  for (const { agent, args, expected } of SERVERS) {
    const server = await startCli('echo', [...args, '--log-level', 'error']);
    try {
      worst = Math.max(worst, await conform(server, agent, expected, extra));
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
