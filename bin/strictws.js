#!/usr/bin/env node
// The package bin. `npm ci` builds dist/ through the "prepare" script.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/index.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('strictws: dist/ is missing; run "npm run build" (npm ci does it through "prepare").\n');
  process.exit(1);
}
const { main } = await import(entry.href);
const code = await main(process.argv.slice(2));
if (code !== 0) process.exitCode = code;
