// What bench/run.ts measures: the servers, the load cases, and the headline comparisons.

export const HOST = '127.0.0.1';
/** open-loop fan-out rates (messages a second): 20,000 deliveries/s, well within both servers' reach */
export const FANOUT_RATE_1K = 20;
export const FANOUT_RATE_10K = 2;
/** the open-loop fan-out cases measure at least this long (2/s × 15 s = 30 messages for the p99) */
export const FANOUT_RATE_SECONDS = 15;
export const IDLE_CONNS = 5000;
/** the C echo server, built by bench/run.ts from bench/servers/echo.c */
export const C_ECHO = 'bench/.build/echo';

export interface Server {
  id: string;
  label: string;
  /** argv, run from the repo root */
  command: (port: number) => string[];
  /** a plain TCP echo: driven with wsload --raw, only in the echo cases without deflate */
  raw?: boolean;
  /** argv of this implementation's broadcast server (fan-out cases); without it the server skips them */
  broadcast?: (port: number) => string[];
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
    // --deflate-level 6: ws compresses at zlib's default level (6), strictws by default at 1 (docs/deflate.md);
    // the same level compares like with like.
    deflate: ['--deflate', '--deflate-threshold', '0', '--deflate-level', '6'],
    broadcast: echoScript('strictws-broadcast.mjs'),
  },
  {
    id: 'ws',
    label: 'ws (pure JS)',
    command: echoScript('ws-echo.mjs', '--no-bufferutil'),
    deflate: ['--deflate'], // ws's default threshold (1 KiB) compresses every 4 KiB message
    broadcast: echoScript('ws-echo.mjs', '--no-bufferutil', '--broadcast'),
  },
  {
    id: 'ws-bufferutil',
    label: 'ws+bufferutil',
    command: echoScript('ws-echo.mjs'),
    deflate: ['--deflate'],
    broadcast: echoScript('ws-echo.mjs', '--broadcast'),
  },
  { id: 'raw', label: 'raw net', command: echoScript('raw-echo.mjs'), raw: true },
  { id: 'c-echo', label: 'C echo', command: (port) => [C_ECHO, '--port', String(port), '--host', HOST], raw: true },
];

export type Load =
  /** deflate: permessage-deflate (wsload --deflate: compressible text, every echo inflated and checked) */
  | { kind: 'echo'; size: number; conns: number; inflight: number; opcode: 'text' | 'binary'; deflate?: boolean }
  | { kind: 'idle'; conns: number }
  /** `conns` connects, `concurrency` in flight; each echoes one message once open */
  | { kind: 'storm'; conns: number; concurrency: number }
  /**
   * one publisher, `conns` subscribers on the broadcast server; `slow` of them never read. Closed loop
   * (saturation: `inflight` messages undelivered at all times), or with `rate` open loop: `rate`
   * messages a second on a fixed schedule, at most `inflight` undelivered, measured for at least
   * `minDuration` seconds (enough messages for a p99)
   */
  | { kind: 'fanout'; conns: number; slow: number; size: number; inflight: number; rate?: number; minDuration?: number };

export const METRICS = {
  msgsPerS: { label: 'msg/s', digits: 0, lowerIsBetter: false },
  mbPerS: { label: 'MB/s', digits: 1, lowerIsBetter: false },
  p50Us: { label: 'p50 µs', digits: 0, lowerIsBetter: true },
  p99Us: { label: 'p99 µs', digits: 0, lowerIsBetter: true },
  serverCpuPct: { label: 'server CPU %', digits: 0, lowerIsBetter: true },
  clientCpuPct: { label: 'client CPU %', digits: 0, lowerIsBetter: true },
  kibPerConn: { label: 'KiB/conn', digits: 1, lowerIsBetter: true },
  handshakesPerS: { label: 'handshakes/s', digits: 0, lowerIsBetter: false },
  allEchoedS: { label: 's to all echoed', digits: 2, lowerIsBetter: true },
  deliveredPerS: { label: 'delivered msg/s', digits: 0, lowerIsBetter: false },
  /** open-loop fan-out: messages delivered to every subscriber per second, as % of the rate asked for */
  keptUpPct: { label: '% of rate kept up', digits: 0, lowerIsBetter: false },
  /** server CPU time per message echoed, per handshake, or per message delivered: less load-sensitive */
  serverCpuUsPerOp: { label: 'server CPU µs/op', digits: 2, lowerIsBetter: true },
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
      { metric: 'msgsPerS', baseline: ['c-echo'] },
      { metric: 'p99Us', baseline: ['ws'] },
    ],
  },
  {
    id: 'medium',
    title: '4 KiB text, 64 × 4',
    load: { kind: 'echo', size: 4 * KiB, conns: 64, inflight: 4, opcode: 'text' },
    headlines: [
      { metric: 'msgsPerS', baseline: ['ws-bufferutil'] },
      { metric: 'msgsPerS', baseline: ['c-echo'] },
    ],
  },
  {
    id: '64k',
    title: '64 KiB binary, 16 × 2',
    load: { kind: 'echo', size: 64 * KiB, conns: 16, inflight: 2, opcode: 'binary' },
    headlines: [
      { metric: 'mbPerS', baseline: ['ws-bufferutil'] },
      { metric: 'mbPerS', baseline: ['c-echo'] },
    ],
  },
  {
    id: 'large',
    title: '1 MiB binary, 4 × 1',
    load: { kind: 'echo', size: MiB, conns: 4, inflight: 1, opcode: 'binary' },
    headlines: [
      { metric: 'mbPerS', baseline: ['raw'] },
      { metric: 'mbPerS', baseline: ['c-echo'] },
    ],
  },
  {
    id: 'idle',
    title: `${IDLE_CONNS.toLocaleString('en-US')} idle connections`,
    load: { kind: 'idle', conns: IDLE_CONNS },
    headlines: [{ metric: 'kibPerConn', baseline: ['ws'] }],
  },
  {
    id: 'idle10k',
    title: '10,000 idle connections',
    load: { kind: 'idle', conns: 10_000 },
    headlines: [{ metric: 'kibPerConn', baseline: ['ws'] }],
  },
  ...[5_000, 10_000].map(
    (conns): Case => ({
      id: `storm${conns / 1000}k`,
      title: `connection storm: ${conns.toLocaleString('en-US')} connects, 256 in flight, each echoes once`,
      load: { kind: 'storm', conns, concurrency: 256 },
      headlines: [
        { metric: 'handshakesPerS', baseline: ['ws', 'ws-bufferutil'] },
        { metric: 'allEchoedS', baseline: ['ws', 'ws-bufferutil'] },
        { metric: 'serverCpuUsPerOp', baseline: ['ws', 'ws-bufferutil'] },
        { metric: 'kibPerConn', baseline: ['ws'] },
      ],
    }),
  ),
  // Saturation: the publisher keeps 4 messages undelivered, so the server always has one to relay.
  ...[
    { id: 'fanout1k', conns: 1_000, slow: 0 },
    { id: 'fanout10k', conns: 10_000, slow: 0 },
    { id: 'fanout1k-slow', conns: 1_000, slow: 1 },
    { id: 'fanout10k-slow', conns: 10_000, slow: 1 },
  ].map(
    ({ id, conns, slow }): Case => ({
      id,
      title:
        `fan-out, saturation: 1 publisher × 4 in flight, 64 B text to ${conns.toLocaleString('en-US')} subscribers` +
        (slow ? `, ${slow} of them not reading` : ''),
      load: { kind: 'fanout', conns, slow, size: 64, inflight: 4 },
      headlines: [
        { metric: 'deliveredPerS', baseline: ['ws', 'ws-bufferutil'] },
        { metric: 'serverCpuUsPerOp', baseline: ['ws', 'ws-bufferutil'] },
        { metric: 'p99Us', baseline: ['ws', 'ws-bufferutil'] },
      ],
    }),
  ),
  // Open loop at a rate both servers sustain on a loaded 2-core machine: the p99 of publish → last receipt.
  ...[
    { id: 'fanout1k-rate', conns: 1_000, rate: FANOUT_RATE_1K },
    { id: 'fanout10k-rate', conns: 10_000, rate: FANOUT_RATE_10K },
  ].map(
    ({ id, conns, rate }): Case => ({
      id,
      title: `fan-out, open loop: ${rate} msg/s of 64 B text to ${conns.toLocaleString('en-US')} subscribers`,
      load: { kind: 'fanout', conns, slow: 0, size: 64, inflight: 4096, rate, minDuration: FANOUT_RATE_SECONDS },
      headlines: [
        { metric: 'p99Us', baseline: ['ws', 'ws-bufferutil'] },
        { metric: 'serverCpuUsPerOp', baseline: ['ws', 'ws-bufferutil'] },
        { metric: 'keptUpPct', baseline: ['ws', 'ws-bufferutil'] },
      ],
    }),
  ),
  ...[
    { id: 'deflate4k', size: 4 * KiB, conns: 64, inflight: 4 },
    { id: 'deflate64k', size: 64 * KiB, conns: 16, inflight: 2 },
  ].map(
    ({ id, size, conns, inflight }): Case => ({
      id,
      title: `compressible ${size / KiB} KiB text, permessage-deflate, ${conns} × ${inflight}`,
      load: { kind: 'echo', size, conns, inflight, opcode: 'text', deflate: true },
      headlines: [
        { metric: 'msgsPerS', baseline: ['ws', 'ws-bufferutil'] },
        { metric: 'serverCpuUsPerOp', baseline: ['ws', 'ws-bufferutil'] },
        { metric: 'kibPerConn', baseline: ['ws'] },
      ],
    }),
  ),
];

/** Whether a server takes part in a case: raw servers only echo, deflate cases need deflate flags, fan-out a broadcast server. */
export function runsCase(s: Server, c: Case): boolean {
  const { load } = c;
  if (load.kind === 'fanout') return s.broadcast !== undefined;
  if (load.kind !== 'echo') return !s.raw;
  return load.deflate ? s.deflate !== undefined : true;
}

export const DEFAULT_CASES = CASES.filter((c) => !c.unsupported).map((c) => c.id);
