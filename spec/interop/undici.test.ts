/**
 * Interop with undici's WebSocket, the WHATWG WebSocket Node's global one is
 * built from. It runs the same client script as Chromium (browser_client.js),
 * in a node:vm context whose WebSocket is undici's. Like a browser's, it
 * answers pings by itself but exposes neither pings nor pongs: the server
 * observes its pongs instead.
 */
import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { WebSocket } from 'undici';
import { describeInterop } from './cases.js';
import { BROWSER_CLIENT, scriptClient } from './script-client.js';

function create() {
  const window: { interop?: Record<string, (args: object) => Promise<unknown>> } = {};
  runInNewContext(readFileSync(BROWSER_CLIENT, 'utf8'), { window, WebSocket, atob, btoa }, { filename: BROWSER_CLIENT });
  // A JSON round trip, as across the page boundary: results come back as this realm's objects.
  return Promise.resolve(
    scriptClient(async (op, args) => JSON.parse(JSON.stringify(await window.interop![op](args)))),
  );
}

describeInterop({
  name: 'undici WebSocket',
  reportsPings: false,
  canPing: false,
  offersSubprotocols: true,
  create,
});
