/**
 * Interop with a real browser: headless Chromium (Debian's /usr/bin/chromium)
 * driven by playwright-core. The WebSocket code runs inside a page served
 * from http://127.0.0.1 (spec/interop/browser_client.js); only base64 and
 * JSON cross between the page and Node.
 */
import { launchChromium } from '../support/browser.js';
import { peers } from '../support/peers.js';
import { type InteropClient, describeInterop } from './cases.js';
import { BROWSER_CLIENT, scriptClient } from './script-client.js';

async function create({ pageUrl }: { pageUrl: string }): Promise<InteropClient> {
  const browser = await launchChromium();
  const page = await (await browser.newContext()).newPage();
  await page.goto(pageUrl);
  await page.addScriptTag({ path: BROWSER_CLIENT });
  // The call is a string: nothing of ours is compiled into the page.
  return scriptClient(
    (op, args) => page.evaluate(`window.interop.${op}(${JSON.stringify(args)})`) as never,
    () => browser.close(),
  );
}

describeInterop({
  name: 'Chromium',
  peer: peers.chromium,
  reportsPings: false,
  canPing: false,
  offersSubprotocols: true,
  create,
});
