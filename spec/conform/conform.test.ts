/**
 * `strictws conform` judges with Autobahn's verdict classes: checked against
 * peers whose behaviour differs in known ways (ws without permessage-deflate
 * fails invalid UTF-8 only at the end of a fragmented message, and declines
 * compression; a raw server that echoes everything breaks the protocol), and
 * its reports have the shapes other tools read.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { type AddressInfo, type Server, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { renderJunit, runConformance, writeAutobahnJson } from '../../src/conform/index.js';
import { type RunningServer, startCli } from '../support/cli.js';

function verdicts(run: Awaited<ReturnType<typeof runConformance>>): Record<string, string> {
  return Object.fromEntries(run.results.map((r) => [r.id, `${r.behavior}/${r.behaviorClose}`]));
}

describe('strictws conform against ws 8 without permessage-deflate', () => {
  let wss: WebSocketServer;
  let url: string;
  beforeAll(async () => {
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
    wss.on('connection', (ws) => {
      ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
      ws.on('error', () => {});
    });
    await new Promise((resolve) => wss.once('listening', resolve));
    url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise((resolve) => wss.close(resolve)));

  it('rates late UTF-8 failure NON-STRICT, a declined extension UNIMPLEMENTED, unjudged closes INFORMATIONAL (as Autobahn does for ws)', async () => {
    const run = await runConformance({ url, cases: '6.4.1,6.4.3,6.3.1,12.1.1,13.7.1,7.13.1,2.7,3.2', agent: 'ws' });
    expect(verdicts(run)).toEqual({
      '2.7': 'OK/OK',
      '3.2': 'OK/OK',
      '6.3.1': 'OK/OK',
      '6.4.1': 'NON-STRICT/OK',
      '6.4.3': 'NON-STRICT/OK',
      '7.13.1': 'INFORMATIONAL/INFORMATIONAL',
      '12.1.1': 'UNIMPLEMENTED/OK',
      '13.7.1': 'UNIMPLEMENTED/OK',
    });
  });
});

describe('strictws conform against a server that breaks the protocol', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    // Answers any upgrade request with a 101 (and a wrong accept key), then echoes raw bytes back.
    server = createServer((socket) => {
      let upgraded = false;
      socket.on('data', (chunk) => {
        if (upgraded) return void socket.write(chunk);
        upgraded = true;
        socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n');
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('fails every case and says why, and the reports carry the failures', async () => {
    const run = await runConformance({ url, cases: '1.1.1,5.1', agent: 'broken' });
    expect(run.results.map((r) => r.behavior)).toEqual(['FAILED', 'FAILED']);
    expect(run.results[0].reason).toMatch(/Sec-WebSocket-Accept/);
    const junit = renderJunit(run);
    expect(junit.match(/<testcase /g)).toHaveLength(2);
    expect(junit.match(/<failure /g)).toHaveLength(2);
  });
});

describe('strictws conform against strictws echo', () => {
  let echo: RunningServer;
  beforeAll(async () => {
    echo = await startCli('echo', ['--log-level', 'error']);
  });
  afterAll(() => echo.stop());

  it('rates fail-fast UTF-8 OK and writes index.json in Autobahn\'s shape with one file per case', async () => {
    const run = await runConformance({ url: new URL('/c', echo.url).href, cases: '6.4.*,7.1.6,U.5.1', agent: 'strictws-echo' });
    expect(verdicts(run)).toEqual({
      '6.4.1': 'OK/OK',
      '6.4.2': 'OK/OK',
      '6.4.3': 'OK/OK',
      '6.4.4': 'OK/OK',
      '7.1.6': 'INFORMATIONAL/INFORMATIONAL',
      'U.5.1': 'OK/OK',
    });
    const dir = mkdtempSync(join(tmpdir(), 'conform-'));
    writeAutobahnJson(run, dir);
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as Record<string, Record<string, { behavior: string; behaviorClose: string; duration: number; remoteCloseCode: number | null; reportfile: string }>>;
    expect(Object.keys(index)).toEqual(['strictws-echo']);
    const c = index['strictws-echo']['6.4.1'];
    expect(c).toMatchObject({ behavior: 'OK', behaviorClose: 'OK', remoteCloseCode: 1007, reportfile: 'strictws_echo_case_6_4_1.json' });
    const detail = JSON.parse(readFileSync(join(dir, c.reportfile), 'utf8')) as { description: string; expectation: string };
    expect(detail.description).toMatch(/^Send invalid UTF-8 text message in 3 fragments/);
    expect(detail.expectation).toMatch(/fail fast on UTF-8/);
  });
});
