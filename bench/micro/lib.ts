// Shared helpers for the micro-benchmarks: run a group of alternatives with tinybench and print a
// markdown table (ns per call, throughput, ratio to the group's first row).
import { Bench } from 'tinybench';

export interface Task {
  name: string;
  fn: () => void;
  /** Bytes handled per call, for MB/s; omit for ops/s only. */
  bytes?: number;
  /** Operations (messages, frames) per call, for ns/op. Default 1. */
  ops?: number;
}

export interface Group {
  title: string;
  tasks: Task[];
}

export interface Row {
  group: string;
  name: string;
  nsPerOp: number;
  mbPerS?: number;
  /** the group's first task's time / this task's time: > 1 is faster than the first */
  speedup: number;
  rme: number;
}

/** Milliseconds per task; MICRO_TIME overrides (e.g. MICRO_TIME=100 for a quick pass). */
const TIME_MS = Number(process.env.MICRO_TIME ?? 400);

export async function runGroup(group: Group): Promise<Row[]> {
  const bench = new Bench({ time: TIME_MS, warmupTime: Math.min(200, TIME_MS / 2), iterations: 16 });
  for (const t of group.tasks) bench.add(t.name, t.fn);
  await bench.run();
  const rows: Row[] = [];
  let first: number | undefined;
  for (const [i, task] of bench.tasks.entries()) {
    const def = group.tasks[i];
    const r = task.result;
    if (r.state !== 'completed') throw new Error(`${group.title} / ${def.name}: ${r.state}`);
    const msPerCall = r.latency.mean;
    first ??= msPerCall;
    rows.push({
      group: group.title,
      name: def.name,
      nsPerOp: (msPerCall * 1e6) / (def.ops ?? 1),
      mbPerS: def.bytes === undefined ? undefined : def.bytes / 1e6 / (msPerCall / 1e3),
      speedup: first / msPerCall,
      rme: r.latency.rme,
    });
  }
  return rows;
}

export function renderRows(rows: Row[]): string {
  const out: string[] = [];
  let group = '';
  for (const r of rows) {
    if (r.group !== group) {
      group = r.group;
      out.push('', `### ${group}`, '', '| variant | ns/op | MB/s | vs first | ±% |', '| --- | ---: | ---: | ---: | ---: |');
    }
    const mb = r.mbPerS === undefined ? '—' : r.mbPerS.toLocaleString('en-US', { maximumFractionDigits: 0 });
    const ns = r.nsPerOp < 100 ? r.nsPerOp.toFixed(1) : Math.round(r.nsPerOp).toLocaleString('en-US');
    out.push(`| ${r.name} | ${ns} | ${mb} | ${r.speedup.toFixed(2)}× | ${r.rme.toFixed(1)} |`);
  }
  return out.join('\n');
}

/** Deterministic pseudo-random bytes. */
export function pseudoRandom(length: number, seed = 0x9e3779b9): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Printable ASCII text, as wsload sends. */
export function asciiText(length: number): Buffer {
  const out = pseudoRandom(length);
  for (let i = 0; i < length; i++) out[i] = 0x20 + (out[i] % 95);
  return out;
}

/** Mixed-script text: ASCII, 2-, 3- and 4-byte code points, exactly `length` bytes, valid UTF-8. */
export function multiByteText(length: number): Buffer {
  const unit = Buffer.from('Grüße, 世界! Привет 😀 ŝ€ ', 'utf8');
  const out = Buffer.alloc(length);
  for (let at = 0; at < length; at += unit.length) unit.copy(out, at, 0, Math.min(unit.length, length - at));
  // Blank out a code point the end cut in two.
  let j = length - 1;
  while (j > 0 && (out[j] & 0xc0) === 0x80) j--;
  const need = out[j] < 0xc0 ? 1 : out[j] < 0xe0 ? 2 : out[j] < 0xf0 ? 3 : 4;
  if (length - j < need) out.fill(0x20, j);
  return out;
}

export const SIZES = [16, 125, 4 * 1024, 64 * 1024, 1024 * 1024];

export function sizeLabel(n: number): string {
  return n >= 1024 * 1024 ? `${n / 1024 / 1024} MiB` : n >= 1024 ? `${n / 1024} KiB` : `${n} B`;
}

/**
 * Calls per task so that one call handles at least `minBytes` (so tiny inputs are not drowned by
 * the timer's overhead). Returns the repeat count.
 */
export function repeatsFor(size: number, minBytes = 64 * 1024): number {
  return Math.max(1, Math.ceil(minBytes / size));
}
