/** Headless Debian Chromium driven by playwright-core, as the interop and app tests use it. */
import { type Browser, chromium } from 'playwright-core';
import { CHROMIUM } from './peers.js';

/** Flags for a closed network: without the background ones Chromium keeps dialling out. */
export const LAUNCH_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
}
