/** The conformance reports: a terminal summary table and a self-contained HTML page. */
import type { CaseResult } from './case.js';
import { LOG_BYTES, LOG_CHUNK_BYTES, type WireLog } from './client.js';
import type { Difference } from './expected.js';
import { describeDifference } from './expected.js';

export interface FamilySummary {
  id: string;
  title: string;
  summary: string;
  cases: number;
  ok: number;
  failed: number;
  /** Sum of the case durations (cases run side by side, so this exceeds wall time). */
  durationMs: number;
}

export interface Report {
  tool: string;
  generated: string;
  /** `deflateUrl`: the server families 12 and 13 (permessage-deflate) ran against. */
  server: { url: string; deflateUrl?: string; startedByRun: boolean; command?: string };
  node: string;
  platform: string;
  durationMs: number;
  selection: string | null;
  totals: { cases: number; ok: number; failed: number };
  families: FamilySummary[];
  /** `missing`: there was no expected file; `updated`: --update rewrote it. */
  expected: { file: string; differences: Difference[]; updated: boolean; missing: boolean };
  cases: CaseResult[];
}

function fmtMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

// Terminal.

export function summaryTable(report: Report): string {
  const rows = [
    ['family', 'title', 'cases', 'OK', 'FAILED', 'case time'],
    ...report.families.map((f) => [f.id, f.title, String(f.cases), String(f.ok), String(f.failed), fmtMs(f.durationMs)]),
    ['all', '', String(report.totals.cases), String(report.totals.ok), String(report.totals.failed), `${fmtMs(report.durationMs)} wall`],
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const numeric = [false, false, true, true, true, true];
  const line = (r: string[]) => r.map((cell, i) => (numeric[i] ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ');
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(rows[0]), rule, ...rows.slice(1, -1).map(line), rule, line(rows.at(-1)!)].join('\n');
}

// HTML.

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function ascii(hexText: string): string {
  return hexText
    .split(' ')
    .map((h) => {
      const b = parseInt(h, 16);
      return b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
    })
    .join('');
}

/** A log as rows of at most 16 bytes: time, direction, hex, ASCII. */
function renderLog(log: WireLog): string {
  const lines: string[] = [`${log.label}: ${log.sent.toLocaleString('en')} bytes sent, ${log.received.toLocaleString('en')} received`];
  for (const e of log.entries) {
    const t = `${e.t.toFixed(1).padStart(9)} ms`;
    if (e.dir === '*') {
      lines.push(`${t}  ·  ${e.note}`);
      continue;
    }
    const arrow = e.dir === '>' ? '→' : '←';
    const bytes = e.hex ? e.hex.split(' ') : [];
    const head = `${t}  ${arrow}  ${String(e.n).padStart(8)} B`;
    const chunks = e.chunks && e.chunks > 1 ? `in ${e.chunks.toLocaleString('en')} ${e.dir === '>' ? 'writes' : 'reads'}` : '';
    if (bytes.length === 0) {
      lines.push(`${head}  (${chunks ? `${chunks}, ` : ''}not shown)`);
      continue;
    }
    if (chunks) lines.push(`${head}  ${chunks}:`);
    for (let i = 0; i < bytes.length; i += 16) {
      const row = bytes.slice(i, i + 16).join(' ');
      lines.push(`${i === 0 && !chunks ? head : ' '.repeat(head.length)}  ${row.padEnd(47)}  ${ascii(row)}`);
    }
    if (e.n !== undefined && e.n > bytes.length) lines.push(`${' '.repeat(head.length)}  … ${(e.n - bytes.length).toLocaleString('en')} more bytes`);
  }
  return lines.join('\n');
}

const CSS = `
:root { --ok: #1a7f37; --ok-bg: #dafbe1; --bad: #cf222e; --bad-bg: #ffebe9; --line: #d0d7de; --muted: #57606a; --head: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 15px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1f2328; margin: 0; padding: 24px 32px 64px; max-width: 1400px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 36px 0 4px; padding-top: 8px; border-top: 2px solid var(--line); }
p.meta { color: var(--muted); margin: 0 0 16px; font-size: 14px; }
table.summary + p.meta { margin-top: 10px; }
p.family-summary { color: var(--muted); margin: 0 0 12px; max-width: 1100px; }
.banner { padding: 12px 16px; border-radius: 6px; font-weight: 600; margin: 12px 0 20px; font-size: 16px; }
.banner.ok { background: var(--ok-bg); color: var(--ok); border: 1px solid #aceebb; }
.banner.bad { background: var(--bad-bg); color: var(--bad); border: 1px solid #ffcecb; }
.banner ul { margin: 6px 0 0; font-weight: 400; color: #1f2328; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid var(--line); padding: 6px 10px; vertical-align: top; text-align: left; }
th { background: var(--head); font-weight: 600; }
table.summary { width: auto; min-width: 640px; }
table.summary td.n, table.summary th.n { text-align: right; font-variant-numeric: tabular-nums; }
table.summary tr.total td { font-weight: 600; background: var(--head); }
td.id { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; white-space: nowrap; width: 76px; }
td.verdict { width: 84px; }
td.time { width: 80px; text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; color: var(--muted); }
.badge { display: inline-block; padding: 1px 8px; border-radius: 12px; font-size: 13px; font-weight: 700; }
.badge.OK { background: var(--ok-bg); color: var(--ok); }
.badge.FAILED { background: var(--bad); color: #fff; }
tr.FAILED td { background: #fff8f7; }
.desc { font-weight: 600; }
.field { margin-top: 2px; }
.field b { display: inline-block; min-width: 92px; color: var(--muted); font-weight: 600; }
.reason { color: var(--bad); font-weight: 600; }
details { margin-top: 4px; }
summary { cursor: pointer; color: var(--muted); font-size: 13px; }
pre { font: 12px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: var(--head); border: 1px solid var(--line); border-radius: 4px; padding: 8px 10px; overflow-x: auto; margin: 4px 0 0; white-space: pre; }
a { color: #0969da; text-decoration: none; }
a:hover { text-decoration: underline; }
.pill-ok { color: var(--ok); font-weight: 700; }
.pill-bad { color: var(--bad); font-weight: 700; }
`;

function badge(verdict: string): string {
  return `<span class="badge ${verdict}">${verdict}</span>`;
}

function renderCase(r: CaseResult): string {
  const logs = r.wire.map(renderLog).join('\n\n');
  const bytes = r.wire.reduce((s, l) => s + l.sent, 0);
  const got = r.wire.reduce((s, l) => s + l.received, 0);
  const wire = r.wire.length
    ? `<details${r.verdict === 'FAILED' ? ' open' : ''}><summary>wire log: ${r.wire.length} connection${r.wire.length > 1 ? 's' : ''}, ${bytes.toLocaleString('en')} B sent, ${got.toLocaleString('en')} B received</summary><pre>${esc(logs)}</pre></details>`
    : '';
  return `<tr class="${r.verdict}" id="case-${esc(r.id)}">
<td class="id"><a href="#case-${esc(r.id)}">${esc(r.id)}</a></td>
<td class="verdict">${badge(r.verdict)}</td>
<td><div class="desc">${esc(r.description)}</div>
<div class="field"><b>Expected</b> ${esc(r.expectation)}</div>
<div class="field"><b>Observed</b> ${esc(r.observation.replace(/; FAILED: .*$/, ''))}</div>
${r.reason ? `<div class="field reason"><b>Reason</b> ${esc(r.reason)}</div>` : ''}
${wire}</td>
<td class="time">${fmtMs(r.durationMs)}</td>
</tr>`;
}

export function renderHtml(report: Report): string {
  const { totals, expected } = report;
  const diffs = expected.differences;
  const shown = diffs.slice(0, 40);
  const more = diffs.length > shown.length ? `<li>… and ${diffs.length - shown.length} more</li>` : '';
  const banner = expected.updated
    ? `<div class="banner ok">Expected verdicts rewritten from this run (${esc(expected.file)}).</div>`
    : expected.missing
      ? `<div class="banner bad">No expected verdicts at ${esc(expected.file)}: run with --update to create them.</div>`
      : diffs.length === 0
      ? `<div class="banner ok">Every verdict matches the expected results in ${esc(expected.file)}: ${totals.ok} OK, ${totals.failed} FAILED.</div>`
      : `<div class="banner bad">${diffs.length} verdict${diffs.length > 1 ? 's differ' : ' differs'} from ${esc(expected.file)}:<ul>${shown.map((d) => `<li><a href="#case-${esc(d.id)}">${esc(describeDifference(d))}</a></li>`).join('')}${more}</ul></div>`;
  const summaryRows = report.families
    .map(
      (f) => `<tr><td><a href="#family-${esc(f.id)}">${esc(f.id)}</a></td><td><a href="#family-${esc(f.id)}">${esc(f.title)}</a></td><td class="n">${f.cases}</td><td class="n"><span class="pill-ok">${f.ok}</span></td><td class="n">${f.failed ? `<span class="pill-bad">${f.failed}</span>` : '0'}</td><td class="n">${fmtMs(f.durationMs)}</td></tr>`,
    )
    .join('\n');
  const sections = report.families
    .map((f) => {
      const rows = report.cases.filter((r) => r.family === f.id).map(renderCase).join('\n');
      return `<h2 id="family-${esc(f.id)}">${esc(f.id)} · ${esc(f.title)} <small>(${f.ok}/${f.cases} OK)</small></h2>
<p class="family-summary">${esc(f.summary)}</p>
<table class="cases"><thead><tr><th>ID</th><th>Verdict</th><th>Case</th><th>Time</th></tr></thead><tbody>
${rows}
</tbody></table>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>strictws conformance: ${totals.ok}/${totals.cases} OK</title>
<style>${CSS}</style>
</head>
<body>
<h1>strictws conformance report</h1>
<p class="meta">${esc(report.generated)} · server ${esc(report.server.url)}${report.server.deflateUrl && report.server.deflateUrl !== report.server.url ? ` and ${esc(report.server.deflateUrl)} (permessage-deflate)` : ''}${report.server.command ? ` (${esc(report.server.command)})` : ''} · Node ${esc(report.node)} on ${esc(report.platform)} · ${totals.cases} cases in ${fmtMs(report.durationMs)}${report.selection ? ` · subset ${esc(report.selection)}` : ''}</p>
${banner}
<table class="summary">
<thead><tr><th>Family</th><th>Title</th><th class="n">Cases</th><th class="n">OK</th><th class="n">FAILED</th><th class="n">Case time</th></tr></thead>
<tbody>
${summaryRows}
<tr class="total"><td></td><td>All families</td><td class="n">${totals.cases}</td><td class="n">${totals.ok}</td><td class="n">${totals.failed}</td><td class="n">${fmtMs(report.durationMs)} wall</td></tr>
</tbody>
</table>
<p class="meta">The client is ours, written from RFC 6455 with its own frame codec and UTF-8 checker; raw TCP to the server. Case time is summed over cases that run side by side. Wire logs (up to two connections per case) show the first ${LOG_CHUNK_BYTES} bytes of each chunk, up to ${LOG_BYTES} bytes each way (→ client to server, ← server to client, · transport events).</p>
${sections}
</body>
</html>
`;
}
