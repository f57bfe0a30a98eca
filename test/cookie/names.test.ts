/**
 * Configurations real koa-generic-session apps run, which must work unchanged: cookie names Koa's
 * cookies module accepts, key rotation through app.keys, `regenerateSession()` resolving to the new
 * session (with `defer` too). The warning about the default store in production is tested with the
 * MemoryStore (test/stores/memory-store.test.ts).
 */
import Cookies from 'cookies';
import Keygrip from 'keygrip';
import { afterEach, describe, expect, it } from 'vitest';
import session, { MemoryStore } from '../../src/index.js';
import { KOA_VERSIONS } from '../helpers/koa.js';
import { closeApps, startApp } from '../helpers/apps.js';
import { cookieOf } from '../helpers/set-cookies.js';
import { PREFIX } from '../helpers/store-keys.js';

afterEach(closeApps);

/** Whether Koa's cookies module accepts `name` (it throws a TypeError on a name it refuses). */
function cookiesAccepts(name: string): boolean {
  const res = { getHeader: () => undefined, setHeader: () => undefined };
  try {
    new Cookies({ headers: {}, connection: {} } as never, res as never, { secure: false }).set(name, 'v', {
      signed: false,
    });
    return true;
  } catch {
    return false;
  }
}

describe('cookie names', () => {
  const names = ['koa:sess', 'koss:test_sid', 'koa.sid', 'my sid', 'é', 'a;b', 'a=b', 'a\nb', 'sid\u0000', ''];

  it.each(names)('%j is accepted exactly when Koa cookies accepts it', (name) => {
    const make = () => session({ key: name });
    if (cookiesAccepts(name)) expect(make).not.toThrow();
    else expect(make).toThrow(/option "key" must be a cookie name/);
  });

  it.each(KOA_VERSIONS)('koa:sess and koss:test_sid carry a session over HTTP ($name)', async ({ Koa }) => {
    for (const key of ['koa:sess', 'koss:test_sid']) {
      const served = await startApp(Koa, { key }, (ctx) => {
        const s = ctx.session!;
        s.n = ((s.n as number) ?? 0) + 1;
        ctx.body = { n: s.n };
      });
      const browser = served.client();
      await browser.get('/');
      expect(browser.cookie(key)).toBeDefined();
      expect(browser.cookie(`${key}.sig`)).toBeDefined();
      expect((await browser.get('/')).body).toEqual({ n: 2 });
    }
  });
});

describe.each(KOA_VERSIONS)('key rotation ($name)', ({ Koa }) => {
  it('a cookie signed with an older key is accepted and its .sig re-signed with the newest key in the same response', async () => {
    const store = new MemoryStore();
    const served = await startApp(Koa, { store }, (ctx) => {
      const s = ctx.session!;
      if (ctx.path === '/inc') s.n = ((s.n as number) ?? 0) + 1;
      ctx.body = { n: s.n ?? null };
    });
    served.app.keys = ['k1'];
    const browser = served.client();
    await browser.get('/inc');
    const sid = browser.cookie('koa.sid')!;

    for (const keys of [
      ['k2', 'k1'],
      ['k3', 'k2'],
    ]) {
      served.app.keys = keys;
      // A read-only request: nothing changed, yet the signature comes back signed with keys[0].
      const read = await browser.get('/read');
      expect(read.body).toEqual({ n: 1 });
      expect(cookieOf(read, 'koa.sid')).toBeUndefined();
      const sig = cookieOf(read, 'koa.sid.sig');
      expect(sig?.value).toBe(new Keygrip([keys[0]!]).sign(`koa.sid=${sid}`));
      expect(sig?.attributes.path).toBe('/');
    }
    // The first key is gone now, and so is the second: the session survived both rotations.
    served.app.keys = ['k3'];
    expect((await browser.get('/inc')).body).toEqual({ n: 2 });
    expect(browser.cookie('koa.sid')).toBe(sid);
    expect(served.errors).toEqual([]);
  });

  it('a cookie signed with the newest key gets no extra Set-Cookie', async () => {
    const served = await startApp(Koa, {}, (ctx) => {
      ctx.session!.n = 1;
      ctx.body = 'ok';
    });
    const browser = served.client();
    await browser.get('/');
    const again = await browser.get('/');
    expect(again.setCookies).toEqual([]);
  });

  it('an older-key cookie whose sid the store does not know is reset, not re-signed', async () => {
    const store = new MemoryStore();
    const served = await startApp(Koa, { store }, (ctx) => {
      ctx.body = { n: ctx.session!.n ?? null };
    });
    served.app.keys = ['new', 'old'];
    const sig = new Keygrip(['old']).sign('koa.sid=unknown-sid');
    const reply = await served.client().get('/', { cookie: `koa.sid=unknown-sid; koa.sid.sig=${sig}` });
    expect(reply.body).toEqual({ n: null });
    expect(cookieOf(reply, 'koa.sid')?.expired).toBe(true);
    expect(cookieOf(reply, 'koa.sid.sig')?.expired).toBe(true);
    expect(store.get(`${PREFIX}unknown-sid`)).toBeUndefined();
  });
});

describe.each(KOA_VERSIONS)('regenerateSession() resolves to the new session ($name)', ({ Koa }) => {
  it.each([false, true])('defer: %s', async (defer) => {
    const store = new MemoryStore();
    const served = await startApp(Koa, { store, defer }, async (ctx) => {
      const s = await ctx.regenerateSession();
      s!.user = 'ann';
      ctx.body = { sid: ctx.sessionId, same: s === (await ctx.session) };
    });
    const reply = await served.client().get('/');
    expect(reply.status).toBe(200);
    expect(reply.body.same).toBe(true);
    expect(store.get(`${PREFIX}${reply.body.sid}`)).toMatchObject({ user: 'ann' });
  });
});
