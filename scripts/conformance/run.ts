/**
 * npm run conformance (part of npm test): start `strictws echo` (plain, with
 * --deflate, over HTTP/2 and over TLS) on free ports and run `strictws
 * conform` (src/conform) against each, gated on the committed expected
 * verdicts in autobahn/. Extra arguments go to every run, e.g.
 *
 *   npm run conformance -- --cases "6.*,H.2.1"
 *   npm run conformance -- --update        # rewrite the expected files
 *
 * CONFORMANCE_AGENTS=strictws-echo-h2,strictws-echo-wss picks runs by agent.
 * The TLS runs need openssl for their self-signed certificate (spec/support/tls.ts).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN, type RunningServer, startCli } from '../../spec/support/cli.js';
import { type TestCert, makeCert } from '../../spec/support/tls.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** GET / on strictws echo serves its try-it page; the cases use a path that is only a WebSocket endpoint. */
const RESOURCE = '/conformance';

/**
 * Autobahn's compression cases (12.*, 13.*) send 1,000 messages each, 10.9 GB
 * of messages each way in all: the full suite runs them against --deflate.
 */
const COMPRESSION_ALL = [12, 13].flatMap((s) => [1, 2, 3, 4, 5, 6, 7].flatMap((set) => Array.from({ length: 18 }, (_, i) => `${s}.${set}.${i + 1}`)));
/** Over HTTP/2: row 5 (4 KiB) of the first payload set and of the first parameter set. */
const H2_COMPRESSION = ['12.1.5', '13.1.5'];
/**
 * The close-code ranges of more than 1,000 codes (C.4.8, C.4.11-14, 61,000
 * connections): over HTTP/2 they run against the first server only, on HTTP/1.1.
 */
const LARGE_CODE_RANGES = ['C.4.8', 'C.4.11', 'C.4.12', 'C.4.13', 'C.4.14'];
/** The wss:// runs: the handshake, framing, a large message, close codes and compression negotiation, over TLS. */
const TLS_SUBSET = '1.*,2.*,5.*,7.1.*,9.1.1,9.2.1,H.1.*,H.2.*,C.1.*,C.3.*,C.4.1,C.4.2,N.1.*,E.*';

interface Run {
  agent: string;
  /** Flags of `strictws echo`. */
  args: string[];
  /** Serve wss:// with a self-signed certificate made here. */
  tls?: boolean;
  /** Flags of `strictws conform`. */
  conform?: string[];
  expected: string;
  exclude: string[];
  /** A --cases that wins over one given on the command line. */
  only?: string[];
}

const SERVERS: Run[] = [
  { agent: 'strictws-echo', args: [], expected: 'autobahn/conform.echo.expected.json', exclude: [] },
  {
    agent: 'strictws-echo-deflate',
    args: ['--deflate'],
    expected: 'autobahn/conform.echo-deflate.expected.json',
    exclude: [],
  },
  // RFC 6455 §5.5.2 while the server closes first (C.5.*): a short message deadline makes it close first.
  { agent: 'strictws-echo-message-timeout', args: ['--message-timeout', '300'], expected: 'autobahn/conform.echo-message-timeout.expected.json', exclude: [], only: ['--cases', 'C.5.*'] },
  // RFC 8441 over h2c: the whole suite (the HTTP/1.1 handshake cases report UNIMPLEMENTED); of Autobahn's
  // compression cases, two rows of 1,000 round trips (D.* and N.* cover RFC 7692 over h2 in full).
  {
    agent: 'strictws-echo-h2',
    args: ['--http2', '--deflate'],
    conform: ['--http2'],
    expected: 'autobahn/conform.echo-h2.expected.json',
    exclude: ['--exclude', [...LARGE_CODE_RANGES, ...COMPRESSION_ALL.filter((id) => !H2_COMPRESSION.includes(id))].join(',')],
  },
  // wss://, with a self-signed certificate (--insecure): over HTTP/1.1, then over HTTP/2 by ALPN.
  { agent: 'strictws-echo-wss', args: [], tls: true, conform: ['--insecure'], expected: 'autobahn/conform.echo-wss.expected.json', exclude: [], only: ['--cases', TLS_SUBSET] },
  { agent: 'strictws-echo-wss-h2', args: [], tls: true, conform: ['--insecure', '--http2'], expected: 'autobahn/conform.echo-wss-h2.expected.json', exclude: [], only: ['--cases', TLS_SUBSET] },
];

async function conform(server: RunningServer, agent: string, expected: string, extra: string[]): Promise<number> {
  const url = new URL(RESOURCE, server.url).href;
  const args = [BIN, 'conform', url, '--agent', agent, '--expected', join(ROOT, expected), '--out', join(ROOT, 'reports/conformance', agent), '--junit', join(ROOT, 'reports/conformance', `${agent}.junit.xml`), ...extra];
  const flags = extra.filter((a) => a === '--http2' || a === '--insecure').join(' ');
  process.stderr.write(`\n== strictws conform ${url}${flags ? ` ${flags}` : ''} (${agent}: strictws echo ${server.process.spawnargs.slice(3).join(' ')})\n`);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (server.process.exitCode !== null) process.stderr.write(`the server exited with ${server.process.exitCode}: ${server.log().trim().split('\n').slice(-3).join(' | ')}\n`);
  return code ?? 1;
}

async function main(): Promise<number> {
  const extra = process.argv.slice(2);
  let worst = 0;
  let cert: TestCert | undefined;
  const picked = process.env.CONFORMANCE_AGENTS?.split(',');
  const unknown = picked?.filter((agent) => !SERVERS.some((s) => s.agent === agent)) ?? [];
  if (unknown.length) throw new Error(`CONFORMANCE_AGENTS: no run ${unknown.join(', ')}; the runs are ${SERVERS.map((s) => s.agent).join(', ')}`);
  try {
    // One server at a time: the machine is small, and a run already keeps both cores busy.
    for (const { agent, args, tls, conform: flags = [], expected, exclude, only = [] } of SERVERS.filter((s) => !picked || picked.includes(s.agent))) {
      if (tls) cert ??= makeCert();
      const server = await startCli('echo', [...args, ...(tls ? ['--tls-cert', cert!.certFile, '--tls-key', cert!.keyFile] : []), '--log-level', 'error']);
      try {
        // `only` comes last: its --cases wins over one given on the command line.
        worst = Math.max(worst, await conform(server, agent, expected, [...flags, ...exclude, ...extra, ...only]));
      } finally {
        await server.stop();
      }
    }
  } finally {
    cert?.remove();
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
