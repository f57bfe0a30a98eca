/**
 * `key` and `cookie`, as a koa-generic-session user sets them, on Koa 2 and Koa 3: the cookie's
 * name and its signature's, its attributes and their defaults, Expires as the clock moves, the
 * options copied and never changed, and the session cookie read from the Cookie header as Koa's
 * cookies module reads it. (A browser-session cookie, `maxAge: 'session'`, is in
 * browser-session-cookie.test.ts; the security defaults in insecure-options.test.ts.)
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryStore, type StoredSession } from '../../src/index.js';
import { KOA_VERSIONS } from '../helpers/koa.js';
import { closeApps, counter, startApp } from '../helpers/apps.js';
import { cookieNames, cookieOf } from '../helpers/set-cookies.js';
import { plainSyncStore } from '../helpers/legacy-stores.js';

afterEach(closeApps);

const DAY = 24 * 60 * 60 * 1000;

describe.each(KOA_VERSIONS)('the cookie options on $name', ({ Koa }) => {
  describe('key', () => {
    it("defaults to 'koa.sid' with a 'koa.sid.sig' companion", async () => {
      const store = new MemoryStore();
      const t = await startApp(Koa, { store }, counter);
      const reply = await t.client().get('/');
      expect(reply.status).toBe(200);
      expect(cookieNames(reply).sort()).toEqual(['koa.sid', 'koa.sid.sig']);
      const sid = cookieOf(reply, 'koa.sid')!.value;
      expect(sid).toBe(reply.body.sid);
      expect(store.get(`koa:sess:${sid}`)).toMatchObject({ count: 1 });
    });

    it('names the cookie and its signature after a custom key', async () => {
      const t = await startApp(Koa, { key: 'app.session' }, counter);
      const client = t.client();
      const first = await client.get('/');
      expect(cookieNames(first).sort()).toEqual(['app.session', 'app.session.sig']);
      // The renamed cookie is the one read back.
      expect((await client.get('/')).body.count).toBe(2);
      expect((await client.get('/', { cookie: '' })).body.count).toBe(1);
    });
  });

  describe('cookie', () => {
    it('Expires follows the clock from one saving request to the next, and a session with its own maxAge gets its own', async () => {
      const t = await startApp(Koa, { cookie: { maxAge: 60 * 60_000 } }, (ctx) => {
        const sess = ctx.session as StoredSession;
        if (ctx.path === '/remember') sess.cookie.maxAge = 7 * DAY;
        sess.count = ((sess.count as number | undefined) ?? 0) + 1;
        ctx.body = { count: sess.count };
      });
      const client = t.client();
      const expiresOf = (reply: Awaited<ReturnType<typeof client.get>>) =>
        cookieOf(reply, 'koa.sid')!.attributes.expires as string;
      // Only Date is faked: the HTTP round trips keep their real timers.
      vi.useFakeTimers({ toFake: ['Date'] });
      try {
        const start = Date.UTC(2030, 0, 1, 12, 0, 0, 400);
        vi.setSystemTime(start);
        const first = expiresOf(await client.get('/'));
        expect(first).toBe(new Date(start + 60 * 60_000).toUTCString());
        // Later in the same second: the same date. 90.7 s later: the date moved with the clock.
        vi.setSystemTime(start + 500);
        expect(expiresOf(await client.get('/'))).toBe(first);
        vi.setSystemTime(start + 90_700);
        expect(expiresOf(await client.get('/'))).toBe(new Date(start + 90_700 + 60 * 60_000).toUTCString());
        // The same second, a session that set its own maxAge: its own date, not the configured one.
        expect(expiresOf(await client.get('/remember'))).toBe(new Date(start + 90_700 + 7 * DAY).toUTCString());
      } finally {
        vi.useRealTimers();
      }
    });

    it('a configured expires Date is copied into each new session: changing it in place changes that session only', async () => {
      const configured = new Date(Date.now() + 3 * DAY);
      const later = new Date(Date.now() + 9 * DAY);
      const t = await startApp(Koa, { cookie: { expires: configured, maxAge: null } }, (ctx) => {
        const sess = ctx.session as StoredSession;
        if (ctx.path === '/extend') (sess.cookie.expires as Date).setTime(later.getTime());
        sess.n = 1;
        ctx.body = {};
      });
      const expiresOf = (reply: Awaited<ReturnType<ReturnType<typeof t.client>['get']>>) =>
        cookieOf(reply, 'koa.sid')!.attributes.expires as string;
      expect(expiresOf(await t.client().get('/extend'))).toBe(later.toUTCString());
      expect(expiresOf(await t.client().get('/'))).toBe(configured.toUTCString());
      expect(configured.getTime()).not.toBe(later.getTime());
    });

    it('defaults to httpOnly, path=/, sameSite=lax, signed, expiring in a day', async () => {
      const t = await startApp(Koa, {}, counter);
      const reply = await t.client().get('/');
      const c = cookieOf(reply, 'koa.sid')!;
      expect(c.attributes.httponly).toBe(true);
      expect(c.attributes.path).toBe('/');
      expect(c.attributes.samesite).toBe('lax');
      expect(c.attributes.secure).toBeUndefined();
      const left = Date.parse(c.attributes.expires as string) - Date.now();
      expect(left).toBeGreaterThan(DAY - 60_000);
      expect(left).toBeLessThanOrEqual(DAY + 1000);
      const sig = cookieOf(reply, 'koa.sid.sig')!;
      expect(sig.value).toMatch(/^[\w-]{10,}$/);
      expect(sig.attributes.path).toBe('/');
    });

    it('passes other options (domain, sameSite, priority, secure) to the cookie', async () => {
      const t = await startApp(
        Koa,
        { cookie: { domain: '127.0.0.1', sameSite: 'strict', priority: 'high', secure: true, httpOnly: false } },
        counter,
      );
      const reply = await t.client().get('/');
      const c = cookieOf(reply, 'koa.sid')!;
      expect(c.attributes.domain).toBe('127.0.0.1');
      expect(c.attributes.samesite).toBe('strict');
      expect(c.attributes.priority).toBe('high');
      expect(c.attributes.secure).toBe(true);
      expect(c.attributes.httponly).toBeUndefined();
      expect(reply.status).toBe(200);
    });

    it('copies the cookie options and never mutates them', async () => {
      const cookie = { maxAge: 60_000, path: '/', sameSite: 'strict' as const };
      const snapshot = structuredClone(cookie);
      const store = new MemoryStore();
      const t = await startApp(Koa, { store, cookie: Object.freeze(cookie) }, (ctx) => {
        const sess = ctx.session as StoredSession;
        // A handler that changes its own session's cookie changes no other session.
        if (ctx.path === '/long') sess.cookie.maxAge = 10 * DAY;
        sess.n = 1;
        ctx.body = { sid: ctx.sessionId };
      });
      await t.client().get('/long');
      const reply = await t.client().get('/');
      expect(cookie).toEqual(snapshot);
      expect(store.get(`koa:sess:${reply.body.sid}`)!.cookie.maxAge).toBe(60_000);
      const left = Date.parse(cookieOf(reply, 'koa.sid')!.attributes.expires as string) - Date.now();
      expect(left).toBeLessThanOrEqual(60_000 + 1000);
    });

    it("accepts connect's spelling cookie.maxage", async () => {
      const store = plainSyncStore();
      const t = await startApp(Koa, { store, cookie: { maxage: 45_000 } }, counter);
      const reply = await t.client().get('/');
      expect(store.ttls.get(`koa:sess:${reply.body.sid}`)).toBe(45_000);
      expect(JSON.parse(store.data.get(`koa:sess:${reply.body.sid}`)!).cookie).not.toHaveProperty('maxage');
    });

    it('signed: false sends no .sig cookie and still reads the session back', async () => {
      const t = await startApp(Koa, { cookie: { signed: false } }, counter, { keys: null });
      const client = t.client();
      const reply = await client.get('/');
      expect(cookieNames(reply)).toEqual(['koa.sid']);
      expect((await client.get('/')).body.count).toBe(2);
    });
  });

  describe('reading the session cookie as Koa cookies does', () => {
    it('takes the first koa.sid of the header, after a ";" or at its start, and removes surrounding quotes', async () => {
      const t = await startApp(Koa, {}, counter);
      const client = t.client();
      await client.get('/');
      const sid = client.cookie('koa.sid')!;
      const sig = client.cookie('koa.sid.sig')!;
      const loaded = async (cookie: string) => (await client.get('/', { cookie })).body.count > 1;
      expect(await loaded(`koa.sid=${sid}; koa.sid.sig=${sig}`)).toBe(true);
      expect(await loaded(`other=1;koa.sid="${sid}";  koa.sid.sig="${sig}"`)).toBe(true);
      // Not a longer name that ends in koa.sid, and the first of two koa.sid wins.
      expect(await loaded(`xkoa.sid=${sid}; koa.sid.sig=${sig}`)).toBe(false);
      expect(await loaded(`koa.sid=${sid}; koa.sid=other; koa.sid.sig=${sig}`)).toBe(true);
      expect(await loaded(`koa.sid=other; koa.sid=${sid}; koa.sid.sig=${sig}`)).toBe(false);
    });
  });
});
