/**
 * The pages in a real browser: headless Chromium (Debian's /usr/bin/chromium)
 * driven by playwright-core, against the real CLI. Screenshots go to
 * reports/screenshots/ (CI artifacts); with STRICTWS_DOCS_SCREENSHOTS=1 the
 * README's go to docs/screenshots/ too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { type RunningServer, startCli } from '../support/cli.js';
import { peers, skipWithout } from '../support/peers.js';
import { launchChromium, pageUrl, screenshot } from './support.js';

const skip = skipWithout(peers.chromium);
// Small, so that the README's screenshots stay small; screenshots take the full page.
const VIEWPORT = { width: 680, height: 420 };

/** The text of every item in the page's #log list. */
const logLines = (page: Page) => page.locator('#log li').allTextContents();

/** Wait for an item of #log whose whole text is `text`. */
const logLine = (page: Page, text: string) =>
  page.locator('#log li').filter({ hasText: text }).last().waitFor({ timeout: 10_000 });

describe.skipIf(skip)('pages in Chromium', () => {
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  /** A fresh page in its own context (its own cookies and connections), with page errors collected. */
  const openPage = async (url: string) => {
    const context = await browser.newContext({ viewport: VIEWPORT });
    contexts.push(context);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
    await page.goto(url);
    return { page, errors };
  };

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  describe('the echo page', () => {
    let echo: RunningServer;
    beforeAll(async () => {
      echo = await startCli('echo');
    });
    afterAll(async () => {
      await echo?.stop();
    });

    it('sends what is typed, shows the echo, and Close shows the close code', async () => {
      const { page, errors } = await openPage(pageUrl(echo.url));
      await page.locator('#status', { hasText: 'open' }).waitFor();
      for (const text of ['Hello, strictws!', 'héllo wörld ✓', '<b>not bold</b>']) {
        await page.fill('#text', text);
        await page.press('#text', 'Enter');
        await page.locator('#log li.in').filter({ hasText: text }).waitFor();
      }
      expect(await page.locator('#log li.in').allTextContents()).toEqual(['Hello, strictws!', 'héllo wörld ✓', '<b>not bold</b>']);
      expect(await page.locator('#log b').count()).toBe(0);
      await screenshot(page, 'echo-open');

      await page.click('#close');
      await page.locator('#status', { hasText: 'closed 1000' }).waitFor();
      expect((await logLines(page)).at(-1)).toMatch(/^closed: code 1000, /);
      expect(await page.isDisabled('#submit')).toBe(true);
      await screenshot(page, 'echo', true);
      expect(errors).toEqual([]);
    });

    it('shows the code and reason when the server goes away', async () => {
      const server = await startCli('echo');
      const { page } = await openPage(pageUrl(server.url));
      await page.locator('#status', { hasText: 'open' }).waitFor();
      await server.stop('SIGTERM');
      await logLine(page, 'closed: code 1001, reason "server shutting down"');
      await screenshot(page, 'echo-server-gone');
    });
  });

  describe('the chat page', () => {
    let chat: RunningServer;
    beforeAll(async () => {
      chat = await startCli('chat');
    });
    afterAll(async () => {
      await chat?.stop();
    });

    const joinAs = async (name: string) => {
      const opened = await openPage(pageUrl(chat.url));
      await opened.page.locator('#status', { hasText: 'connected' }).waitFor();
      await opened.page.fill('#name', name);
      await opened.page.click('#join-button');
      await opened.page.locator('#say').waitFor({ state: 'visible' });
      return opened;
    };
    const say = async (page: Page, text: string) => {
      await page.fill('#text', text);
      await page.press('#text', 'Enter');
    };

    it('two pages: join notices, messages both ways, HTML as text, history for a late joiner, a leave notice', async () => {
      const { page: alice, errors: aliceErrors } = await joinAs('alice');
      await logLine(alice, 'alice joined');
      const { page: bob, errors: bobErrors } = await joinAs('bob');
      await logLine(alice, 'bob joined');
      await logLine(bob, 'bob joined');

      await say(alice, 'Hi Bob! Is the room working?');
      await logLine(bob, 'Hi Bob! Is the room working?');
      await say(bob, 'Hi Alice, loud and clear.');
      await logLine(alice, 'Hi Alice, loud and clear.');

      // Markup from another user is shown as text and never run.
      const payload = '<img src=x onerror="window.__xss = 1"> is shown as text';
      await say(bob, payload);
      await logLine(alice, payload);
      expect(await alice.locator('#log img').count()).toBe(0);
      expect(await alice.evaluate('window.__xss')).toBeUndefined();
      expect(await alice.locator('#log li.msg .text').last().textContent()).toBe(payload);
      await screenshot(alice, 'chat', true);
      await screenshot(bob, 'chat-bob');

      // A late joiner gets the history first, then its own join notice.
      const { page: carol } = await joinAs('carol');
      await logLine(carol, 'carol joined');
      const lines = await logLines(carol);
      expect(lines[0]).toBe('3 earlier messages');
      expect(lines.slice(1, 4).map((line) => line.replace(/\d\d:\d\d.*$/, ''))).toEqual([
        'aliceHi Bob! Is the room working?',
        'bobHi Alice, loud and clear.',
        `bob${payload}`,
      ]);
      expect(await carol.locator('#log li.old').count()).toBe(3);
      expect(await carol.locator('#log img').count()).toBe(0);
      await screenshot(carol, 'chat-late-joiner');

      // Closing a page is a leave.
      await bob.close();
      await logLine(alice, 'bob left');
      await logLine(carol, 'bob left');
      await screenshot(alice, 'chat-after-leave');
      expect([...aliceErrors, ...bobErrors]).toEqual([]);
    });

    it('an error from the server is shown and the page keeps working', async () => {
      const { page } = await joinAs('dave');
      await page.evaluate('ws.send("this is not JSON")');
      await page.locator('#log li.err', { hasText: 'error bad-json' }).waitFor();
      await say(page, 'still here');
      await logLine(page, 'still here');
    });
  });

  describe('the vote page', () => {
    let vote: RunningServer;
    beforeAll(async () => {
      vote = await startCli('vote', ['--options', 'Tabs,Spaces,Both']);
    });
    afterAll(async () => {
      await vote?.stop();
    });

    const countOf = (page: Page, option: string) =>
      page.locator(`button.option[data-id="${option}"] .count`).textContent();
    const waitCount = (page: Page, option: string, count: number) =>
      page.waitForFunction(
        ([id, n]) => document.querySelector(`button.option[data-id="${id}"] .count`)?.textContent === String(n),
        [option, count] as const,
        { timeout: 10_000 },
      );

    it('two pages: a vote on one updates the other; a new page sees the counts', async () => {
      const { page: first, errors } = await openPage(pageUrl(vote.url));
      const { page: second } = await openPage(pageUrl(vote.url));
      await first.locator('#status', { hasText: 'live' }).waitFor();
      await second.locator('#status', { hasText: 'live' }).waitFor();
      expect(await first.locator('button.option .label').allTextContents()).toEqual(['Tabs', 'Spaces', 'Both']);
      expect(await countOf(first, 'Spaces')).toBe('0');

      await first.click('button.option[data-id="Spaces"]');
      await waitCount(second, 'Spaces', 1);
      for (let i = 0; i < 3; i++) await second.click('button.option[data-id="Tabs"]');
      await waitCount(first, 'Tabs', 3);
      await first.click('button.option[data-id="Both"]');
      await waitCount(second, 'Both', 1);
      expect(await second.locator('#total').textContent()).toBe('5 votes');

      const { page: third } = await openPage(pageUrl(vote.url));
      await waitCount(third, 'Tabs', 3);
      expect([await countOf(third, 'Spaces'), await countOf(third, 'Both')]).toEqual(['1', '1']);
      await first.mouse.move(0, 0);
      await screenshot(first, 'vote', true);
      await screenshot(second, 'vote-second');
      expect(errors).toEqual([]);
    });

    it('an unknown option shows an error and changes no count', async () => {
      const { page } = await openPage(pageUrl(vote.url));
      await waitCount(page, 'Tabs', 3);
      await page.evaluate(`ws.send(JSON.stringify({ type: 'vote', option: 'Emacs' }))`);
      await page.locator('#error', { hasText: 'error unknown-option' }).waitFor();
      await page.click('button.option[data-id="Tabs"]');
      await waitCount(page, 'Tabs', 4);
      expect([await countOf(page, 'Spaces'), await countOf(page, 'Both')]).toEqual(['1', '1']);
      await screenshot(page, 'vote-unknown-option');
    });
  });
});
