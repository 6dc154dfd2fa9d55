// What bench/run.ts measures: the servers, the load cases, and the headline comparisons.

export const HOST = '127.0.0.1';
export const IDLE_CONNS = 5000;

export interface Server {
  id: string;
  label: string;
  /** argv, run from the repo root */
  command: (port: number) => string[];
  /** a plain TCP echo: driven with wsload --raw, skipped for the idle case */
  raw?: boolean;
  /** repo-relative file that must exist, or the server is skipped with a message */
  requires?: string;
  /** flags appended to the command for deflate cases; without them the server skips those cases */
  deflate?: string[];
}

const echoScript = (script: string, ...flags: string[]) => (port: number) =>
  ['node', `bench/servers/${script}`, '--port', String(port), '--host', HOST, ...flags];

export const SERVERS: Server[] = [
  {
    id: 'strictws',
    label: 'strictws',
    // --log-level warn: at the default (info) it logs every open and close, which ws-echo does not do
    command: (port) =>
      ['node', 'bin/strictws.js', 'echo', '--port', String(port), '--host', HOST, '--log-level', 'warn'],
    requires: 'bin/strictws.js',
    deflate: ['--deflate', '--deflate-threshold', '0'],
  },
  {
    id: 'ws',
    label: 'ws (pure JS)',
    command: echoScript('ws-echo.mjs', '--no-bufferutil'),
    deflate: ['--deflate'], // ws's default threshold (1 KiB) compresses every 4 KiB message
  },
  { id: 'ws-bufferutil', label: 'ws+bufferutil', command: echoScript('ws-echo.mjs'), deflate: ['--deflate'] },
  { id: 'raw', label: 'raw net', command: echoScript('raw-echo.mjs'), raw: true },
];

export type Load =
  /** deflate: permessage-deflate, driven by bench/deflate-load.mjs instead of wsload */
  | { kind: 'echo'; size: number; conns: number; inflight: number; opcode: 'text' | 'binary'; deflate?: boolean }
  | { kind: 'idle'; conns: number };

export const METRICS = {
  msgsPerS: { label: 'msg/s', digits: 0, lowerIsBetter: false },
  mbPerS: { label: 'MB/s', digits: 1, lowerIsBetter: false },
  p50Us: { label: 'p50 µs', digits: 0, lowerIsBetter: true },
  p99Us: { label: 'p99 µs', digits: 0, lowerIsBetter: true },
  serverCpuPct: { label: 'server CPU %', digits: 0, lowerIsBetter: true },
  clientCpuPct: { label: 'client CPU %', digits: 0, lowerIsBetter: true },
  kibPerConn: { label: 'KiB/conn', digits: 1, lowerIsBetter: true },
} as const;
export type Metric = keyof typeof METRICS;

export interface Headline {
  metric: Metric;
  /** server ids to compare against; with several, the best of them */
  baseline: string[];
}

export interface Case {
  id: string;
  title: string;
  load: Load;
  headlines: Headline[];
  /** why this case cannot run yet; it is then skipped with this message */
  unsupported?: string;
}

const KiB = 1024;
const MiB = 1024 * KiB;

export const CASES: Case[] = [
  {
    id: 'small',
    title: '16 B text, 64 conns × 16 in flight',
    load: { kind: 'echo', size: 16, conns: 64, inflight: 16, opcode: 'text' },
    headlines: [
      { metric: 'msgsPerS', baseline: ['ws', 'ws-bufferutil'] },
      { metric: 'p99Us', baseline: ['ws'] },
    ],
  },
  {
    id: 'medium',
    title: '4 KiB text, 64 × 4',
    load: { kind: 'echo', size: 4 * KiB, conns: 64, inflight: 4, opcode: 'text' },
    headlines: [{ metric: 'msgsPerS', baseline: ['ws-bufferutil'] }],
  },
  {
    id: '64k',
    title: '64 KiB binary, 16 × 2',
    load: { kind: 'echo', size: 64 * KiB, conns: 16, inflight: 2, opcode: 'binary' },
    headlines: [{ metric: 'mbPerS', baseline: ['ws-bufferutil'] }],
  },
  {
    id: 'large',
    title: '1 MiB binary, 4 × 1',
    load: { kind: 'echo', size: MiB, conns: 4, inflight: 1, opcode: 'binary' },
    headlines: [{ metric: 'mbPerS', baseline: ['raw'] }],
  },
  {
    id: 'idle',
    title: `${IDLE_CONNS.toLocaleString('en-US')} idle connections`,
    load: { kind: 'idle', conns: IDLE_CONNS },
    headlines: [{ metric: 'kibPerConn', baseline: ['ws'] }],
  },
  {
    // wsload has no permessage-deflate, so this case runs bench/deflate-load.mjs (a JS client on `ws`)
    id: 'deflate4k',
    title: 'compressible 4 KiB text, permessage-deflate, 64 × 4',
    load: { kind: 'echo', size: 4 * KiB, conns: 64, inflight: 4, opcode: 'text', deflate: true },
    headlines: [{ metric: 'msgsPerS', baseline: ['ws-bufferutil'] }],
  },
];

/** Whether a server takes part in a case: raw has no idle case, deflate cases need deflate flags. */
export const runsCase = (s: Server, c: Case): boolean =>
  c.load.kind === 'idle' ? !s.raw : !c.load.deflate || s.deflate !== undefined;

export const DEFAULT_CASES = CASES.filter((c) => !c.unsupported).map((c) => c.id);
