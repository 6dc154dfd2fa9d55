/**
 * The runner: every selected case against one WebSocket server, side by side,
 * each judged with Autobahn's verdict classes. No reports, no exit codes:
 * those are report.ts, expected.ts and cli.ts.
 */
import { type Case, type CaseResult, Context, NotApplicable, Outcome, type Family, type Verdict } from './case.js';
import { type Target, targetFromUrl } from './client.js';
import { FAMILIES, H2_FAMILIES } from './families/index.js';
import { casePatterns } from './patterns.js';
import { checkTarget } from './transport.js';

export interface ConformOptions {
  /** The server, ws://host:port/path or wss://host:port/path. */
  url: string;
  /** wss:// only: accept a certificate that does not verify (self-signed). Without it, such a server is refused before any case runs. */
  insecure?: boolean;
  /**
   * Run the cases over HTTP/2 (RFC 8441 extended CONNECT): h2c with prior
   * knowledge for ws://, h2 by ALPN for wss://. Cases about the HTTP/1.1
   * upgrade itself are reported UNIMPLEMENTED, not run; the E family
   * (the extended CONNECT handshake) is added.
   */
  http2?: boolean;
  /** Autobahn's case patterns, comma-separated ("*" matches anything from the start; other patterns are exact ids). Default: all. */
  cases?: string;
  /** Patterns of cases to leave out, same rules. */
  exclude?: string;
  /** Cases run side by side (default 8). */
  concurrency?: number;
  /** Per-case limit in ms for cases without a longer one of their own (default 20 s). */
  timeoutMs?: number;
  /** The name the results are filed under (Autobahn's "agent"). Default "server". */
  agent?: string;
  /** The case families (default: all of ours and Autobahn's, and with `http2` the E family). */
  families?: Family[];
  /** Called as each case finishes. */
  onResult?: (result: CaseResult, done: number, total: number) => void;
  /** A sentence explaining a failure when the server is known to have died, appended to its reason. */
  serverGone?: () => string | undefined;
}

export interface FamilySummary {
  id: string;
  title: string;
  summary: string;
  cases: number;
  /** Cases per behavior. */
  counts: Record<string, number>;
  /** Sum of the case durations (cases run side by side, so this exceeds wall time). */
  durationMs: number;
}

export interface ConformRun {
  agent: string;
  url: string;
  /** Our seat: 'client' testing a server (runConformance), 'server' testing clients (`--serve`). */
  seat: 'client' | 'server';
  /** ISO time the run started. */
  started: string;
  durationMs: number;
  selection: { cases: string | null; exclude: string | null };
  /** Every case id that exists (selected or not), in order. */
  allIds: string[];
  /** Whether a case id was selected for this run. */
  selected: (id: string) => boolean;
  results: CaseResult[];
  families: FamilySummary[];
}

export const DEFAULT_CASE_TIMEOUT = 20_000;
export const DEFAULT_CONCURRENCY = 8;

export function fmtMs(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

/** A counting semaphore. */
class Gate {
  private waiting: (() => void)[] = [];
  constructor(private free: number) {}
  async take(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  give(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

async function runCase(c: Case, family: Family, target: Target, limit: number, serverGone: () => string | undefined): Promise<CaseResult> {
  const ctx = new Context(target);
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  let verdict: Verdict;
  const http1Only = target.http2 ? (c.http1Only ?? family.http1Only) : undefined;
  try {
    // A case about the HTTP/1.1 upgrade itself is not run over HTTP/2; the report says why.
    if (http1Only) throw new NotApplicable(http1Only);
    const returned = await Promise.race([
      c.run(ctx),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Outcome({ behavior: 'FAILED', behaviorClose: 'FAILED', reason: `the case did not finish within ${fmtMs(limit)}` })), limit);
      }),
    ]);
    verdict = returned ?? { behavior: 'OK', behaviorClose: 'OK' };
  } catch (error) {
    verdict =
      error instanceof Outcome
        ? { ...error.verdict }
        : { behavior: 'FAILED', behaviorClose: 'INFORMATIONAL', reason: `client error: ${(error as Error).message}` };
    const gone = serverGone();
    if (gone && verdict.behavior === 'FAILED') verdict.reason += ` (${gone})`;
  } finally {
    clearTimeout(timer);
    ctx.cleanup();
  }
  const durationMs = Math.round((performance.now() - started) * 10) / 10;
  const notes = [...ctx.notes];
  if (verdict.reason) notes.push(`${verdict.behavior}: ${verdict.reason}`);
  const first = ctx.conns[0];
  return {
    id: c.id,
    family: family.id,
    description: c.description,
    expectation: c.expectation,
    observation: notes.join('; ') || '(nothing observed)',
    behavior: verdict.behavior,
    behaviorClose: verdict.behaviorClose,
    reason: verdict.reason,
    durationMs,
    remoteCloseCode: first?.remoteCloseCode ?? null,
    wire: ctx.conns.map((conn) => conn.log),
  };
}

/**
 * Run the selected cases against `options.url` and judge each. Throws a
 * RangeError on a bad selection or option, and a TargetError (transport.ts)
 * when no case could run: the server is unreachable, its certificate is not
 * trusted (without `insecure`), or with `http2` it does not speak HTTP/2 or
 * does not allow extended CONNECT.
 */
export async function runConformance(options: ConformOptions): Promise<ConformRun> {
  let target: Target;
  try {
    target = targetFromUrl(options.url, { insecure: options.insecure, http2: options.http2 });
  } catch (error) {
    throw new RangeError((error as Error).message);
  }
  await checkTarget(target);
  const families = options.families ?? (options.http2 ? [...FAMILIES, ...H2_FAMILIES] : FAMILIES);
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  const include = options.cases ? casePatterns(options.cases) : () => true;
  const exclude = options.exclude ? casePatterns(options.exclude) : () => false;
  const selected = (id: string) => include(id) && !exclude(id);

  const all = families.flatMap((family) => family.cases.map((c) => ({ family, c })));
  const allIds = all.map(({ c }) => c.id);
  const seen = new Set<string>();
  for (const id of allIds) {
    if (seen.has(id)) throw new Error(`duplicate case id ${id}`);
    seen.add(id);
  }
  const chosen = all.filter(({ c }) => selected(c.id));
  if (chosen.length === 0) throw new RangeError(`no case matches --cases ${options.cases ?? '*'}${options.exclude ? ` without --exclude ${options.exclude}` : ''}`);

  const startedAt = new Date().toISOString();
  const started = performance.now();
  const results = new Map<string, CaseResult>();
  let done = 0;
  const pool = new Gate(concurrency);
  const heavy = new Gate(1);
  const serverGone = options.serverGone ?? (() => undefined);
  const limitFor = (c: Case) => (options.timeoutMs ? Math.max(options.timeoutMs, c.timeoutMs ?? 0) : (c.timeoutMs ?? DEFAULT_CASE_TIMEOUT));
  const run = async ({ family, c }: { family: Family; c: Case }) => {
    const r = await runCase(c, family, target, limitFor(c), serverGone);
    results.set(c.id, r);
    options.onResult?.(r, ++done, chosen.length);
  };
  // Timer-bound cases start first and wait side by side, outside the pool.
  const slow = chosen.filter(({ c }) => c.slow).map(run);
  const rest = chosen
    .filter(({ c }) => !c.slow && !c.exclusive)
    .map(async (item) => {
      if (item.c.heavy) await heavy.take();
      await pool.take();
      try {
        await run(item);
      } finally {
        pool.give();
        if (item.c.heavy) heavy.give();
      }
    });
  await Promise.all(rest);
  for (const item of chosen.filter(({ c }) => c.exclusive)) await run(item);
  await Promise.all(slow);
  const ordered = chosen.map(({ c }) => results.get(c.id)!);
  return {
    agent: options.agent ?? 'server',
    // The transport is part of what was tested: say it wherever the URL shows.
    url: options.http2 ? `${options.url} (over HTTP/2, RFC 8441: ${target.tls ? 'h2 by ALPN' : 'h2c with prior knowledge'})` : options.url,
    seat: 'client',
    started: startedAt,
    durationMs: Math.round(performance.now() - started),
    selection: { cases: options.cases ?? null, exclude: options.exclude ?? null },
    allIds,
    selected,
    results: ordered,
    families: summarize(families, ordered),
  };
}

/** Per-family counts and case time of `results`. */
export function summarize(families: Family[], results: CaseResult[]): FamilySummary[] {
  return families
    .map((f) => {
      const rs = results.filter((r) => r.family === f.id);
      const counts: Record<string, number> = {};
      for (const r of rs) counts[r.behavior] = (counts[r.behavior] ?? 0) + 1;
      return { id: f.id, title: f.title, summary: f.summary, cases: rs.length, counts, durationMs: Math.round(rs.reduce((s, r) => s + r.durationMs, 0)) };
    })
    .filter((f) => f.cases > 0);
}
