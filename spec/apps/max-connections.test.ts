/**
 * --max-connections (issue #10 item 6) on `strictws echo`, `chat` and
 * `vote`: past the cap a handshake gets 503 with Retry-After, and the log
 * says so once per window, however many are refused.
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { type Logger } from '../../src/cli/log.js';
import { capReporter } from '../../src/cli/serve.js';
import type { WebSocketServer } from '../../src/server/index.js';
import { BIN, type RunningServer, startCli } from '../support/cli.js';
import { httpGet } from '../runtime/support.js';

const running: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.stop()));
});

async function open(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  await once(ws, 'open');
  return ws;
}

describe.each(['echo', 'chat', 'vote'])('strictws %s --max-connections', (command) => {
  it('refuses handshakes past the cap with 503 and Retry-After, logs it once, and takes new ones when a slot frees', async () => {
    const server = await startCli(command, ['--max-connections', '1']);
    running.push(server);
    const first = await open(server.url);
    const http = server.url.replace('ws:', 'http:');
    const refused = await Promise.all(Array.from({ length: 20 }, () => httpGet(http)));
    expect(refused.map((r) => r.status)).toEqual(Array(20).fill(503));
    expect(refused[0].headers['retry-after']).toBe('5');
    const lines = server.log().split('\n').filter((line) => line.includes('connection cap'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/ warn {2}connection cap reached \(maxConnections 1\): new handshakes get 503/);
    first.close();
    await once(first, 'close');
    // The server's side of the closed connection frees the slot a moment later.
    let status = 0;
    for (let i = 0; i < 50 && status !== 101; i++) {
      status = (await httpGet(http)).status;
      if (status !== 101) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe(101);
  });
});

it('--max-connections must be a positive integer (usage error, exit 2)', () => {
  for (const value of ['0', '=-1', 'many', '1.5']) {
    const flag = value.startsWith('=') ? [`--max-connections${value}`] : ['--max-connections', value];
    const result = spawnSync(process.execPath, [BIN, 'echo', '--port', '0', ...flag], { encoding: 'utf8', timeout: 15_000 });
    expect(result.status, value).toBe(2);
    expect(result.stderr).toContain('--max-connections must be an integer from 1 to');
  }
});

describe('capReporter', () => {
  it('logs the first refusal at once, then one summary per window, then stops', () => {
    vi.useFakeTimers();
    try {
      const lines: string[] = [];
      const log = { warn: (line: string) => lines.push(line) } as unknown as Logger;
      const report = capReporter(log, { options: { maxConnections: 3 } } as WebSocketServer, 1_000);
      for (let i = 0; i < 500; i++) report();
      expect(lines).toEqual(['connection cap reached (maxConnections 3): new handshakes get 503 until connections close']);
      vi.advanceTimersByTime(1_000);
      expect(lines[1]).toBe('connection cap still reached (maxConnections 3): 499 more handshake(s) refused with 503 in the last 1 s');
      vi.advanceTimersByTime(5_000);
      expect(lines).toHaveLength(2);
      report();
      expect(lines).toHaveLength(3);
      expect(lines[2]).toMatch(/^connection cap reached/);
    } finally {
      vi.useRealTimers();
    }
  });
});
