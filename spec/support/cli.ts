/** Start the real `strictws` command as a child process, as users and CI do. */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/strictws.js', import.meta.url));

export interface RunningServer {
  /** e.g. ws://127.0.0.1:40123/ (wss:// with --tls-cert) */
  url: string;
  port: number;
  process: ChildProcess;
  /** Everything the server wrote to stderr (its log). */
  log(): string;
  /** Send a signal (default SIGTERM) and wait for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Run `strictws <command> --port 0 ...args` and wait for its "listening on"
 * line. Needs dist/ (built by `npm ci` through "prepare", or `npm run build`).
 */
export async function startCli(command: string, args: string[] = [], timeoutMs = 10_000): Promise<RunningServer> {
  const child = spawn(process.execPath, [BIN, command, '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  let stdout = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`strictws ${command} did not start: ${stderr}`)), timeoutMs);
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
      const match = /listening on (wss?:\/\/\S+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`strictws ${command} exited with ${code}: ${stderr}`));
    });
  });
  return {
    url,
    port: Number(new URL(url).port),
    process: child,
    log: () => stderr,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null) return child.exitCode;
      child.kill(signal);
      const [code] = await once(child, 'exit');
      return code as number | null;
    },
  };
}
