// Medians, ratios and the markdown report for bench/run.ts.
import { METRICS, type Case, type Headline, type Metric, type Server } from '../matrix.js';

export interface Sample {
  server: string;
  case: string;
  run: number;
  metrics: Partial<Record<Metric, number>>;
  /** anything that went wrong: wsload error counters, server crashes, runner failures */
  errors: string[];
  /** server or wsload output that came with an error */
  log?: string;
  /** the 1-minute load average when the measurement started */
  loadavg?: number;
  /** the wsload command line */
  command?: string;
  wsload?: Record<string, unknown>;
}

export interface ReportInput {
  title: string;
  setup: string[];
  servers: Server[];
  cases: Case[];
  samples: Sample[];
  skipped: string[];
}

interface Stat {
  median: number;
  min: number;
  max: number;
  n: number;
  /** (max − min) / median, in percent */
  spreadPct: number;
}

function stat(values: number[]): Stat | undefined {
  if (values.length === 0) return undefined;
  const v = [...values].sort((a, b) => a - b);
  const mid = v.length >> 1;
  const median = v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
  const [min, max] = [v[0], v[v.length - 1]];
  return { median, min, max, n: v.length, spreadPct: median ? ((max - min) / median) * 100 : 0 };
}

const METRIC_IDS = Object.keys(METRICS) as Metric[];
/** a pinned server below this much CPU was not what limited the throughput */
const SERVER_BOUND_PCT = 80;
/** a pinned load generator at or above this much CPU was (probably) the bottleneck */
const CLIENT_BOUND_PCT = 90;
const fmt = (metric: Metric, x: number) => {
  const digits = METRICS[metric].digits;
  return x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
};
const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
const table = (head: string[], rows: string[][]) =>
  [row(head), row(head.map(() => '---')), ...rows.map(row)].join('\n');

export function renderMarkdown({ title, setup, servers, cases, samples, skipped }: ReportInput): string {
  const runsOf = (server: string, c: string) => samples.filter((s) => s.server === server && s.case === c);
  const statOf = (server: string, c: string, metric: Metric) =>
    stat(runsOf(server, c).flatMap((s) => s.metrics[metric] ?? []));
  const label = (id: string) => servers.find((s) => s.id === id)?.label ?? id;
  const measured = cases.flatMap((c) => servers.filter((s) => runsOf(s.id, c.id).length).map((s) => ({ c, s })));

  /** The best median among a headline's baseline servers, and how many of them were run. */
  const baseline = (c: Case, h: Headline) => {
    const better = (a: number, b: number) => (METRICS[h.metric].lowerIsBetter ? a < b : a > b);
    const candidates = h.baseline.flatMap((id) => {
      const st = statOf(id, c.id, h.metric);
      return st ? [{ id, value: st.median }] : [];
    });
    const best = candidates.reduce((a, b) => (better(b.value, a.value) ? b : a), candidates[0]);
    return best && { ...best, count: candidates.length };
  };

  /** With several runs: the range of the ratio taken within each run (both servers measured minutes apart, not hours). */
  const perRun = (server: string, base: string, c: Case, metric: Metric) => {
    if (server === base) return '';
    const ratios = runsOf(server, c.id).flatMap((r) => {
      const b = runsOf(base, c.id).find((x) => x.run === r.run)?.metrics[metric];
      const v = r.metrics[metric];
      return v !== undefined && b ? [v / b] : [];
    });
    const st = stat(ratios);
    return st && st.n > 1 ? `; per run ${st.min.toFixed(2)}–${st.max.toFixed(2)}` : '';
  };

  const summaryRow = (c: Case, h: Headline) => {
    const base = baseline(c, h);
    const baseText = base
      ? label(base.id) + (base.count > 1 ? ` (best of ${base.count})` : '')
      : `n/a (${h.baseline.join(', ')} not run)`;
    const cells = servers.map((s) => {
      const st = statOf(s.id, c.id, h.metric);
      if (!st) return '—';
      const ratio = base ? ` (${(st.median / base.value).toFixed(2)}×${perRun(s.id, base.id, c, h.metric)})` : '';
      const flag = runsOf(s.id, c.id).some((r) => r.errors.length) ? ' ⚠' : '';
      return fmt(h.metric, st.median) + ratio + flag;
    });
    return [`${c.id}: ${c.title}`, METRICS[h.metric].label, baseText, ...cells];
  };

  const detailRow = (c: Case, s: Server) => {
    const runs = runsOf(s.id, c.id);
    const metric = c.headlines[0].metric;
    const head = statOf(s.id, c.id, metric);
    const failed = runs.filter((r) => r.errors.length).length;
    return [
      c.id,
      s.label,
      ...METRIC_IDS.map((m) => {
        const st = statOf(s.id, c.id, m);
        return st ? fmt(m, st.median) : '—';
      }),
      !head || head.n < 2
        ? `n=${head?.n ?? 0}`
        : `${fmt(metric, head.min)} – ${fmt(metric, head.max)} (${head.spreadPct.toFixed(0)}%, n=${head.n})`,
      failed ? `⚠ ${failed}/${runs.length} runs` : 'none',
    ];
  };

  const spreads = measured.flatMap(({ c, s }) => {
    const st = statOf(s.id, c.id, c.headlines[0].metric);
    return st && st.n > 1 ? [{ where: `${c.id} / ${s.label}`, pct: st.spreadPct }] : [];
  });
  const worst = spreads.sort((a, b) => b.pct - a.pct)[0];
  const notServerBound = measured.flatMap(({ c, s }) => {
    const cpu = statOf(s.id, c.id, 'serverCpuPct')?.median;
    return cpu !== undefined && cpu < SERVER_BOUND_PCT ? [`${c.id} / ${s.label} (${cpu.toFixed(0)}%)`] : [];
  });

  const clientBound = measured.flatMap(({ c, s }) => {
    const cpu = statOf(s.id, c.id, 'clientCpuPct')?.median;
    return cpu !== undefined && cpu >= CLIENT_BOUND_PCT ? [`${c.id} / ${s.label} (${cpu.toFixed(0)}%)`] : [];
  });

  const failures = samples.filter((s) => s.errors.length);
  const errorSection = failures.length
    ? [
        '## ⚠ ERRORS',
        '',
        ...failures.flatMap((f) => [
          `- **${label(f.server)} / ${f.case} / run ${f.run}**: ${f.errors.join('; ')}`,
          ...(f.log ? ['', '  ```', ...f.log.split('\n').map((l) => `  ${l}`), '  ```'] : []),
        ]),
        '',
        'Figures from runs with errors are marked ⚠ and should not be trusted.',
        '',
      ]
    : [];

  return [
    `# ${title}`,
    '',
    ...setup.map((l) => `- ${l}`),
    '',
    ...errorSection,
    '## Summary',
    '',
    'Median over runs; (ratio) = server / baseline, then the range of that ratio within each run. ' +
      'Higher is better for msg/s and MB/s, lower for p99 and KiB/conn.',
    '',
    table(
      ['case', 'metric', 'baseline', ...servers.map((s) => s.label)],
      cases.flatMap((c) => c.headlines.map((h) => summaryRow(c, h))),
    ),
    '',
    '## Details',
    '',
    table(
      ['case', 'server', ...METRIC_IDS.map((m) => METRICS[m].label), 'headline min – max (spread)', 'errors'],
      measured.map(({ c, s }) => detailRow(c, s)),
    ),
    '',
    '## Noise',
    '',
    worst
      ? `Largest run-to-run spread of a headline figure: ${worst.pct.toFixed(0)}% (${worst.where}), ` +
        'as (max − min) / median.'
      : 'One run per cell, so no run-to-run spread was measured (use --runs 3 or more).',
    'Absolute figures on this shared 2-core machine drift ±20–35% between sessions; ' +
      'compare ratios from the same session.',
    ...(notServerBound.length
      ? [
          '',
          `Server CPU below ${SERVER_BOUND_PCT}%, so the server was not the bottleneck (wsload, the kernel or ` +
            `another process was): ${notServerBound.join(', ')}.`,
        ]
      : []),
    ...(clientBound.length
      ? [
          '',
          `Client CPU ≥ ${CLIENT_BOUND_PCT}%: client-bound, ratios understate the faster server: ` +
            `${clientBound.join(', ')}.`,
        ]
      : []),
    ...(skipped.length ? ['', '## Not run', '', ...skipped.map((s) => `- ${s}`)] : []),
    '',
  ].join('\n');
}
