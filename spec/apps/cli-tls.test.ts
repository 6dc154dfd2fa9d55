/**
 * The commands with TLS and HTTP/2 (issue #13): --tls-cert/--tls-key serve
 * wss:// and the page over https:// on one port, HTTP/1.1 and HTTP/2 (RFC
 * 8441) by ALPN; --http2 without TLS takes h2c; bad certificates are usage
 * errors (exit 2) with a clear message.
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { BIN, type RunningServer, startCli } from '../support/cli.js';
import { bodyOf, h2Session, h2WebSocket } from '../support/h2.js';
import { peers, skipWithout } from '../support/peers.js';
import { type TestCert, makeCert, wssEcho } from '../support/tls.js';
import { OP, clientFrame, waitFor } from '../runtime/support.js';

const skip = skipWithout(peers.openssl);
let cert: TestCert;
let other: TestCert;
beforeAll(() => {
  if (skip) return;
  cert = makeCert();
  other = makeCert();
});
afterAll(() => {
  cert?.remove();
  other?.remove();
});

function run(...args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 15_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

async function h2Echo(origin: string, data: string): Promise<string> {
  const session = await h2Session(origin);
  try {
    const client = await h2WebSocket(session);
    client.send(clientFrame(OP.TEXT, data));
    await client.until(() => client.frames.length === 1);
    client.socket.close();
    return client.frames[0].payload.toString();
  } finally {
    session.close();
  }
}

describe.skipIf(skip)('strictws echo --tls-cert --tls-key', () => {
  let echo: RunningServer;
  beforeAll(async () => {
    echo = await startCli('echo', ['--tls-cert', cert.certFile, '--tls-key', cert.keyFile]);
  });
  afterAll(async () => {
    await echo?.stop();
  });

  it('prints the wss:// URL and serves the page over https', async () => {
    expect(echo.url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/$/);
    const session = await h2Session(`https://127.0.0.1:${echo.port}`);
    const page = session.request({ ':path': '/' });
    const [response] = await once(page, 'response');
    expect(response[':status']).toBe(200);
    expect(await bodyOf(page)).toContain('<html');
    session.close();
  });

  it('echoes over HTTP/1.1 and over HTTP/2 on the same port, and the log names each', async () => {
    expect(await wssEcho(echo.url, 'one-one')).toBe('one-one');
    expect(await h2Echo(`https://127.0.0.1:${echo.port}`, 'two')).toBe('two');
    await waitFor(() => /over HTTP\/2/.test(echo.log()), 5_000, 'the log line');
    expect(echo.log()).toMatch(/#\d+ open from 127\.0\.0\.1 over HTTP\/1\.1/);
    expect(echo.log()).toMatch(/#\d+ open from 127\.0\.0\.1 over HTTP\/2/);
  });
});

describe.skipIf(skip)('chat and vote with TLS', () => {
  for (const command of ['chat', 'vote']) {
    it(`${command} prints a wss:// URL and takes a wss:// WebSocket`, async () => {
      const server = await startCli(command, ['--tls-cert', cert.certFile, '--tls-key', cert.keyFile]);
      try {
        expect(server.url).toMatch(/^wss:\/\//);
        const ws = new WebSocket(server.url, { rejectUnauthorized: false });
        await once(ws, 'open');
        ws.close();
        await once(ws, 'close');
      } finally {
        await server.stop();
      }
    });
  }
});

describe('strictws echo --http2 (h2c with prior knowledge)', () => {
  it('takes h2c WebSockets and still the HTTP/1.1 upgrade on one port', async () => {
    const server = await startCli('echo', ['--http2']);
    try {
      expect(server.url).toMatch(/^ws:\/\//);
      expect(await h2Echo(`http://127.0.0.1:${server.port}`, 'cleartext h2')).toBe('cleartext h2');
      const ws = new WebSocket(server.url);
      await once(ws, 'open');
      ws.close();
      await waitFor(() => /over HTTP\/2/.test(server.log()), 5_000, 'the log line');
    } finally {
      await server.stop();
    }
  });

  it('without --http2, an h2c preface is not taken', async () => {
    const server = await startCli('echo');
    try {
      await expect(h2Session(`http://127.0.0.1:${server.port}`)).rejects.toThrow();
    } finally {
      await server.stop();
    }
  });
});

describe.skipIf(skip)('bad certificates and keys are usage errors (exit 2), not stack traces', () => {
  it('a key that is not the certificate’s', () => {
    const { code, stderr } = run('echo', '--port', '0', '--tls-cert', cert.certFile, '--tls-key', other.keyFile);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^strictws: --tls-cert .* \/ --tls-key .*: .*key values mismatch/);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('an unreadable file', () => {
    const { code, stderr } = run('echo', '--port', '0', '--tls-cert', join(cert.dir, 'missing.pem'), '--tls-key', cert.keyFile);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^strictws: --tls-cert: cannot read .*missing\.pem: ENOENT/);
  });

  it('a file that is not PEM', () => {
    const garbage = join(cert.dir, 'garbage.pem');
    writeFileSync(garbage, 'not a certificate\n');
    const { code, stderr } = run('echo', '--port', '0', '--tls-cert', garbage, '--tls-key', cert.keyFile);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^strictws: --tls-cert .*garbage\.pem/);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('one of the pair alone', () => {
    expect(run('echo', '--tls-cert', cert.certFile)).toMatchObject({ code: 2, stderr: expect.stringMatching(/--tls-cert needs --tls-key/) });
    expect(run('echo', '--tls-key', cert.keyFile)).toMatchObject({ code: 2, stderr: expect.stringMatching(/--tls-key needs --tls-cert/) });
  });
});
