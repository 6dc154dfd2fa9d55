/**
 * Interop with a real browser: headless Chromium (Debian's /usr/bin/chromium)
 * driven by playwright-core. The WebSocket code runs inside a page served
 * from http://127.0.0.1 (spec/interop/browser_client.js); only base64 and
 * JSON cross between the page and Node.
 */
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../support/browser.js';
import { peers } from '../support/peers.js';
import { type InteropClient, type Session, type WireMessage, describeInterop, fromWire, toWire } from './cases.js';

const BROWSER_CLIENT = fileURLToPath(new URL('./browser_client.js', import.meta.url));

/** Call window.interop[op](args) in the page. The call is a string: nothing of ours is compiled into the page. */
function call<T>(page: Page, op: string, args: object): Promise<T> {
  return page.evaluate(`window.interop.${op}(${JSON.stringify(args)})`) as Promise<T>;
}

async function create({ pageUrl }: { pageUrl: string }): Promise<InteropClient> {
  const browser: Browser = await launchChromium();
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(pageUrl);
  await page.addScriptTag({ path: BROWSER_CLIENT });
  return {
    async exchange(url, messages, expected) {
      const received = await call<WireMessage[]>(page, 'exchange', { url, messages: messages.map(toWire), expected });
      return received.map(fromWire);
    },
    closeWith: (url, code, reason) => call(page, 'closeWith', { url, code, reason }),
    async untilClosed(url, messages) {
      const session = await call<{ received: WireMessage[]; close: Session['close'] }>(page, 'untilClosed', {
        url,
        messages: messages.map(toWire),
      });
      return { received: session.received.map(fromWire), close: session.close };
    },
    extensions: (url) => call<string>(page, 'extensions', { url }),
    async dispose() {
      await browser.close();
    },
  };
}

describeInterop({
  name: 'Chromium',
  peer: peers.chromium,
  reportsPings: false,
  canPing: false,
  create,
});
