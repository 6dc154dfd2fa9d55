/**
 * Compare an Autobahn|Testsuite report with a `strictws conform` report of the
 * same server: cases compared, equal `behavior` verdicts, and every difference
 * (with each side's own explanation from its per-case JSON file).
 *
 *   tsx scripts/compare-autobahn.ts <autobahn-dir-or-index.json> <conform-dir-or-index.json> [--cases "1.*,12.*"] [--markdown]
 *
 * Only Autobahn's own ids (sections 1-10, 12, 13) are compared; both index.json
 * files have Autobahn's shape (agent → case id → { behavior, ..., reportfile }).
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { casePatterns } from '../src/conform/patterns.js';

interface Entry {
  behavior: string;
  behaviorClose: string;
  reportfile?: string;
}

interface Side {
  agent: string;
  dir: string;
  cases: Record<string, Entry>;
}

/**
 * A report: its index.json, plus (for a directory) any per-case JSON file the
 * index does not list yet, as a run still in progress leaves them.
 */
function load(path: string): Side {
  const isDir = existsSync(path) && statSync(path).isDirectory();
  const file = isDir ? join(path, 'index.json') : path;
  const index = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, Entry>>) : {};
  const agents = Object.keys(index);
  if (agents.length > 1) throw new Error(`${file}: expected one agent, found ${agents.length} (${agents.join(', ')})`);
  const side: Side = { agent: agents[0] ?? '', dir: dirname(file), cases: { ...index[agents[0]] } };
  if (isDir) {
    for (const name of readdirSync(path).filter((n) => /_case_[\d_]+\.json$/.test(n))) {
      const detail = JSON.parse(readFileSync(join(path, name), 'utf8')) as Entry & { id: string; agent: string };
      if (side.cases[detail.id]) continue;
      side.agent ||= detail.agent;
      side.cases[detail.id] = { behavior: detail.behavior, behaviorClose: detail.behaviorClose, reportfile: name };
    }
  }
  if (!side.agent) throw new Error(`${path}: no index.json and no per-case report files`);
  return side;
}

/** The case's own explanation: Autobahn's "result" (and "resultClose"), or ours. */
function explanation(side: Side, id: string): string {
  const file = side.cases[id]?.reportfile;
  if (!file || !existsSync(join(side.dir, file))) return '';
  const detail = JSON.parse(readFileSync(join(side.dir, file), 'utf8')) as { result?: string; resultClose?: string };
  return [detail.result, detail.resultClose].filter(Boolean).join(' / ');
}

const byId = (a: string, b: string) => {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? -1) !== (y[i] ?? -1)) return (x[i] ?? -1) - (y[i] ?? -1);
  return 0;
};

function main(): number {
  const { values, positionals } = parseArgs({ options: { cases: { type: 'string' }, markdown: { type: 'boolean', default: false } }, allowPositionals: true });
  if (positionals.length !== 2) {
    process.stderr.write('usage: tsx scripts/compare-autobahn.ts <autobahn report dir or index.json> <conform report dir or index.json> [--cases patterns] [--markdown]\n');
    return 2;
  }
  const autobahn = load(positionals[0]);
  const ours = load(positionals[1]);
  const select = values.cases ? casePatterns(values.cases) : () => true;
  const ids = Object.keys(autobahn.cases)
    .filter((id) => /^\d+(\.\d+)+$/.test(id) && select(id))
    .sort(byId);
  const missing = ids.filter((id) => !ours.cases[id]);
  const compared = ids.filter((id) => ours.cases[id]);
  const differ = compared.filter((id) => autobahn.cases[id].behavior !== ours.cases[id].behavior);
  const closeDiffer = compared.filter((id) => autobahn.cases[id].behaviorClose !== ours.cases[id].behaviorClose);
  const equal = compared.length - differ.length;
  const pct = compared.length ? ((100 * equal) / compared.length).toFixed(1) : '-';
  const out: string[] = [];
  if (values.markdown) {
    out.push(`| Autobahn (${autobahn.agent}) vs strictws conform (${ours.agent}) | |`, '| --- | ---: |');
    out.push(`| cases compared | ${compared.length} |`, `| same behavior | ${equal} (${pct}%) |`, `| same behaviorClose | ${compared.length - closeDiffer.length} |`);
    if (missing.length) out.push(`| not in the conform report | ${missing.length} |`);
    if (differ.length) {
      out.push('', '| case | Autobahn | conform | Autobahn says | conform says |', '| --- | --- | --- | --- | --- |');
      for (const id of differ) {
        const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ').slice(0, 300);
        out.push(`| ${id} | ${autobahn.cases[id].behavior} | ${ours.cases[id].behavior} | ${cell(explanation(autobahn, id))} | ${cell(explanation(ours, id))} |`);
      }
    }
  } else {
    out.push(`Autobahn ${autobahn.agent} (${autobahn.dir}) vs strictws conform ${ours.agent} (${ours.dir})`);
    out.push(`cases compared: ${compared.length}${missing.length ? ` (${missing.length} not in the conform report: ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''})` : ''}`);
    out.push(`same behavior: ${equal} (${pct}%); same behaviorClose: ${compared.length - closeDiffer.length}`);
    for (const id of differ) {
      out.push(`  ${id}: Autobahn ${autobahn.cases[id].behavior}, conform ${ours.cases[id].behavior}`);
      out.push(`    Autobahn: ${explanation(autobahn, id)}`);
      out.push(`    conform:  ${explanation(ours, id)}`);
    }
    for (const id of closeDiffer.filter((id) => !differ.includes(id))) {
      out.push(`  ${id} (close only): Autobahn ${autobahn.cases[id].behaviorClose}, conform ${ours.cases[id].behaviorClose}`);
    }
  }
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}

process.exitCode = main();
