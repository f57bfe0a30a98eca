/**
 * The `SameSite` default and the cross-site POST-back flow the migration guide describes
 * (docs/migrating-from-koa-generic-session.md, "Cross-site POST-backs and SameSite=Lax"). A
 * browser with a Lax cookie sends no cookie on a cross-site POST: the test sends none there.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/index.js';
import { KOA_VERSIONS } from '../helpers/koa.js';
import { closeApps, startApp } from '../helpers/apps.js';
import { cookieOf } from '../helpers/set-cookies.js';
import { PREFIX } from '../helpers/store-keys.js';

afterEach(closeApps);

describe.each(KOA_VERSIONS)('SameSite ($name)', ({ Koa }) => {
  const touch = (ctx: { session: { n?: unknown } | null; body: unknown }) => {
    ctx.session!.n = 1;
    ctx.body = 'ok';
  };

  it('is Lax by default', async () => {
    const served = await startApp(Koa, {}, touch as never);
    const reply = await served.client().get('/');
    expect(cookieOf(reply, 'koa.sid')?.attributes.samesite).toBe('lax');
    expect(cookieOf(reply, 'koa.sid.sig')?.attributes.samesite).toBe('lax');
  });

  it("sameSite: false writes no SameSite attribute, as koa-generic-session's cookie", async () => {
    const served = await startApp(Koa, { cookie: { sameSite: false } }, touch as never);
    const reply = await served.client().get('/');
    for (const name of ['koa.sid', 'koa.sid.sig']) {
      const cookie = cookieOf(reply, name);
      expect(cookie).toBeDefined();
      expect(Object.keys(cookie!.attributes)).not.toContain('samesite');
    }
  });

  it('a POST-back route that leaves the session alone hands over to a GET that has the login', async () => {
    const store = new MemoryStore();
    const pending = new Map<string, string>();
    const served = await startApp(Koa, { store }, (ctx) => {
      if (ctx.path === '/login') {
        ctx.session!.userId = 'ann';
        ctx.body = 'in';
      } else if (ctx.path === '/payment/return' && ctx.method === 'POST') {
        // Cross-site: no session cookie arrives here, and the route does not touch ctx.session.
        pending.set('order-1', 'paid');
        ctx.status = 303;
        ctx.redirect('/payment/done?order=order-1');
      } else if (ctx.path === '/payment/done') {
        const s = ctx.session!;
        if (s.userId !== 'ann') ctx.throw(401, 'not logged in');
        s.lastOrder = `${String(ctx.query.order)}:${pending.get(String(ctx.query.order))}`;
        ctx.body = `Paid for ${String(s.userId)}`;
      }
    });
    const browser = served.client();
    await browser.get('/login');
    const sid = browser.cookie('koa.sid');

    const postBack = await browser.request('/payment/return', { method: 'POST', cookie: '' });
    expect(postBack.status).toBe(303);
    expect(postBack.headers.get('location')).toBe('/payment/done?order=order-1');
    // No Set-Cookie: the browser's login cookie is left as it was.
    expect(postBack.setCookies).toEqual([]);

    const done = await browser.get('/payment/done?order=order-1');
    expect(done.status).toBe(200);
    expect(done.text).toBe('Paid for ann');
    expect(browser.cookie('koa.sid')).toBe(sid);
    expect(store.get(`${PREFIX}${sid}`)).toMatchObject({ userId: 'ann', lastOrder: 'order-1:paid' });
  });

  it('a POST-back route that writes the session would replace the login cookie (why the guide says not to)', async () => {
    const served = await startApp(Koa, {}, (ctx) => {
      if (ctx.path === '/login') ctx.session!.userId = 'ann';
      else ctx.session!.paid = true;
      ctx.body = 'ok';
    });
    const browser = served.client();
    await browser.get('/login');
    const sid = browser.cookie('koa.sid');
    const postBack = await browser.request('/payment/return', { method: 'POST', cookie: '' });
    const replaced = cookieOf(postBack, 'koa.sid');
    expect(replaced?.value).toBeDefined();
    expect(replaced?.value).not.toBe(sid);
  });
});
