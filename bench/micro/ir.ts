// Instruction counts for decisions on a noisy machine: run one pipeline case a fixed number of times,
// under `valgrind --tool=callgrind` twice (N and 3N runs); the difference divided by 2N × messages is
// the instructions per message, free of start-up cost and of other processes' load.
//
//   npx tsc -p tsconfig.json --outDir .irjs      # compiled, so start-up is small and steady (not tsx)
//   valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.%p node --single-threaded \
//     .irjs/bench/micro/ir.js <16|4k|64k|1m> <runs>
//
// Ir per message = (Ir(3N runs) − Ir(N runs)) / (2N × messages per run); repeats agree within ±3%.
import { echoPipeline } from './pipeline.js';

const CASES: Record<string, [number, number, number]> = {
  '16': [16, 4096, 0x1],
  '4k': [4096, 64, 0x1],
  '64k': [65536, 8, 0x2],
  '1m': [1024 * 1024, 1, 0x2],
};
const [name = '4k', runsText = '200'] = process.argv.slice(2);
const spec = CASES[name];
if (!spec) throw new Error(`case: ${Object.keys(CASES).join(', ')}`);
const echo = echoPipeline(...spec);
const runs = Number(runsText);
let messages = 0;
for (let r = 0; r < runs; r++) messages += echo.run();
process.stdout.write(`${name}: ${runs} runs, ${messages} messages\n`);
