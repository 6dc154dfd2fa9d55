/**
 * Real peers (Chromium, Python's websockets, redis-server, openssl) for interop tests.
 * Locally a missing peer skips its tests with a visible reason; with
 * STRICTWS_REQUIRE_PEERS=1 (set by .ci/run) a missing peer is a failure.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const REQUIRE_PEERS = process.env.STRICTWS_REQUIRE_PEERS === '1';

export const CHROMIUM = process.env.STRICTWS_CHROMIUM ?? '/usr/bin/chromium';
/** Debian's interpreter: python3-websockets installs for it, not for pyenv's. */
export const DEBIAN_PYTHON = '/usr/bin/python3';

export interface Peer {
  name: string;
  /** Why it is missing, or undefined when it is here. */
  missing: string | undefined;
}

function probe(name: string, check: () => void): Peer {
  try {
    check();
    return { name, missing: undefined };
  } catch (error) {
    return { name, missing: (error as Error).message.split('\n')[0] };
  }
}

export const peers = {
  chromium: probe('chromium', () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found (apt-get install chromium)`);
  }),
  pythonWebsockets: probe('python3-websockets', () => {
    execFileSync(DEBIAN_PYTHON, ['-c', 'import websockets'], { stdio: 'pipe' });
  }),
  redis: probe('redis-server', () => {
    execFileSync('redis-server', ['--version'], { stdio: 'pipe' });
  }),
  openssl: probe('openssl', () => {
    execFileSync('openssl', ['version'], { stdio: 'pipe' });
  }),
};

/**
 * Whether tests that need `peer` should be skipped. Throws when the peer is
 * missing and peers are required, so the suite fails instead of skipping.
 */
export function skipWithout(peer: Peer): boolean {
  if (peer.missing === undefined) return false;
  if (REQUIRE_PEERS) {
    throw new Error(`required peer ${peer.name} is missing: ${peer.missing} (STRICTWS_REQUIRE_PEERS=1)`);
  }
  console.warn(`skipping ${peer.name} tests: ${peer.missing}`);
  return true;
}
