/**
 * A self-signed certificate for 127.0.0.1, made with openssl in a temp dir,
 * for the wss:// and HTTP/2 tests. Needs the openssl peer (peers.ts).
 */
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { createHash, createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';

export interface TestCert {
  dir: string;
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
  /** base64(SHA-256(SubjectPublicKeyInfo)), for Chromium's --ignore-certificate-errors-spki-list. */
  spki: string;
  remove(): void;
}

export function makeCert(): TestCert {
  const dir = mkdtempSync(join(tmpdir(), 'strictws-tls-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: 'pipe' },
  );
  const cert = readFileSync(certFile, 'utf8');
  const spkiDer = createPublicKey(cert).export({ type: 'spki', format: 'der' });
  return {
    dir,
    certFile,
    keyFile,
    cert,
    key: readFileSync(keyFile, 'utf8'),
    spki: createHash('sha256').update(spkiDer).digest('base64'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** One text message to a wss:// echo server with a self-signed certificate, and its reply. */
export async function wssEcho(url: string, data: string): Promise<string> {
  const ws = new WebSocket(url, { rejectUnauthorized: false });
  await once(ws, 'open');
  ws.send(data);
  const [reply] = await once(ws, 'message');
  ws.close();
  await once(ws, 'close');
  return String(reply);
}
