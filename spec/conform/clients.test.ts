/**
 * `strictws conform --serve` against four real WebSocket clients, each driven
 * by the Autobahn driver loop (autobahn_driver.js / .py) and gated on its
 * committed verdicts in autobahn/clients/<agent>.expected.json.
 *
 * Selections (to keep npm test reasonable; docs/conformance.md): the Node
 * clients run sections 1-10 whole, Chromium and python3-websockets sections
 * 1-7 and 10; all four run one case of each compression subsection (12.N.1,
 * 13.N.1); Chromium leaves out 3.2-3.4 and python3-websockets 3.2-3.3 (below). STRICTWS_UPDATE_CLIENTS=1 rewrites the expected files from the run.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { WebSocket as UndiciWebSocket } from 'undici';
import WebSocket from 'ws';
import { compare, describeDifference, readExpected, writeExpected } from '../../src/conform/index.js';
import { startFuzzingServer } from '../../src/conform/serve.js';
import { launchChromium } from '../support/browser.js';
import { DEBIAN_PYTHON, peers, skipWithout } from '../support/peers.js';
import './autobahn_driver.js';

const DRIVER_JS = fileURLToPath(new URL('./autobahn_driver.js', import.meta.url));
const DRIVER_PY = fileURLToPath(new URL('./autobahn_driver.py', import.meta.url));
const expectedFile = (agent: string) => fileURLToPath(new URL(`../../autobahn/clients/${agent}.expected.json`, import.meta.url));

type Driver = (url: string, agent: string) => Promise<void>;
const runDriver = (globalThis as unknown as { runAutobahnDriver: (ws: unknown, url: string, agent: string) => Promise<number> }).runAutobahnDriver;

const COMPRESSION = [1, 2, 3, 4, 5].map((i) => `12.${i}.1`).concat([1, 2, 3, 4, 5, 6, 7].map((i) => `13.${i}.1`)).join(',');
const NODE_CASES = `1.*,2.*,3.*,4.*,5.*,6.*,7.*,9.*,10.*,${COMPRESSION}`;
const SLOW_CLIENT_CASES = `1.*,2.*,3.*,4.*,5.*,6.*,7.*,10.*,${COMPRESSION}`;

async function chromium(url: string, agent: string): Promise<void> {
  const browser = await launchChromium();
  try {
    const page = await (await browser.newContext()).newPage();
    await page.addScriptTag({ path: DRIVER_JS });
    // A string: nothing of ours is compiled into the page; the browser's own WebSocket runs the cases.
    await page.evaluate(`runAutobahnDriver(WebSocket, ${JSON.stringify(url)}, ${JSON.stringify(agent)})`);
  } finally {
    await browser.close();
  }
}

async function python(url: string, agent: string): Promise<void> {
  await promisify(execFile)(DEBIAN_PYTHON, [DRIVER_PY, url, agent], { timeout: 600_000 });
}

const CLIENTS: { agent: string; cases: string; exclude?: string; skip: () => boolean; drive: Driver }[] = [
  { agent: 'ws', cases: NODE_CASES, skip: () => false, drive: async (url, agent) => void (await runDriver(WebSocket, url, agent)) },
  { agent: 'undici', cases: NODE_CASES, skip: () => false, drive: async (url, agent) => void (await runDriver(UndiciWebSocket, url, agent)) },
  // 3.2-3.4 race Chromium's echo (one write per frame) against its failing the bad frame: OK or NON-STRICT from run to run.
  { agent: 'chromium', cases: SLOW_CLIENT_CASES, exclude: '3.2,3.3,3.4', skip: () => skipWithout(peers.chromium), drive: chromium },
  // 3.2-3.3 race the same way for python3-websockets under load (its 3.4 gets the bad frame byte by byte, after the echo).
  { agent: 'python3-websockets', cases: SLOW_CLIENT_CASES, exclude: '3.2,3.3', skip: () => skipWithout(peers.pythonWebsockets), drive: python },
];

describe('strictws conform --serve against real clients', () => {
  for (const client of CLIENTS) {
    it.skipIf(client.skip())(`${client.agent}: every selected case runs and every verdict matches autobahn/clients/${client.agent}.expected.json`, async () => {
      const server = await startFuzzingServer({ port: 0, cases: client.cases, exclude: client.exclude });
      try {
        await client.drive(server.url, client.agent);
        const run = server.run(client.agent);
        expect(run.results.map((r) => r.id)).toEqual(server.cases.map((c) => c.id));
        const file = expectedFile(client.agent);
        if (process.env.STRICTWS_UPDATE_CLIENTS === '1') writeExpected(file, readExpected(file), run.results, run.allIds, client.agent);
        const differences = compare(readExpected(file), run.results, run.allIds, run.selected);
        expect(differences.map(describeDifference)).toEqual([]);
        // The verdicts are not all alike: a client that fails bad frames is OK there, and the cases can fail.
        expect(run.results.filter((r) => r.behavior === 'OK').length).toBeGreaterThan(run.results.length / 2);
      } finally {
        await server.close();
      }
    }, 900_000);
  }
});
