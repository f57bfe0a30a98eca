/**
 * SPEC §3: every option, as a user of koa-generic-session sees it, on Koa 2 and Koa 3.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import session, { MemoryStore, type SessionIdStore, type StoredSession } from '../../src/index.js';
import { KOA_VERSIONS } from '../helpers/koa.js';
import { closeApps, counter, startApp } from '../helpers/apps.js';
import { cookieNames, cookieOf } from '../helpers/set-cookies.js';
import { sessionKeys } from '../helpers/store-keys.js';
import { RecordingStore } from '../helpers/recording-store.js';
import { plainPromiseStore, plainSyncStore } from '../helpers/legacy-stores.js';

afterEach(closeApps);

const DAY = 24 * 60 * 60 * 1000;

describe.each(KOA_VERSIONS)('options on $name', ({ Koa }) => {
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

  describe('store', () => {
    it.each([
      ['synchronous get/set/destroy', plainSyncStore],
      ['methods that return Promises', plainPromiseStore],
    ])('works with a plain object store with %s', async (_, makeStore) => {
      const store = makeStore();
      const t = await startApp(Koa, { store }, async (ctx) => {
        if (ctx.path === '/logout') {
          ctx.session = null;
          ctx.body = 'bye';
          return;
        }
        await counter(ctx, async () => undefined);
      });
      const client = t.client();
      const sid = (await client.get('/')).body.sid as string;
      expect((await client.get('/')).body).toEqual({ count: 2, sid });
      expect(JSON.parse(store.data.get(`koa:sess:${sid}`)!)).toMatchObject({ count: 2 });
      await client.get('/logout');
      expect(store.data.has(`koa:sess:${sid}`)).toBe(false);
      expect(sessionKeys(store.data)).toEqual([]);
    });

    it('defaults to a MemoryStore: sessions persist without any store option', async () => {
      const t = await startApp(Koa, undefined, counter);
      const client = t.client();
      await client.get('/');
      await client.get('/');
      expect((await client.get('/')).body.count).toBe(3);
    });

    it('exposes the store as ctx.sessionStore with the prefix applied', async () => {
      const store = new MemoryStore();
      const t = await startApp(Koa, { store, prefix: 'p:' }, async (ctx) => {
        await ctx.sessionStore.set('abc', { cookie: {}, via: 'sessionStore' } as StoredSession);
        ctx.body = await ctx.sessionStore.get('abc');
      });
      const reply = await t.client().get('/');
      expect(reply.body).toMatchObject({ via: 'sessionStore' });
      expect(store.get('p:abc')).toMatchObject({ via: 'sessionStore' });
    });
  });

  describe('prefix', () => {
    it("defaults to 'koa:sess:'", async () => {
      const store = new RecordingStore();
      const t = await startApp(Koa, { store }, counter);
      const sid = (await t.client().get('/')).body.sid;
      expect(store.of('set').map((c) => c.key)).toEqual([`koa:sess:${sid}`]);
    });

    it('uses a custom prefix with no separator added', async () => {
      const store = new RecordingStore();
      const t = await startApp(Koa, { store, prefix: 'myapp' }, counter);
      const client = t.client();
      const sid = (await client.get('/')).body.sid;
      await client.get('/');
      expect(store.calls.map((c) => [c.method, c.key])).toEqual([
        ['set', `myapp${sid}`],
        ['get', `myapp${sid}`],
        ['update', `myapp${sid}`],
      ]);
    });

    it('keeps an empty prefix: the store key is the sid itself', async () => {
      const store = new RecordingStore();
      const t = await startApp(Koa, { store, prefix: '' }, counter);
      const client = t.client();
      const sid = (await client.get('/')).body.sid as string;
      expect(store.of('set').map((c) => c.key)).toEqual([sid]);
      expect(store.inner.get(sid)).toMatchObject({ count: 1 });
      expect((await client.get('/')).body.count).toBe(2);
    });
  });

  describe('ttl', () => {
    it('passes a numeric ttl to store.set, in ms', async () => {
      const store = plainSyncStore();
      const t = await startApp(Koa, { store, ttl: 12_345 }, counter);
      const sid = (await t.client().get('/')).body.sid;
      expect(store.ttls.get(`koa:sess:${sid}`)).toBe(12_345);
    });

    it('calls a ttl function with the session and passes its result', async () => {
      const store = plainSyncStore();
      const ttl = vi.fn((sess: StoredSession) => (sess.remember ? 30 * DAY : 60_000));
      const t = await startApp(Koa, { store, ttl }, (ctx) => {
        const sess = ctx.session as StoredSession;
        sess.remember = ctx.path === '/remember';
        ctx.body = { sid: ctx.sessionId };
      });
      const short = (await t.client().get('/')).body.sid;
      const long = (await t.client().get('/remember')).body.sid;
      expect(store.ttls.get(`koa:sess:${short}`)).toBe(60_000);
      expect(store.ttls.get(`koa:sess:${long}`)).toBe(30 * DAY);
      expect(ttl).toHaveBeenCalledWith(expect.objectContaining({ remember: true, cookie: expect.any(Object) }));
    });

    it('derives the ttl from cookie.maxAge when no ttl is given', async () => {
      const store = plainSyncStore();
      const t = await startApp(Koa, { store, cookie: { maxAge: 90_000 } }, counter);
      const sid = (await t.client().get('/')).body.sid;
      expect(store.ttls.get(`koa:sess:${sid}`)).toBe(90_000);
    });

    it('derives the ttl from the default cookie.maxAge (one day)', async () => {
      const store = plainSyncStore();
      const t = await startApp(Koa, { store }, counter);
      const sid = (await t.client().get('/')).body.sid;
      expect(store.ttls.get(`koa:sess:${sid}`)).toBe(DAY);
    });

    it('derives the ttl from cookie.expires (expires - now) in preference to maxAge', async () => {
      const store = plainSyncStore();
      const expires = new Date(Date.now() + 5 * 60_000);
      const t = await startApp(Koa, { store, cookie: { expires, maxAge: DAY } }, counter);
      const sid = (await t.client().get('/')).body.sid;
      const ttl = store.ttls.get(`koa:sess:${sid}`)!;
      // Not the maxAge, and at most what was left before the request started.
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(5 * 60_000);
      expect(ttl).toBeGreaterThan(4 * 60_000);
    });

    it('a session that changes its own cookie.maxAge gets that ttl', async () => {
      const store = plainSyncStore();
      const t = await startApp(Koa, { store }, (ctx) => {
        const sess = ctx.session as StoredSession;
        sess.cookie.maxAge = 7 * DAY;
        sess.user = 'u';
        ctx.body = { sid: ctx.sessionId };
      });
      const reply = await t.client().get('/');
      expect(store.ttls.get(`koa:sess:${reply.body.sid}`)).toBe(7 * DAY);
      const expires = Date.parse(cookieOf(reply, 'koa.sid')!.attributes.expires as string);
      expect(expires - Date.now()).toBeGreaterThan(6 * DAY);
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

    it.each(['session' as const, null])(
      'maxAge: %j gives a browser-session cookie without Expires or Max-Age',
      async (maxAge) => {
        const store = new RecordingStore();
        const t = await startApp(Koa, { store, cookie: { maxAge } }, counter);
        const client = t.client();
        const reply = await client.get('/');
        expect(reply.status).toBe(200);
        for (const name of ['koa.sid', 'koa.sid.sig']) {
          const c = cookieOf(reply, name)!;
          expect(c.value).not.toBe('');
          expect(c.attributes.expires).toBeUndefined();
          expect(c.attributes['max-age']).toBeUndefined();
        }
        expect(store.inner.get(`koa:sess:${reply.body.sid}`)).toMatchObject({ count: 1 });
        // The store entry still expires (SPEC §5.9).
        const ttl = store.of('set')[0]!.ttl;
        expect(Number.isFinite(ttl) && ttl! > 0).toBe(true);
        expect((await client.get('/')).body.count).toBe(2);
      },
    );

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

  describe('rolling', () => {
    it('is off by default: an unchanged loaded session sends no cookie and writes nothing', async () => {
      const store = new RecordingStore();
      const t = await startApp(Koa, { store }, (ctx) => {
        const sess = ctx.session as StoredSession;
        if (ctx.path === '/set') sess.user = 'ann';
        ctx.body = { user: sess.user ?? null };
      });
      const client = t.client();
      await client.get('/set');
      store.reset();
      const reply = await client.get('/read');
      expect(reply.body).toEqual({ user: 'ann' });
      expect(reply.setCookies).toEqual([]);
      expect(store.writes()).toEqual([]);
    });

    it('re-sends the cookie and refreshes the store TTL on every request that loads a session', async () => {
      const store = new RecordingStore();
      const t = await startApp(Koa, { store, rolling: true }, (ctx) => {
        const sess = ctx.session as StoredSession;
        if (ctx.path === '/set') sess.user = 'ann';
        ctx.body = { user: sess.user ?? null, sid: ctx.sessionId };
      });
      const client = t.client();
      const sid = (await client.get('/set')).body.sid;
      store.reset();
      const reply = await client.get('/read');
      expect(reply.body).toEqual({ user: 'ann', sid });
      expect(cookieOf(reply, 'koa.sid')?.value).toBe(sid);
      expect(cookieOf(reply, 'koa.sid')?.expired).toBe(false);
      expect(cookieOf(reply, 'koa.sid.sig')).toBeDefined();
      expect(store.writes().map((c) => [c.method, c.key, c.ttl])).toEqual([['touch', `koa:sess:${sid}`, DAY]]);
    });

    it('falls back to rewriting the session on a store without touch()', async () => {
      const store = new RecordingStore({ capabilities: false });
      const t = await startApp(Koa, { store, rolling: true }, (ctx) => {
        const sess = ctx.session as StoredSession;
        if (ctx.path === '/set') sess.user = 'ann';
        ctx.body = { sid: ctx.sessionId };
      });
      const client = t.client();
      const sid = (await client.get('/set')).body.sid;
      store.reset();
      const reply = await client.get('/read');
      expect(cookieOf(reply, 'koa.sid')?.value).toBe(sid);
      expect(store.writes().map((c) => [c.method, c.key, c.session?.user])).toEqual([
        ['set', `koa:sess:${sid}`, 'ann'],
      ]);
    });

    it('does not save a new, empty session', async () => {
      const store = new RecordingStore();
      const t = await startApp(Koa, { store, rolling: true }, (ctx) => {
        ctx.body = { empty: Object.keys(ctx.session as object).length === 1 };
      });
      const reply = await t.client().get('/');
      expect(reply.body).toEqual({ empty: true });
      expect(reply.setCookies).toEqual([]);
      expect(store.writes()).toEqual([]);
    });
  });

  describe('allowEmpty', () => {
    it('is off by default: a new session left empty is not saved', async () => {
      const store = new RecordingStore();
      const t = await startApp(Koa, { store }, (ctx) => {
        ctx.body = { keys: Object.keys(ctx.session as object) };
      });
      const reply = await t.client().get('/');
      expect(reply.body).toEqual({ keys: ['cookie'] });
      expect(reply.setCookies).toEqual([]);
      expect(store.writes()).toEqual([]);
    });

    it('saves a new session that the handler read but left empty', async () => {
      const store = new RecordingStore();
      const t = await startApp(Koa, { store, allowEmpty: true }, (ctx) => {
        ctx.body = { keys: Object.keys(ctx.session as object), sid: ctx.sessionId };
      });
      const reply = await t.client().get('/');
      expect(cookieOf(reply, 'koa.sid')?.value).toBe(reply.body.sid);
      expect(store.inner.get(`koa:sess:${reply.body.sid}`)).toEqual({ cookie: expect.objectContaining({ path: '/' }) });
    });

    // Regression: with allowEmpty, a new session the handler never read used to stringify `undefined`
    // and fail with a 500; the empty session is saved, as the reference does.
    it('saves a new session that the handler never touched', async () => {
      const store = new RecordingStore();
      const t = await startApp(Koa, { store, allowEmpty: true }, (ctx) => {
        ctx.body = 'hello';
      });
      const reply = await t.client().get('/');
      expect(reply.status).toBe(200);
      expect(reply.text).toBe('hello');
      const sid = cookieOf(reply, 'koa.sid')?.value;
      expect(sid).toMatch(/^[\w-]{32}$/);
      expect(store.inner.get(`koa:sess:${sid}`)).toEqual({ cookie: expect.objectContaining({ httpOnly: true }) });
    });
  });

  describe('genSid', () => {
    it('uses a synchronous generator, called with this = ctx and length 24', async () => {
      const seen: { self: unknown; length: number }[] = [];
      let n = 0;
      const store = new MemoryStore();
      const t = await startApp(
        Koa,
        {
          store,
          genSid(length) {
            seen.push({ self: this.state.marker, length });
            return `sid-${++n}`;
          },
        },
        counter,
        { before: [(ctx, next) => ((ctx.state.marker = 'the ctx'), next())] },
      );
      const reply = await t.client().get('/');
      expect(reply.body).toEqual({ count: 1, sid: 'sid-1' });
      expect(cookieOf(reply, 'koa.sid')?.value).toBe('sid-1');
      expect(store.get('koa:sess:sid-1')).toMatchObject({ count: 1 });
      expect(seen).toEqual([{ self: 'the ctx', length: 24 }]);
    });

    it('awaits an async generator', async () => {
      const store = new MemoryStore();
      const genSid = vi.fn(async function (this: unknown, length: number) {
        await new Promise((resolve) => setImmediate(resolve));
        return `async-${length}`;
      });
      const t = await startApp(Koa, { store, genSid }, (ctx) => {
        (ctx.session as StoredSession).user = 'ann';
        ctx.body = 'ok';
      });
      const client = t.client();
      const reply = await client.get('/');
      expect(cookieOf(reply, 'koa.sid')?.value).toBe('async-24');
      expect(store.get('koa:sess:async-24')).toMatchObject({ user: 'ann' });
      expect(genSid).toHaveBeenCalledTimes(1);
      expect(genSid.mock.contexts[0]).toHaveProperty('cookies');
    });

    it('defaults to 32-character url-safe ids, different for each new session', async () => {
      const t = await startApp(Koa, {}, counter);
      const a = (await t.client().get('/')).body.sid as string;
      const b = (await t.client().get('/')).body.sid as string;
      expect(a).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(b).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(a).not.toBe(b);
    });
  });

  describe('valid', () => {
    it('is called with ctx and the loaded session; false gives a fresh session with a new sid', async () => {
      const store = new MemoryStore();
      const seen: unknown[] = [];
      const t = await startApp(
        Koa,
        {
          store,
          valid: (ctx, sess) => {
            seen.push([ctx.path, sess.count]);
            return ctx.get('user-agent') !== 'other';
          },
        },
        counter,
      );
      const client = t.client();
      const sid = (await client.get('/one')).body.sid;
      expect(seen).toEqual([]); // a new session is not validated
      expect((await client.get('/two')).body).toEqual({ count: 2, sid });
      const reply = await client.get('/three', { headers: { 'user-agent': 'other' } });
      expect(reply.body.count).toBe(1);
      expect(reply.body.sid).not.toBe(sid);
      expect(cookieOf(reply, 'koa.sid')?.value).toBe(reply.body.sid);
      expect(seen).toEqual([
        ['/two', 1],
        ['/three', 2],
      ]);
      // The refused session is not overwritten: it is simply not adopted.
      expect(store.get(`koa:sess:${sid}`)).toMatchObject({ count: 2 });
    });
  });

  describe('beforeSave', () => {
    it('runs right before each write, with ctx and the session; its changes are saved', async () => {
      const store = new MemoryStore();
      const calls: unknown[] = [];
      const t = await startApp(
        Koa,
        {
          store,
          beforeSave: (ctx, sess) => {
            calls.push([ctx.path, sess.count]);
            sess.savedBy = ctx.path;
          },
        },
        (ctx) => {
          if (ctx.path === '/read') {
            ctx.body = { savedBy: (ctx.session as StoredSession).savedBy };
            return;
          }
          return counter(ctx, async () => undefined);
        },
      );
      const client = t.client();
      const sid = (await client.get('/one')).body.sid;
      expect(store.get(`koa:sess:${sid}`)).toMatchObject({ count: 1, savedBy: '/one' });
      expect((await client.get('/read')).body).toEqual({ savedBy: '/one' });
      expect(calls).toEqual([['/one', 1]]); // nothing written, no hook, on an unchanged session
      await client.get('/two');
      expect(store.get(`koa:sess:${sid}`)).toMatchObject({ count: 2, savedBy: '/two' });
    });
  });

  describe('sessionIdStore', () => {
    it('carries the sid where the app says (a header), with this = ctx', async () => {
      const store = new MemoryStore();
      const sessionIdStore: SessionIdStore = {
        get() {
          return this.get('x-session-id') || undefined;
        },
        set(sid, sess) {
          this.set('x-session-id', sid);
          this.set('x-session-count', String(sess.count));
        },
        reset() {
          this.set('x-session-reset', '1');
        },
      };
      const t = await startApp(
        Koa,
        { store, sessionIdStore },
        (ctx) => {
          if (ctx.path === '/logout') {
            ctx.session = null;
            ctx.body = 'bye';
            return;
          }
          return counter(ctx, async () => undefined);
        },
        { keys: null },
      );
      const client = t.client();
      const first = await client.get('/');
      const sid = first.headers.get('x-session-id')!;
      expect(sid).toBe(first.body.sid);
      expect(first.headers.get('x-session-count')).toBe('1');
      expect(first.setCookies).toEqual([]);

      const second = await client.get('/', { headers: { 'x-session-id': sid } });
      expect(second.body).toEqual({ count: 2, sid });
      expect(second.headers.get('x-session-count')).toBe('2');

      const unknown = await client.get('/', { headers: { 'x-session-id': 'nope' } });
      expect(unknown.headers.get('x-session-reset')).toBe('1');
      expect(unknown.body.count).toBe(1);
      expect(unknown.body.sid).not.toBe('nope');

      const out = await client.get('/logout', { headers: { 'x-session-id': sid } });
      expect(out.headers.get('x-session-reset')).toBe('1');
      expect(store.get(`koa:sess:${sid}`)).toBeUndefined();
    });
  });

  describe('reconnectTimeout', () => {
    it('is accepted as a number of ms', async () => {
      const t = await startApp(Koa, { reconnectTimeout: 2_000 }, counter);
      expect((await t.client().get('/')).body.count).toBe(1);
    });
  });
});

describe('option validation (at creation)', () => {
  const bad: [string, unknown][] = [
    ['options', 'not an object'],
    ['key', ''],
    ['key', 'has;semicolon'],
    ['key', 'has=equals'],
    ['key', 42],
    ['prefix', 7],
    ['ttl', -1],
    ['ttl', 'soon'],
    ['cookie', 'yes'],
    ['cookie.maxAge', -5],
    ['cookie.maxAge', 'forever'],
    ['cookie.path', 'no-slash'],
    ['cookie.sameSite none without secure', { sameSite: 'none' }],
    ['rolling', 'yes'],
    ['defer', 1],
    ['allowEmpty', 'true'],
    ['genSid', 'abc'],
    ['errorHandler', {}],
    ['valid', true],
    ['beforeSave', 1],
    ['sessionIdStore', { get() {} }],
    ['reconnectTimeout', -1],
    ['reconnectTimeout', '10s'],
    ['store', { get() {}, set() {} }],
    ['store', 'redis'],
  ];

  function optionsFor(name: string, value: unknown): unknown {
    if (name === 'options') return value;
    if (name.startsWith('cookie.sameSite')) return { cookie: value };
    if (name.startsWith('cookie.')) return { cookie: { [name.slice(7)]: value } };
    return { [name]: value };
  }

  it.each(bad)('%s = %j throws a TypeError naming the problem', (name, value) => {
    const create = () => session(optionsFor(name, value) as never);
    expect(create).toThrow(TypeError);
    expect(create).toThrow(/koa-session-machine/);
  });

  it('accepts every documented option at once', () => {
    expect(() =>
      session({
        key: 'k',
        store: new MemoryStore(),
        prefix: '',
        ttl: () => 1000,
        cookie: { maxAge: null, path: '/x', domain: 'example.com', secure: true, sameSite: 'none', httpOnly: false },
        rolling: true,
        defer: false,
        allowEmpty: true,
        genSid: () => 'x',
        errorHandler: () => undefined,
        valid: () => true,
        beforeSave: () => undefined,
        sessionIdStore: { get: () => undefined, set: () => undefined, reset: () => undefined },
        reconnectTimeout: 0,
      }),
    ).not.toThrow();
  });

  it('refuses a generator-function store with a message that says why', () => {
    const store = {
      *get() {},
      set() {},
      destroy() {},
    };
    expect(() => session({ store: store as never })).toThrow(/generator/);
  });

  it('an empty app.keys array fails with the same clear message', async () => {
    const t = await startApp(KOA_VERSIONS[0]!.Koa, {}, counter, { keys: [] });
    const reply = await t.client().get('/');
    expect(reply.status).toBe(500);
    expect(t.errors[0]).toBeInstanceOf(TypeError);
    expect(t.errors[0]!.message).toMatch(/app\.keys/);
  });

  it('a signed cookie without app.keys fails with a clear message, not a crash', async () => {
    const t = await startApp(KOA_VERSIONS[0]!.Koa, {}, counter, { keys: null });
    const reply = await t.client().get('/');
    expect(reply.status).toBe(500);
    expect(t.errors[0]).toBeInstanceOf(TypeError);
    expect(t.errors[0]!.message).toMatch(/app\.keys/);
  });
});
