// Processes for bench/run.ts: building the C tools, starting pinned servers, running pinned wsload.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

const READY_LINE = /listening on/i;
const live = new Set<ChildProcess>();

/** Kill whatever we started if the runner itself is interrupted. */
export function killChildrenOnExit(): void {
  const killAll = () => live.forEach((c) => c.kill('SIGKILL'));
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.on(sig, () => {
      killAll();
      process.exit(130);
    });
}

/** Build a C tool with gcc -O2 unless the binary is newer than its source; `libs` e.g. ['-lz']. */
export function buildC(src: string, bin: string, libs: string[] = []): void {
  if (existsSync(bin) && statSync(bin).mtimeMs >= statSync(src).mtimeMs) return;
  mkdirSync(dirname(bin), { recursive: true });
  process.stderr.write(`building ${bin} from ${src}\n`);
  try {
    execFileSync('gcc', ['-O2', '-o', bin, src, ...libs], { stdio: 'inherit' });
  } catch {
    const hint = libs.includes('-lz')
      ? ' It needs gcc and the zlib headers: apt-get install gcc zlib1g-dev (or your system\'s zlib-devel).'
      : ' It needs gcc: apt-get install gcc.';
    throw new Error(`could not build ${bin} from ${src}.${hint}`);
  }
}

export async function freePort(host: string): Promise<number> {
  const srv = createServer().listen(0, host);
  await once(srv, 'listening');
  const { port } = srv.address() as AddressInfo;
  srv.close();
  await once(srv, 'close');
  return port;
}

/** Soft "Max open files" of a process, from /proc/PID/limits. */
export function openFileLimit(pid: number | 'self'): number {
  const line = readFileSync(`/proc/${pid}/limits`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  const soft = line?.split(/\s{2,}/)[1];
  return soft === 'unlimited' ? Infinity : Number(soft);
}

export function pinned(cpu: number, argv: string[]): string[] {
  return ['taskset', '-c', String(cpu), ...argv];
}

/** The last lines a child printed on stdout and stderr; calls onLine for each. */
function captureLines(child: ChildProcess, onLine: (line: string) => void, keep = 40): string[] {
  const lines: string[] = [];
  for (const stream of [child.stdout, child.stderr])
    createInterface({ input: stream! }).on('line', (line) => {
      lines.push(line);
      if (lines.length > keep) lines.shift();
      onLine(line);
    });
  return lines;
}

export interface RunningServer {
  pid: number;
  /** exit code (or signal name) if the server has exited, else undefined */
  exitStatus(): string | undefined;
  output(): string;
  stop(): Promise<void>;
}

export async function startServer(argv: string[], cwd: string, timeoutMs = 15_000): Promise<RunningServer> {
  const [cmd, ...args] = argv;
  const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let onReadyLine = () => {};
  const lines = captureLines(child, (line) => READY_LINE.test(line) && onReadyLine());
  let status: string | undefined;
  // 'close' rather than 'exit', so that the output is complete by then; rejects if spawn failed.
  const exited = once(child, 'close')
    .then(([code, signal]) => String(code ?? signal), (err: Error) => err.message)
    .then((s) => {
      status = s;
      live.delete(child);
    });
  const output = () => lines.join('\n');
  const stop = async () => {
    if (status !== undefined) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  };

  const ready = new Promise<void>((resolve, reject) => {
    const timeout = () => reject(new Error(`printed no "listening on" line within ${timeoutMs} ms`));
    const timer = setTimeout(timeout, timeoutMs);
    onReadyLine = () => {
      clearTimeout(timer);
      resolve();
    };
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`exited (${status}) before it was ready`));
    });
  });
  try {
    await ready;
  } catch (err) {
    await stop();
    throw new Error(`server \`${argv.join(' ')}\` ${(err as Error).message}\n${output()}`);
  }
  return { pid: child.pid!, exitStatus: () => status, output, stop };
}

/** Run wsload and parse its --json line. */
export async function runWsload(argv: string[], timeoutMs: number): Promise<Record<string, unknown>> {
  const [cmd, ...args] = argv;
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code, signal] = (await once(child, 'close')) as [number | null, string | null];
  clearTimeout(timer);
  live.delete(child);
  const last = stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as Record<string, unknown>;
  } catch {
    throw new Error(`wsload exited ${code ?? signal} without JSON output\n${stdout}${stderr}`);
  }
}
