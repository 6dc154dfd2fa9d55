/**
 * The reports of a run: a terminal summary table, a self-contained HTML page
 * (per case: description, expectation, observation, wire log), Autobahn's
 * index.json shape with one JSON file per case, and JUnit XML.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Behavior, CaseResult } from './case.js';
import { LOG_BYTES, LOG_CHUNK_BYTES, type WireLog } from './client.js';
import type { Difference } from './expected.js';
import { describeDifference } from './expected.js';
import type { ConformRun } from './run.js';

/** What the HTML page shows besides the run: the gate, if there was one. */
export interface Gate {
  file: string;
  differences: Difference[];
  /** --update rewrote the file. */
  updated: boolean;
  /** There was no file yet. */
  missing: boolean;
}

const ORDER: Behavior[] = ['OK', 'NON-STRICT', 'INFORMATIONAL', 'UNIMPLEMENTED', 'FAILED'];

function fmtMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

// Terminal.

export function summaryTable(run: ConformRun): string {
  const total: Record<string, number> = {};
  for (const r of run.results) total[r.behavior] = (total[r.behavior] ?? 0) + 1;
  const rows = [
    ['family', 'title', 'cases', ...ORDER, 'case time'],
    ...run.families.map((f) => [f.id, f.title, String(f.cases), ...ORDER.map((b) => String(f.counts[b] ?? 0)), fmtMs(f.durationMs)]),
    ['all', '', String(run.results.length), ...ORDER.map((b) => String(total[b] ?? 0)), `${fmtMs(run.durationMs)} wall`],
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((cell, i) => (i >= 2 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ');
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
.badge.NONSTRICT, .badge.WRONGCODE, .badge.UNCLEAN { background: #fff1c2; color: #7d4e00; }
.badge.INFORMATIONAL, .badge.UNIMPLEMENTED { background: #ddf4ff; color: #0550ae; }
div.close { margin-top: 4px; font-size: 12px; color: var(--muted); white-space: nowrap; }
tr.FAILED td { background: #fff8f7; }
tr.NONSTRICT td { background: #fffcf0; }
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

function badge(behavior: string): string {
  return `<span class="badge ${behavior.replace(/[^A-Z]/g, '')}">${esc(behavior)}</span>`;
}

function renderCase(r: CaseResult): string {
  const logs = r.wire.map(renderLog).join('\n\n');
  const bytes = r.wire.reduce((s, l) => s + l.sent, 0);
  const got = r.wire.reduce((s, l) => s + l.received, 0);
  const bad = r.behavior === 'FAILED' || r.behavior === 'NON-STRICT';
  const wire = r.wire.length
    ? `<details${bad ? ' open' : ''}><summary>wire log: ${r.wire.length} connection${r.wire.length > 1 ? 's' : ''}, ${bytes.toLocaleString('en')} B sent, ${got.toLocaleString('en')} B received</summary><pre>${esc(logs)}</pre></details>`
    : '';
  const observed = r.reason ? r.observation.slice(0, Math.max(0, r.observation.lastIndexOf(`; ${r.behavior}: `))) || r.observation : r.observation;
  return `<tr class="${r.behavior.replace(/[^A-Z]/g, '')}" id="case-${esc(r.id)}">
<td class="id"><a href="#case-${esc(r.id)}">${esc(r.id)}</a></td>
<td class="verdict">${badge(r.behavior)}<div class="close">close ${badge(r.behaviorClose)}</div></td>
<td><div class="desc">${esc(r.description)}</div>
<div class="field"><b>Expected</b> ${esc(r.expectation)}</div>
<div class="field"><b>Observed</b> ${esc(observed)}</div>
${r.reason ? `<div class="field reason"><b>Reason</b> ${esc(r.reason)}</div>` : ''}
${wire}</td>
<td class="time">${fmtMs(r.durationMs)}</td>
</tr>`;
}

function counts(results: CaseResult[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of results) out[r.behavior] = (out[r.behavior] ?? 0) + 1;
  return out;
}

function cells(c: Record<string, number>): string {
  return ORDER.map((b) => `<td class="n">${c[b] ? (b === 'OK' ? `<span class="pill-ok">${c[b]}</span>` : b === 'FAILED' ? `<span class="pill-bad">${c[b]}</span>` : c[b]) : '0'}</td>`).join('');
}

export function renderHtml(run: ConformRun, gate?: Gate): string {
  const total = counts(run.results);
  const diffs = gate?.differences ?? [];
  const shown = diffs.slice(0, 40);
  const more = diffs.length > shown.length ? `<li>… and ${diffs.length - shown.length} more</li>` : '';
  const summary = ORDER.filter((b) => total[b]).map((b) => `${total[b]} ${b}`).join(', ');
  const banner = !gate
    ? total.FAILED
      ? `<div class="banner bad">${total.FAILED} case${total.FAILED > 1 ? 's' : ''} FAILED (${summary}).</div>`
      : `<div class="banner ok">No case FAILED (${summary}).</div>`
    : gate.updated
      ? `<div class="banner ok">Expected verdicts rewritten from this run (${esc(gate.file)}).</div>`
      : gate.missing
        ? `<div class="banner bad">No expected verdicts at ${esc(gate.file)}: run with --update to create them.</div>`
        : diffs.length === 0
          ? `<div class="banner ok">Every verdict matches the expected results in ${esc(gate.file)}: ${summary}.</div>`
          : `<div class="banner bad">${diffs.length} verdict${diffs.length > 1 ? 's differ' : ' differs'} from ${esc(gate.file)}:<ul>${shown.map((d) => `<li><a href="#case-${esc(d.id)}">${esc(describeDifference(d))}</a></li>`).join('')}${more}</ul></div>`;
  const summaryRows = run.families
    .map((f) => `<tr><td><a href="#family-${esc(f.id)}">${esc(f.id)}</a></td><td><a href="#family-${esc(f.id)}">${esc(f.title)}</a></td><td class="n">${f.cases}</td>${cells(f.counts)}<td class="n">${fmtMs(f.durationMs)}</td></tr>`)
    .join('\n');
  const sections = run.families
    .map((f) => {
      const rows = run.results.filter((r) => r.family === f.id).map(renderCase).join('\n');
      return `<h2 id="family-${esc(f.id)}">${esc(f.id)} · ${esc(f.title)} <small>(${f.counts.OK ?? 0}/${f.cases} OK)</small></h2>
<p class="family-summary">${esc(f.summary)}</p>
<table class="cases"><thead><tr><th>ID</th><th>Verdict</th><th>Case</th><th>Time</th></tr></thead><tbody>
${rows}
</tbody></table>`;
    })
    .join('\n');
  const selection = [run.selection.cases ? `cases ${run.selection.cases}` : '', run.selection.exclude ? `excluding ${run.selection.exclude}` : ''].filter(Boolean).join(', ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>strictws conform: ${esc(run.agent)}: ${total.OK ?? 0}/${run.results.length} OK</title>
<style>${CSS}</style>
</head>
<body>
<h1>strictws conform: ${esc(run.agent)}</h1>
<p class="meta">${esc(run.started)} · ${esc(run.url)} · Node ${esc(process.version)} on ${esc(`${process.platform} ${process.arch}`)} · ${run.results.length} cases in ${fmtMs(run.durationMs)}${selection ? ` · ${esc(selection)}` : ''}</p>
${banner}
<table class="summary">
<thead><tr><th>Family</th><th>Title</th><th class="n">Cases</th>${ORDER.map((b) => `<th class="n">${b}</th>`).join('')}<th class="n">Case time</th></tr></thead>
<tbody>
${summaryRows}
<tr class="total"><td></td><td>All families</td><td class="n">${run.results.length}</td>${cells(total)}<td class="n">${fmtMs(run.durationMs)} wall</td></tr>
</tbody>
</table>
<p class="meta">${esc(footer(run))}</p>
${sections}
</body>
</html>
`;
}

/** What ran, from which seat, and how to read the report. */
function footer(run: ConformRun): string {
  const logs = `show the first ${LOG_CHUNK_BYTES} bytes of each chunk, up to ${LOG_BYTES} bytes each way (→ client to server, ← server to client, · transport events).`;
  if (run.seat === 'server') {
    return `Testing a WebSocket client: we are the fuzzing server, at the HTTP paths of Autobahn's fuzzingserver (/getCaseCount, /runCase, /getCaseInfo, /getCaseStatus, /updateReports), and the client under test connects once per case. The families are the Autobahn|Testsuite's cases under its ids and with its verdict classes, seen from the server's seat: our frames go unmasked, the client's must be masked, and in sections 12 and 13 the server accepts the client's permessage-deflate offer with the case's parameters. Our side is written from RFC 6455 and RFC 7692 with its own frame codec, deflate handling and UTF-8 checker. Case time runs from the client's /runCase request to the end of the case. Wire logs (one connection per case) ${logs}`;
  }
  return `Testing a WebSocket server: we are the client, over raw TCP to the server. Numbered families are the Autobahn|Testsuite's cases under its ids and with its verdict classes; lettered families are our own. The client is written from RFC 6455 and RFC 7692 with its own frame codec, deflate handling and UTF-8 checker. Case time is summed over cases that run side by side. Wire logs (up to two connections per case) ${logs}`;
}

/** Autobahn's report file name for a case: "<agent>_case_<id with _ for .>.json", the agent lower-cased, other characters as "_". */
export function reportFile(agent: string, id: string): string {
  return `${agent.toLowerCase().replace(/[^a-z0-9]/g, '_')}_case_${id.replace(/\./g, '_')}.json`;
}

/** `DIR/index.json` in Autobahn's shape (agent → case id → verdicts), and one JSON file per case. */
export function writeAutobahnJson(run: ConformRun, dir: string): void {
  mkdirSync(dir, { recursive: true });
  const index: Record<string, { behavior: string; behaviorClose: string; duration: number; remoteCloseCode: number | null; reportfile: string }> = {};
  run.results.forEach((r, i) => {
    const file = reportFile(run.agent, r.id);
    index[r.id] = { behavior: r.behavior, behaviorClose: r.behaviorClose, duration: Math.round(r.durationMs), remoteCloseCode: r.remoteCloseCode, reportfile: file };
    const detail = {
      agent: run.agent,
      id: r.id,
      case: i + 1,
      family: r.family,
      description: r.description,
      expectation: r.expectation,
      behavior: r.behavior,
      behaviorClose: r.behaviorClose,
      result: r.reason ?? r.observation,
      observation: r.observation,
      duration: Math.round(r.durationMs),
      remoteCloseCode: r.remoteCloseCode,
      url: run.url,
      started: run.started,
      wirelog: r.wire,
    };
    writeFileSync(join(dir, file), `${JSON.stringify(detail, null, 1)}\n`);
  });
  writeFileSync(join(dir, 'index.json'), `${JSON.stringify({ [run.agent]: index }, null, 2)}\n`);
}

function xml(text: string): string {
  // XML 1.0 allows no C0 controls but tab, LF and CR.
  return esc(text).replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * JUnit XML: one testsuite per family, one testcase per case; FAILED is a
 * `failure` (NON-STRICT too with `nonStrictFails`), UNIMPLEMENTED `skipped`.
 */
export function renderJunit(run: ConformRun, nonStrictFails = false): string {
  const failing = (r: CaseResult) => r.behavior === 'FAILED' || (nonStrictFails && r.behavior === 'NON-STRICT');
  const suites = run.families.map((f) => {
    const rs = run.results.filter((r) => r.family === f.id);
    const body = rs
      .map((r) => {
        const name = `${r.id}: ${r.description}`;
        const head = `    <testcase classname="${xml(`${run.agent}.${f.id}`)}" name="${xml(name)}" time="${(r.durationMs / 1000).toFixed(3)}"`;
        const detail = `behavior ${r.behavior}, behaviorClose ${r.behaviorClose}\nExpected: ${r.expectation}\nObserved: ${r.observation}`;
        if (failing(r)) return `${head}>\n      <failure message="${xml(`${r.behavior}: ${r.reason ?? r.observation}`)}" type="${r.behavior}">${xml(detail)}</failure>\n    </testcase>`;
        if (r.behavior === 'UNIMPLEMENTED') return `${head}>\n      <skipped message="${xml(`UNIMPLEMENTED: ${r.reason ?? ''}`)}"/>\n    </testcase>`;
        return `${head}>\n      <system-out>${xml(detail)}</system-out>\n    </testcase>`;
      })
      .join('\n');
    const failures = rs.filter(failing).length;
    const skipped = rs.filter((r) => r.behavior === 'UNIMPLEMENTED').length;
    return `  <testsuite name="${xml(`${run.agent}: ${f.id} ${f.title}`)}" tests="${rs.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${(f.durationMs / 1000).toFixed(3)}" timestamp="${run.started.replace(/\.\d+Z$/, '')}">\n${body}\n  </testsuite>`;
  });
  const failures = run.results.filter(failing).length;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="strictws conform ${xml(run.agent)}" tests="${run.results.length}" failures="${failures}" errors="0" time="${(run.durationMs / 1000).toFixed(3)}">\n${suites.join('\n')}\n</testsuites>\n`;
}
