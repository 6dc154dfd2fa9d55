// Micro-benchmarks of the hot paths, each against the obvious alternative (tinybench).
//
//   npx tsx bench/micro/index.ts [mask] [utf8] [parse] [encode] [pipeline]   (default: all)
//   MICRO_TIME=100 npx tsx bench/micro/index.ts mask    (ms per variant; default 400)
//
// Prints markdown tables: ns per operation, MB/s, and speed relative to each group's first row.
// Numbers move with machine load: compare rows within one table, not across runs.
import { cpus } from 'node:os';
import { encodeGroups } from './encode.js';
import { type Group, renderRows, runGroup } from './lib.js';
import { maskGroups } from './mask.js';
import { parseGroups } from './parse.js';
import { pipelineGroups } from './pipeline.js';
import { utf8Groups } from './utf8.js';

const SUITES: Record<string, () => Group[]> = {
  mask: maskGroups,
  utf8: utf8Groups,
  parse: parseGroups,
  encode: encodeGroups,
  pipeline: pipelineGroups,
};

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  for (const name of wanted) if (!SUITES[name]) throw new Error(`unknown suite "${name}": ${Object.keys(SUITES).join(', ')}`);
  const names = wanted.length ? wanted : Object.keys(SUITES);
  process.stdout.write(`# strictws micro-benchmarks\n\nnode ${process.version}, ${cpus()[0]?.model ?? ''}, tinybench\n`);
  for (const name of names) {
    process.stdout.write(`\n## ${name}\n`);
    for (const group of SUITES[name]()) {
      process.stdout.write(renderRows(await runGroup(group)) + '\n');
    }
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
