/**
 * The fuzzing server (`strictws conform --serve`): Autobahn's HTTP paths, the
 * server seat's checks (masking, the client's handshake), permessage-deflate
 * negotiated as a server, verdicts that fail for a broken client, and the
 * command's reports and gate.
 */
import { connect } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { negotiate, readOffers, requestsOf } from '../../src/conform/server-peer.js';
import { startFuzzingServer } from '../../src/conform/serve.js';
import { startCli } from '../support/cli.js';
import './autobahn_driver.js';

const runDriver = (globalThis as unknown as { runAutobahnDriver: (ws: unknown, url: string, agent: string) => Promise<number> }).runAutobahnDriver;

/** ws's WebSocket with client options, for the driver (which only passes a URL). */
const configured = (options: WebSocket.ClientOptions) =>
  class extends WebSocket {
    constructor(url: string) {
      super(url, options);
    }
  };

/** The one text message a connection receives before it closes (null: none), and the close code. */
function fetchMessage(url: string): Promise<{ message: string | null; code: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    let message: string | null = null;
    ws.on('message', (data) => (message = String(data)));
    ws.on('close', (code) => resolve({ message, code }));
    ws.on('error', reject);
  });
}

/** Raw HTTP: the status line the server answers `request` with. */
function statusOf(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    let text = '';
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.on('end', () => resolve(text.split('\r\n')[0]));
    socket.on('error', reject);
  });
}

const upgrade = (path: string, extra = '') =>
  `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;

describe('fuzzing server paths', () => {
  it('answers getCaseCount, getCaseInfo and getCaseStatus as Autobahn does, and refuses bad paths and case numbers', async () => {
    const server = await startFuzzingServer({ port: 0, cases: '1.1.1,1.1.2,2.1' });
    try {
      expect(await fetchMessage(`${server.url}/getCaseCount`)).toEqual({ message: '3', code: 1000 });
      const info = await fetchMessage(`${server.url}/getCaseInfo?case=2`);
      expect(JSON.parse(info.message!)).toEqual({ id: '1.1.2', description: 'Send text message message with payload of length 125.' });
      expect(JSON.parse((await fetchMessage(`${server.url}/getCaseStatus?case=3&agent=a`)).message!)).toEqual({ behavior: 'UNKNOWN' });
      await runDriver(WebSocket, server.url, 'a');
      expect(JSON.parse((await fetchMessage(`${server.url}/getCaseStatus?case=3&agent=a`)).message!)).toEqual({ behavior: 'OK' });
      expect(server.run('a').results.map((r) => [r.id, r.behavior, r.behaviorClose])).toEqual([
        ['1.1.1', 'OK', 'OK'],
        ['1.1.2', 'OK', 'OK'],
        ['2.1', 'OK', 'OK'],
      ]);
      expect(await statusOf(server.port, upgrade('/runCase?case=4&agent=a'))).toBe('HTTP/1.1 400 Bad Request');
      expect(await statusOf(server.port, upgrade('/runCase?case=1'))).toBe('HTTP/1.1 400 Bad Request');
      expect(await statusOf(server.port, upgrade('/nothing'))).toBe('HTTP/1.1 404 Not Found');
      expect(await statusOf(server.port, 'GET /getCaseCount HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toBe('HTTP/1.1 426 Upgrade Required');
    } finally {
      await server.close();
    }
  });

  it("FAILS a run whose handshake is not a client's (RFC 6455 §4.2.1) and a client whose frames are not masked (§5.1)", async () => {
    const server = await startFuzzingServer({ port: 0, cases: '1.1.2' });
    try {
      const bad = await statusOf(server.port, upgrade('/runCase?case=1&agent=raw').replace('Sec-WebSocket-Version: 13', 'Sec-WebSocket-Version: 8'));
      expect(bad).toBe('HTTP/1.1 400 Bad Request');
      expect(server.run('raw').results[0]).toMatchObject({ behavior: 'FAILED', reason: expect.stringContaining('Sec-WebSocket-Version') });

      // A client that echoes the message in an unmasked frame.
      await new Promise<void>((resolve, reject) => {
        const socket = connect(server.port, '127.0.0.1', () => socket.write(upgrade('/runCase?case=1&agent=raw')));
        let got = Buffer.alloc(0);
        let echoed = false;
        socket.on('data', (d: Buffer) => {
          got = Buffer.concat([got, d]);
          const end = got.indexOf('\r\n\r\n');
          // The 101, then a 125-byte text frame (2-byte header): echo its payload unmasked.
          if (!echoed && end >= 0 && got.length >= end + 4 + 2 + 125) {
            echoed = true;
            socket.write(Buffer.concat([Buffer.from([0x81, 125]), got.subarray(end + 6, end + 6 + 125)]));
          }
        });
        socket.on('close', () => resolve());
        socket.on('error', reject);
      });
      expect(server.run('raw').results[0]).toMatchObject({ behavior: 'FAILED', reason: expect.stringContaining('client frame is not masked') });
    } finally {
      await server.close();
    }
  });

  it('judges a client that skips UTF-8 validation FAILED on invalid UTF-8, and OK with validation', async () => {
    const server = await startFuzzingServer({ port: 0, cases: '6.3.1' });
    const Lax = configured({ skipUTF8Validation: true });
    try {
      await runDriver(Lax, server.url, 'lax');
      await runDriver(WebSocket, server.url, 'strict');
      expect(server.run('lax').results[0]).toMatchObject({ id: '6.3.1', behavior: 'FAILED' });
      expect(server.run('strict').results[0]).toMatchObject({ id: '6.3.1', behavior: 'OK', behaviorClose: 'OK', remoteCloseCode: 1007 });
    } finally {
      await server.close();
    }
  });

  it('runs the compression cases with the agreed parameters, and is UNIMPLEMENTED for a client that offers none', async () => {
    const server = await startFuzzingServer({ port: 0, cases: '13.5.1' });
    const Plain = configured({ perMessageDeflate: false });
    try {
      await runDriver(WebSocket, server.url, 'deflate');
      await runDriver(Plain, server.url, 'plain');
      const ok = server.run('deflate').results[0];
      expect(ok).toMatchObject({ behavior: 'OK', behaviorClose: 'OK' });
      // 13.5: (requestNoContextTakeover, requestMaxWindowBits) = (True, 9), asked of the client.
      expect(ok.observation).toContain('permessage-deflate agreed: permessage-deflate; client_no_context_takeover; client_max_window_bits=9');
      expect(server.run('plain').results[0]).toMatchObject({ behavior: 'UNIMPLEMENTED', reason: 'the client did not offer permessage-deflate' });
    } finally {
      await server.close();
    }
  });
});

describe('permessage-deflate as a server negotiates it (RFC 7692 §7.1)', () => {
  it('asks for client_max_window_bits only when offered, honours server_* parameters, declines what it cannot do', () => {
    const thirteenSeven = requestsOf(
      'permessage-deflate; client_no_context_takeover; client_max_window_bits; server_no_context_takeover; server_max_window_bits=9, permessage-deflate; client_no_context_takeover; client_max_window_bits; server_no_context_takeover, permessage-deflate; client_no_context_takeover; client_max_window_bits',
    );
    expect(thirteenSeven).toEqual([
      { noContextTakeover: true, maxWindowBits: 9 },
      { noContextTakeover: true, maxWindowBits: 0 },
      { noContextTakeover: false, maxWindowBits: 0 },
    ]);
    // The client did not offer client_max_window_bits: the first request cannot be made, the second is.
    expect(negotiate(readOffers('permessage-deflate'), thirteenSeven)?.response).toBe('permessage-deflate; client_no_context_takeover');
    expect(negotiate(readOffers('permessage-deflate; client_max_window_bits'), thirteenSeven)?.response).toBe('permessage-deflate; client_no_context_takeover; client_max_window_bits=9');
    const honoured = negotiate(readOffers('permessage-deflate; server_no_context_takeover; server_max_window_bits=10'), [{ noContextTakeover: false, maxWindowBits: 0 }])!;
    expect(honoured.response).toBe('permessage-deflate; server_no_context_takeover; server_max_window_bits=10');
    expect(honoured.ours).toEqual({ clientNoContextTakeover: true, clientMaxWindowBits: 10, serverNoContextTakeover: false, serverMaxWindowBits: 15 });
    expect(negotiate(readOffers('permessage-deflate; server_max_window_bits=8'), [{ noContextTakeover: false, maxWindowBits: 0 }])).toBeUndefined();
    expect(readOffers('permessage-deflate; foo, permessage-deflate; server_max_window_bits=16, x-webkit-deflate-frame')).toEqual([]);
  });
});

describe('strictws conform --serve', () => {
  const dir = mkdtempSync(join(tmpdir(), 'strictws-serve-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const args = ['--serve', '--once', '-q', '--cases', '1.1.1,2.1,6.3.1', '--out', join(dir, 'out'), '--expected', join(dir, '{agent}.json')];

  it('writes the reports and the expected verdicts per agent with --update, then gates on them (exit 1 on a difference)', async () => {
    const first = await startCli('conform', [...args, '--update']);
    await runDriver(WebSocket, first.url, 'my client/1.0');
    expect(await first.stop('SIGCONT')).toBe(0);
    const expectedFile = join(dir, 'my_client_1.0.json');
    const expected = JSON.parse(readFileSync(expectedFile, 'utf8'));
    expect(Object.keys(expected.cases)).toEqual(['1.1.1', '2.1', '6.3.1']);
    const index = JSON.parse(readFileSync(join(dir, 'out', 'my_client_1.0', 'index.json'), 'utf8'));
    expect(index['my client/1.0']['6.3.1']).toMatchObject({ behavior: 'OK', behaviorClose: 'OK', remoteCloseCode: 1007, reportfile: 'my_client_1_0_case_6_3_1.json' });
    expect(existsSync(join(dir, 'out', 'my_client_1.0', 'index.html'))).toBe(true);
    expect(readFileSync(join(dir, 'out', 'my_client_1.0', 'junit.xml'), 'utf8').match(/<testcase /g)).toHaveLength(3);

    const holds = await startCli('conform', args);
    await runDriver(WebSocket, holds.url, 'my client/1.0');
    expect(await holds.stop('SIGCONT')).toBe(0);
    expect(holds.log()).toContain('every verdict matches');

    expected.cases['2.1'] = { behavior: 'FAILED', behaviorClose: 'OK' };
    writeFileSync(expectedFile, JSON.stringify(expected));
    const differs = await startCli('conform', args);
    await runDriver(WebSocket, differs.url, 'my client/1.0');
    expect(await differs.stop('SIGCONT')).toBe(1);
    expect(differs.log()).toContain('2.1: expected FAILED (close OK), got OK');
  });

  it('fails the gate when the client ran only some of the cases', async () => {
    const partial = await startCli('conform', args);
    await fetchMessage(`${partial.url}/runCase?case=1&agent=my%20client%2F1.0`);
    await fetchMessage(`${partial.url}/updateReports?agent=my%20client%2F1.0`);
    expect(await partial.stop('SIGCONT')).toBe(1);
    expect(partial.log()).toContain('the client ran 1 of 3 cases; not run: 2.1, 6.3.1');
  });
});
