/**
 * `strictws conform` over other transports (issue #13): wss:// with and
 * without --insecure, --http2 (RFC 8441 extended CONNECT) over h2c and over
 * h2 by ALPN, servers that cannot take WebSockets over HTTP/2, and the
 * fuzzing server on wss://.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { type Http2Server, type ServerHttp2Stream, createServer as createH2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { TargetError, runConformance } from '../../src/conform/index.js';
import { startFuzzingServer } from '../../src/conform/serve.js';
import { BIN, type RunningServer, startCli } from '../support/cli.js';
import { peers, skipWithout } from '../support/peers.js';
import { type TestCert, makeCert } from '../support/tls.js';

const skip = skipWithout(peers.openssl);

type Run = Awaited<ReturnType<typeof runConformance>>;
const verdicts = (run: Run) => Object.fromEntries(run.results.map((r) => [r.id, r.behavior]));

/** `strictws conform ...`: exit code and stderr. */
async function cli(args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await promisify(execFile)(process.execPath, [BIN, 'conform', ...args], { timeout: 60_000 });
    return { code: 0, stderr };
  } catch (error) {
    const e = error as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
}

/** A node:http2 server on a free port whose streams `onStream` handles. */
async function h2Server(settings: { enableConnectProtocol: boolean }, onStream: (stream: ServerHttp2Stream) => void): Promise<{ server: Http2Server; url: string }> {
  const server = createH2Server({ settings });
  server.on('stream', (stream) => {
    stream.on('error', () => {});
    onStream(stream);
  });
  server.on('sessionError', () => {});
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

describe.skipIf(skip)('conform against wss:// and over HTTP/2', () => {
  let cert: TestCert;
  let tlsEcho: RunningServer;
  let h2cEcho: RunningServer;
  beforeAll(async () => {
    cert = makeCert();
    [tlsEcho, h2cEcho] = await Promise.all([startCli('echo', ['--tls-cert', cert.certFile, '--tls-key', cert.keyFile, '--log-level', 'error']), startCli('echo', ['--http2', '--log-level', 'error'])]);
  });
  afterAll(async () => {
    await Promise.all([tlsEcho?.stop(), h2cEcho?.stop()]);
    cert?.remove();
  });

  it('refuses a self-signed certificate before any case runs, and says to pass --insecure (the CLI exits 2)', async () => {
    expect(tlsEcho.url).toMatch(/^wss:/);
    const refused = await runConformance({ url: tlsEcho.url, cases: '1.1.1' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(TargetError);
    expect((refused as TargetError).code).toBe('UNTRUSTED_CERTIFICATE');
    expect((refused as Error).message).toMatch(/not trusted \(DEPTH_ZERO_SELF_SIGNED_CERT\).*--insecure/);
    const { code, stderr } = await cli([tlsEcho.url, '--cases', '1.1.1', '--out', `${cert.dir}/refused`]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/is not trusted.*pass --insecure/);
  });

  it('with insecure, runs the cases over TLS (HTTP/1.1 by ALPN), the RFC 6455 upgrade included', async () => {
    const run = await runConformance({ url: tlsEcho.url, insecure: true, cases: '1.1.1,5.1,H.1.1,H.2.1,C.3.2' });
    expect(verdicts(run)).toEqual({ '1.1.1': 'OK', '5.1': 'OK', 'H.1.1': 'OK', 'H.2.1': 'OK', 'C.3.2': 'OK' });
  });

  it('--insecure with a ws:// URL is a usage error', async () => {
    const { code, stderr } = await cli([h2cEcho.url, '--insecure']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--insecure applies to wss:\/\//);
  });

  it('--http2 over h2c: every case on an extended CONNECT stream; the HTTP/1.1 handshake cases UNIMPLEMENTED with the reason; the E family added', async () => {
    const run = await runConformance({ url: h2cEcho.url, http2: true, cases: '1.1.1,7.1.1,H.1.1,H.2.1,C.3.1,C.3.2,E.*' });
    const v = verdicts(run);
    expect(Object.keys(v).filter((id) => id.startsWith('E.'))).toHaveLength(11);
    for (const [id, behavior] of Object.entries(v)) expect([id, behavior]).toEqual([id, id.startsWith('H.') ? 'UNIMPLEMENTED' : 'OK']);
    const h = run.results.find((r) => r.id === 'H.2.1')!;
    expect(h.reason).toMatch(/^not applicable over HTTP\/2 \(RFC 8441\): the case tests the HTTP\/1\.1 upgrade request/);
    expect(h.observation).toContain('not applicable over HTTP/2');
    expect(run.url).toMatch(/over HTTP\/2, RFC 8441: h2c with prior knowledge/);
    // The wire log shows the extended CONNECT and the 200, then the frames.
    const log = run.results.find((r) => r.id === '1.1.1')!.wire[0].entries;
    expect(log[0].note).toMatch(/^client HEADERS :method: CONNECT, :protocol: websocket, :scheme: http/);
    expect(log[1].note).toMatch(/^server HEADERS :status: 200/);
    expect(log.some((e) => e.dir === '>' && e.hex)).toBe(true);
  });

  it('--http2 over TLS: h2 by ALPN, with insecure', async () => {
    const run = await runConformance({ url: tlsEcho.url, insecure: true, http2: true, cases: '1.1.1,E.1.1,E.2.1' });
    expect(verdicts(run)).toEqual({ '1.1.1': 'OK', 'E.1.1': 'OK', 'E.2.1': 'OK' });
    expect(run.url).toMatch(/h2 by ALPN/);
  });

  it('--http2 against a server that speaks only HTTP/1.1 is a clear error, at once', async () => {
    const plain = await startCli('echo', ['--log-level', 'error']);
    try {
      const started = Date.now();
      const refused = await runConformance({ url: plain.url, http2: true, cases: '1.1.1' }).catch((error: unknown) => error);
      expect((refused as TargetError).code).toBe('NO_HTTP2');
      expect((refused as Error).message).toMatch(/^no HTTP\/2 connection to ws:\/\/127\.0\.0\.1:\d+\//);
      // Told by the server's answer, not by our wait for its SETTINGS running out.
      expect((refused as Error).message).not.toMatch(/within/);
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      await plain.stop();
    }
  });
});

describe('conform --http2 against HTTP/2 servers that are not RFC 8441 servers', () => {
  it('--http2 against a wss:// server whose ALPN offers only http/1.1 says so', async () => {
    if (skip) return;
    const cert = makeCert();
    const server = await startFuzzingServer({ port: 0, cases: '1.1.1', tls: { cert: cert.cert, key: cert.key } });
    try {
      const refused = await runConformance({ url: `${server.url}/`, insecure: true, http2: true, cases: '1.1.1' }).catch((error: unknown) => error);
      expect((refused as TargetError).code).toBe('NO_HTTP2');
      expect((refused as Error).message).toMatch(/chose "http\/1\.1" by ALPN, not "h2"/);
    } finally {
      await server.close();
      cert.remove();
    }
  });

  it('a server without SETTINGS_ENABLE_CONNECT_PROTOCOL: a clear error before any case, not a hang (the CLI exits 2)', async () => {
    const { server, url } = await h2Server({ enableConnectProtocol: false }, (stream) => stream.respond({ ':status': 200 }));
    try {
      const started = Date.now();
      const refused = await runConformance({ url, http2: true, cases: '1.1.1' }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(TargetError);
      expect((refused as TargetError).code).toBe('NO_EXTENDED_CONNECT');
      expect((refused as Error).message).toMatch(/does not send SETTINGS_ENABLE_CONNECT_PROTOCOL = 1.*RFC 8441 §3/);
      expect(Date.now() - started).toBeLessThan(15_000);
      const { code, stderr } = await cli([url, '--http2', '--cases', '1.1.1']);
      expect(code).toBe(2);
      expect(stderr).toMatch(/SETTINGS_ENABLE_CONNECT_PROTOCOL/);
    } finally {
      server.close();
    }
  });

  it('a server that answers every extended CONNECT with 200 and echoes the bytes fails the cases and the E family says why', async () => {
    // Allows extended CONNECT, then takes anything: no version check, an echo of raw bytes (unmasked frames back).
    const { server, url } = await h2Server({ enableConnectProtocol: true }, (stream) => {
      stream.respond({ ':status': 200 });
      stream.pipe(stream);
    });
    try {
      const run = await runConformance({ url, http2: true, cases: '1.1.1,E.2.1,E.2.3' });
      expect(verdicts(run)).toEqual({ '1.1.1': 'FAILED', 'E.2.1': 'FAILED', 'E.2.3': 'FAILED' });
      const byId = Object.fromEntries(run.results.map((r) => [r.id, r.reason]));
      expect(byId['E.2.1']).toMatch(/expected HTTP 426, got HTTP 200/);
      expect(byId['1.1.1']).toMatch(/mask/i);
    } finally {
      server.close();
    }
  });

  it('a server that resets every stream: each case FAILED with the reset named', async () => {
    const { server, url } = await h2Server({ enableConnectProtocol: true }, (stream) => stream.close(0x7));
    try {
      const run = await runConformance({ url, http2: true, cases: '1.1.1,E.1.1' });
      expect(verdicts(run)).toEqual({ '1.1.1': 'FAILED', 'E.1.1': 'FAILED' });
      for (const r of run.results) expect(r.reason).toMatch(/RST_STREAM REFUSED_STREAM/);
    } finally {
      server.close();
    }
  });
});

describe.skipIf(skip)('conform --serve on wss://', () => {
  let cert: TestCert;
  beforeAll(() => {
    cert = makeCert();
  });
  afterAll(() => cert?.remove());

  it('serves the fuzzing paths over TLS', async () => {
    const server = await startFuzzingServer({ port: 0, cases: '1.1.1,1.1.2', tls: { cert: cert.cert, key: cert.key } });
    try {
      expect(server.url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+$/);
      const ws = new WebSocket(`${server.url}/getCaseCount`, { rejectUnauthorized: false });
      const [message] = (await once(ws, 'message')) as [Buffer];
      expect(String(message)).toBe('2');
      ws.close();
    } finally {
      await server.close();
    }
  });

  it('the CLI takes --tls-cert/--tls-key, prints the wss:// URL, and refuses a bad key with exit 2', async () => {
    const serve = await startCli('conform', ['--serve', '--tls-cert', cert.certFile, '--tls-key', cert.keyFile, '--cases', '1.1.1']);
    try {
      expect(serve.url).toMatch(/^wss:/);
    } finally {
      await serve.stop();
    }
    const bad = await cli(['--serve', '--port', '0', '--tls-cert', cert.certFile, '--tls-key', cert.certFile]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--tls-cert .* \/ --tls-key .*: /);
    const half = await cli(['--serve', '--port', '0', '--tls-cert', cert.certFile]);
    expect(half.code).toBe(2);
    expect(half.stderr).toMatch(/--tls-cert needs --tls-key/);
  });
});
