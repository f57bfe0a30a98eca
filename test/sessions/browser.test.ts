/**
 * examples/passport.ts in a real browser: the user logs in from two browsers (two Chromium
 * contexts with their own cookies and user-agents), opens "Active sessions" in one, and clicks
 * "End" on the other: that browser is logged out, this one is not. Then "End" on its own row logs
 * this one out too. Every click submits a form that koa-csrf guards. Headless Chromium from
 * Debian's package, driven by playwright-core; the example runs as its own process.
 *
 * Without /usr/bin/chromium the test is skipped with a loud message (apt-get install chromium),
 * unless KSM_REQUIRE_BROWSER=1 (CI), which makes that a failure.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppProcess } from '../helpers/app-process.js';
import { chromiumAvailable, launchChromium } from '../helpers/chromium.js';
import { startExample } from '../helpers/example-process.js';
import type { Browser, BrowserContext, Page } from 'playwright-core';

let browser: Browser | undefined;
let example: AppProcess | undefined;
let url = '';

beforeAll(async () => {
  if (!chromiumAvailable) return;
  example = await startExample('examples/passport.ts', { REDIS_URL: '' });
  url = example.url;
  browser = await launchChromium();
}, 45_000);

afterAll(async () => {
  await browser?.close();
  await example?.stop();
});

/** A browser of its own (cookies, user-agent), logged in as alice through the login form. */
async function loggedIn(agent: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser!.newContext({ userAgent: agent });
  const page = await context.newPage();
  await page.goto(`${url}/login`);
  await page.fill('input[name=username]', 'alice');
  await page.fill('input[name=password]', 'wonderland');
  await Promise.all([page.waitForURL(`${url}/`), page.click('button')]);
  expect(await page.textContent('body')).toContain('Logged in as alice');
  return { context, page };
}

/** The rows of the sessions table: the browser column of each. */
async function rows(page: Page): Promise<string[]> {
  return page.$$eval('tr:has(td)', (trs) => trs.map((tr) => tr.querySelector('td')!.textContent!.trim()));
}

describe.skipIf(!chromiumAvailable)('examples/passport.ts: active sessions in headless Chromium', () => {
  it('ends another browser of the user from the sessions page, then this one', async () => {
    const phone = await loggedIn('alice phone');
    const laptop = await loggedIn('alice laptop <b>');
    try {
      const page = phone.page;
      await Promise.all([page.waitForURL(`${url}/sessions`), page.click('a[href="/sessions"]')]);
      // Newest first; the phone's own row is marked; the laptop's user-agent is shown as text.
      expect(await rows(page)).toEqual(['alice laptop <b>', 'alice phone (this browser)']);
      expect(await page.textContent('#current')).toContain('alice phone');

      // End the laptop's session: its form carries the CSRF token, or koa-csrf would refuse it.
      await Promise.all([page.waitForURL(`${url}/sessions`), page.click('tr:has-text("alice laptop") button')]);
      expect(await rows(page)).toEqual(['alice phone (this browser)']);
      await laptop.page.goto(`${url}/`);
      expect(await laptop.page.textContent('body')).toContain('Not logged in');
      await page.goto(`${url}/`);
      expect(await page.textContent('body')).toContain('Logged in as alice');

      // Its own row: this browser is logged out too.
      await page.goto(`${url}/sessions`);
      await Promise.all([page.waitForURL(`${url}/login`), page.click('#current button')]);
      await page.goto(`${url}/`);
      expect(await page.textContent('body')).toContain('Not logged in');
    } finally {
      await phone.context.close();
      await laptop.context.close();
    }
  }, 60_000);
});
