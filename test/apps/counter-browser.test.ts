/**
 * The example app (examples/app.ts) in a real browser. Headless Chromium from Debian's
 * `chromium` package (/usr/bin/chromium), driven by playwright-core, never a downloaded browser.
 * The page's buttons call /get, /regenerate and /remove with fetch; what the page shows and which
 * cookies the browser holds (HttpOnly, SameSite, no Secure on http) are checked at every step, and
 * the server's MemoryStore is checked alongside.
 *
 * Without /usr/bin/chromium the test is skipped with a loud message (apt-get install chromium),
 * unless KSM_REQUIRE_BROWSER=1 (CI), which makes that a failure.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, launchChromium } from '../helpers/chromium.js';
import type { Browser, BrowserContext, Cookie, Page } from 'playwright-core';
import { createCounterApp } from '../../examples/app.js';
import { MemoryStore } from '../../src/index.js';
import { listen, type Listening } from '../helpers/http.js';

let browser: Browser | undefined;
let server: Listening | undefined;
const store = new MemoryStore();

beforeAll(async () => {
  if (!chromiumAvailable) return;
  server = await listen(createCounterApp({ store }));
  browser = await launchChromium();
}, 45_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Waits until the page's <output id="count"> shows `expected`; fails with what it shows instead. */
async function expectCount(page: Page, expected: number): Promise<void> {
  const want = String(expected);
  try {
    await page.waitForFunction((w) => document.getElementById('count')?.textContent === w, want, { timeout: 5000 });
  } catch {
    // Fall through to a readable assertion.
  }
  expect(await page.textContent('#count')).toBe(want);
}

async function sessionCookies(context: BrowserContext): Promise<Record<string, Cookie>> {
  const cookies = await context.cookies(server!.url);
  return Object.fromEntries(cookies.filter((c) => c.name.startsWith('koa.sid')).map((c) => [c.name, c]));
}

/** The session cookie and its signature as the browser holds them: HttpOnly, SameSite=Lax, not Secure. */
function expectSessionCookieFlags(cookies: Record<string, Cookie>): string {
  expect(Object.keys(cookies).sort()).toEqual(['koa.sid', 'koa.sid.sig']);
  for (const cookie of Object.values(cookies)) {
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', secure: false, path: '/', domain: '127.0.0.1' });
    // maxAge one day: a persistent cookie, not a session cookie.
    expect(cookie.expires * 1000).toBeGreaterThan(Date.now() + 23 * 3600_000);
  }
  return cookies['koa.sid']!.value;
}

describe.skipIf(!chromiumAvailable)('the example app in headless Chromium (Debian package, playwright-core)', () => {
  it('counts up, survives a reload, regenerates and logs out, with HttpOnly SameSite=Lax cookies', async () => {
    const context = await browser!.newContext();
    try {
      const page = await context.newPage();
      const steps: string[] = [];
      const step = (text: string) => steps.push(text);

      await page.goto(`${server!.url}/`);
      await expectCount(page, 0);
      expect(await sessionCookies(context)).toEqual({});
      step('opened /: shows 0, no cookies');

      for (const n of [1, 2, 3]) {
        await page.click('#inc');
        await expectCount(page, n);
      }
      const sid1 = expectSessionCookieFlags(await sessionCookies(context));
      expect(store.get(`koa:sess:${sid1}`)).toMatchObject({ count: 3 });
      // HttpOnly in effect: the page's scripts cannot see the session cookie.
      expect(await page.evaluate(() => document.cookie)).not.toContain('koa.sid');
      step(
        'clicked #inc three times: shows 3; koa.sid and koa.sid.sig HttpOnly, SameSite=Lax, not Secure, invisible to document.cookie',
      );

      await page.reload();
      await expectCount(page, 3);
      expect((await sessionCookies(context))['koa.sid']?.value).toBe(sid1);
      step('reloaded: still 3, same sid');

      await page.click('#regen');
      await expectCount(page, 0);
      const afterRegen = await sessionCookies(context);
      expect(afterRegen['koa.sid']?.value).not.toBe(sid1);
      expect(store.get(`koa:sess:${sid1}`)).toBeUndefined();
      await page.reload();
      await expectCount(page, 0);
      step(
        `clicked #regen: shows 0; the old session is gone from the store, the sid cookie ${
          afterRegen['koa.sid'] ? 'changed' : 'was removed'
        }; reloaded: 0`,
      );

      for (const n of [1, 2]) {
        await page.click('#inc');
        await expectCount(page, n);
      }
      const sid2 = expectSessionCookieFlags(await sessionCookies(context));
      expect(sid2).not.toBe(sid1);
      expect(store.get(`koa:sess:${sid2}`)).toMatchObject({ count: 2 });
      step('clicked #inc twice: shows 2 under a new sid, same cookie flags');

      await page.click('#logout');
      await expectCount(page, 0);
      // The fetch has resolved before the page shows 0, so the cookie deletion has been applied.
      expect(await sessionCookies(context)).toEqual({});
      expect(store.get(`koa:sess:${sid2}`)).toBeUndefined();
      await page.reload();
      await expectCount(page, 0);
      expect(await sessionCookies(context)).toEqual({});
      step('clicked #logout: shows 0, both cookies gone, session gone from the store; reloaded: 0, still no cookies');

      console.log(`browser (${browser!.version()}):\n  ${steps.join('\n  ')}`);
    } finally {
      await context.close();
    }
  }, 60_000);
});
