/**
 * The package as users get it: `npm pack`, then `npm install <tarball>` into
 * an empty folder. Zero runtime dependencies means nothing but strictws
 * arrives; `redis` is an optional peer, and `--redis` without it says what
 * to install. The install uses the configured registry, as a user's would:
 * npm installs optional dependencies when it can reach them, so only a real
 * registry shows what would arrive (npm asks it for the optional peer's
 * metadata, and downloads nothing).
 */
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_RANGE } from '../../src/apps/redis.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

/** The environment without what an enclosing `npm test` sets for its scripts (npm_config_* is config to npm). */
const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));

function run(command: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: 120_000 });
  if (result.error) throw result.error;
  return result;
}

function ok(command: string, args: string[], cwd: string): string {
  const result = run(command, args, cwd);
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return result.stdout;
}

describe('the packed package, installed into an empty folder', () => {
  const work = mkdtempSync(join(tmpdir(), 'strictws-pack-'));
  const app = join(work, 'app');
  let tarball: string;

  beforeAll(() => {
    // dist/ is what ships; `npm test` builds it before vitest runs (and `prepare` would build it again).
    expect(existsSync(join(ROOT, 'dist', 'cli', 'index.js'))).toBe(true);
    const [packed] = JSON.parse(ok('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], ROOT));
    tarball = join(work, packed.filename);
    ok('mkdir', [app], work);
    ok('npm', ['install', '--no-audit', '--no-fund', '--no-update-notifier', tarball], app);
  }, 180_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('declares no runtime dependency; redis is an optional peer, and a dev dependency for the tests', () => {
    expect(manifest.dependencies).toBeUndefined();
    expect(manifest.optionalDependencies).toBeUndefined();
    expect(manifest.peerDependencies).toEqual({ redis: REDIS_RANGE });
    expect(manifest.peerDependenciesMeta).toEqual({ redis: { optional: true } });
    expect(manifest.devDependencies.redis).toBe(REDIS_RANGE);
  });

  it('brings nothing but strictws into node_modules', () => {
    const installed = readdirSync(join(app, 'node_modules')).filter((name) => !name.startsWith('.'));
    expect(installed).toEqual(['strictws']);
    const shipped = JSON.parse(readFileSync(join(app, 'node_modules', 'strictws', 'package.json'), 'utf8'));
    expect([shipped.dependencies, shipped.optionalDependencies]).toEqual([undefined, undefined]);
    const lock = JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8'));
    expect(Object.keys(lock.packages).filter((path) => path !== '')).toEqual(['node_modules/strictws']);
  });

  it('ships the MIT LICENSE that package.json names', () => {
    expect(manifest.license).toBe('MIT');
    const license = readFileSync(join(app, 'node_modules', 'strictws', 'LICENSE'), 'utf8');
    expect(license).toMatch(/^MIT License\n\nCopyright \(c\) 2026 the strictws authors\n/);
  });

  it('runs: npx strictws --help', () => {
    const result = run('npx', ['--no-install', 'strictws', '--help'], app);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^Usage: strictws <command>/);
  });

  it.each(['chat', 'vote'])('%s --redis without the redis package says what to install, exit status 2, no stack', (command) => {
    const result = run('npx', ['--no-install', 'strictws', command, '--port', '0', '--redis', 'redis://127.0.0.1:9'], app);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(`strictws: --redis needs the "redis" package: npm install redis@${REDIS_RANGE}\n`);
    expect(result.stdout).toBe('');
  });
});
