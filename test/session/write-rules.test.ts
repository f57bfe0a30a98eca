/**
 * SPEC §4.1–4.11 and §4.13: the reference's contract, as a client and the store see it, on Koa 2
 * and Koa 3. (§4.12, the store connection status, is tested elsewhere.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import session, { MemoryStore, type StoredSession } from '../../src/index.js';
import { KOA_VERSIONS } from '../helpers/koa.js';
import { closeApps, type Handler, startApp } from '../helpers/apps.js';
import { cookieNames, cookieOf, expectResetCookies } from '../helpers/set-cookies.js';
import { RecordingStore } from '../helpers/recording-store.js';
import { plainSyncStore } from '../helpers/legacy-stores.js';
import { PREFIX } from '../helpers/store-keys.js';

afterEach(closeApps);

const sess = (ctx: { session: unknown }) => ctx.session as StoredSession;

/** The routes most tests share. Routes that must not touch the session never read `ctx.session`. */
const routes: Handler = async (ctx) => {
  switch (ctx.path) {
    case '/none':
      ctx.body = 'no session used';
      return;
    case '/inc': {
      const s = sess(ctx);
      s.count = ((s.count as number) ?? 0) + 1;
      ctx.body = { count: s.count, sid: ctx.sessionId };
      return;
    }
    case '/read':
      ctx.body = { count: sess(ctx).count ?? null, sid: ctx.sessionId };
      return;
    case '/same': {
      const s = sess(ctx);
      const count = s.count;
      s.count = 'changed for a moment';
      s.count = count;
      ctx.body = { count: s.count ?? null };
      return;
    }
    case '/logout':
      ctx.session = null;
      ctx.body = { out: true };
      return;
  }
  ctx.status = 404;
};

describe.each(KOA_VERSIONS)('rules on $name', ({ Koa }) => {
  describe('writes only when the session changed', () => {
    it('a request that never uses the session costs no store call and no Set-Cookie', async () => {
      const store = new RecordingStore();
      const t = await startApp(Koa, { store }, routes);
      const reply = await t.client().get('/none');
      expect(reply.text).toBe('no session used');
      expect(reply.setCookies).toEqual([]);
      expect(store.calls).toEqual([]);
    });

    it('a new session that was only read is not saved', async () => {
      const store = new RecordingStore();
      const t = await startApp(Koa, { store }, routes);
      const reply = await t.client().get('/read');
      expect(reply.body.count).toBeNull();
      expect(reply.setCookies).toEqual([]);
      expect(store.writes()).toEqual([]);
    });

    it('a loaded session that was read, or not used, or set back to its value, is not written', async () => {
      const store = new RecordingStore();
      const t = await startApp(Koa, { store }, routes);
      const client = t.client();
      await client.get('/inc');
      expect(store.writes()).toHaveLength(1);
      store.reset();
      for (const path of ['/read', '/none', '/same']) {
        const reply = await client.get(path);
        expect(reply.status).toBe(200);
        expect(reply.setCookies, path).toEqual([]);
      }
      expect(store.writes()).toEqual([]);
      expect(store.of('get')).toHaveLength(3);
    });

    it('a change, even deep inside the session, writes once and sends the cookie', async () => {
      const store = new RecordingStore();
      const t = await startApp(Koa, { store }, (ctx) => {
        const s = sess(ctx);
        if (ctx.path === '/init') s.profile = { name: 'ann', tags: ['a'] };
        if (ctx.path === '/deep') (s.profile as { tags: string[] }).tags.push('b');
        ctx.body = { sid: ctx.sessionId };
      });
      const client = t.client();
      const sid = (await client.get('/init')).body.sid;
      store.reset();
      const reply = await client.get('/deep');
      expect(store.writes().map((c) => [c.method, c.key])).toEqual([['update', PREFIX + sid]]);
      expect(cookieOf(reply, 'koa.sid')?.value).toBe(sid);
      expect(store.inner.get(PREFIX + sid)!.profile).toEqual({ name: 'ann', tags: ['a', 'b'] });
    });
  });

  describe('a sid is never adopted unless the store knows it, it is signed and valid', () => {
    it('a sid the store does not know gives a fresh session under a new sid', async () => {
      const store = new MemoryStore();
      const t = await startApp(Koa, { store }, routes);
      const client = t.client();
      const old = (await client.get('/inc')).body.sid;
      store.destroy(PREFIX + old);
      const reply = await client.get('/inc');
      expect(reply.body.count).toBe(1);
      expect(reply.body.sid).not.toBe(old);
      expect(cookieOf(reply, 'koa.sid')?.value).toBe(reply.body.sid);
      expect(store.get(PREFIX + old)).toBeUndefined();
      expect(store.get(PREFIX + reply.body.sid)).toMatchObject({ count: 1 });
    });

    it('an unknown sid on a request that saves nothing gets its cookie reset', async () => {
      const store = new MemoryStore();
      const t = await startApp(Koa, { store }, routes);
      const client = t.client();
      const old = (await client.get('/inc')).body.sid;
      store.destroy(PREFIX + old);
      const reply = await client.get('/read');
      expect(reply.body.count).toBeNull();
      expect(reply.body.sid).not.toBe(old);
      expectResetCookies(reply);
      expect(client.cookie('koa.sid')).toBeUndefined();
    });

    it('a bad signature gives a fresh session under a new sid, leaving the real one alone', async () => {
      const store = new MemoryStore();
      const t = await startApp(Koa, { store }, routes);
      const victim = await t.client().get('/inc');
      const sid = victim.body.sid;
      const sig = cookieOf(victim, 'koa.sid.sig')!.value;
      const forged = `koa.sid=${sid}; koa.sid.sig=${sig.slice(1)}x`;
      const reply = await t.client().get('/inc', { cookie: forged });
      expect(reply.body.count).toBe(1);
      expect(reply.body.sid).not.toBe(sid);
      expect(cookieOf(reply, 'koa.sid')?.value).toBe(reply.body.sid);
      expect(store.get(PREFIX + sid)).toMatchObject({ count: 1 });

      const untouched = await t.client().get('/read', { cookie: forged });
      expect(untouched.body.count).toBeNull();
      expectResetCookies(untouched);

      const unsigned = await t.client().get('/read', { cookie: `koa.sid=${sid}` });
      expect(unsigned.body.count).toBeNull();
      expect(unsigned.body.sid).not.toBe(sid);
      expectResetCookies(unsigned);
    });

    it('valid() returning false gives a fresh session under a new sid, and the old cookie is reset', async () => {
      const store = new MemoryStore();
      const t = await startApp(Koa, { store, valid: (_ctx, s) => s.count !== 2 }, routes);
      const client = t.client();
      const sid = (await client.get('/inc')).body.sid;
      expect((await client.get('/inc')).body).toEqual({ count: 2, sid });
      const reply = await client.get('/read');
      expect(reply.body.count).toBeNull();
      expect(reply.body.sid).not.toBe(sid);
      expectResetCookies(reply);
    });
  });

  describe('ctx.session = null', () => {
    it('on a loaded session destroys it and expires the cookie and its .sig', async () => {
      const store = new RecordingStore();
      const t = await startApp(Koa, { store }, routes);
      const client = t.client();
      const sid = (await client.get('/inc')).body.sid;
      const reply = await client.get('/logout');
      expect(reply.body).toEqual({ out: true });
      expectResetCookies(reply);
      expect(cookieOf(reply, 'koa.sid')!.attributes.path).toBe('/');
      expect(store.of('destroy').map((c) => c.key)).toEqual([PREFIX + sid]);
      expect(store.inner.get(PREFIX + sid)).toBeUndefined();
      // The next request starts over.
      expect((await client.get('/inc')).body.count).toBe(1);
    });

    it('on a new session does nothing: no store call, no cookie', async () => {
      const store = new RecordingStore();
      const t = await startApp(Koa, { store }, (ctx) => {
        sess(ctx).user = 'ann';
        ctx.session = null;
        ctx.body = { session: ctx.session };
      });
      const reply = await t.client().get('/');
      expect(reply.body).toEqual({ session: null });
      expect(reply.setCookies).toEqual([]);
      expect(store.calls).toEqual([]);
    });
  });

  describe('regenerateSession()', () => {
    it.each([false, true])('resolves to the new session (defer: %s)', async (defer) => {
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

    const regen: Handler = async (ctx, next) => {
      if (ctx.path === '/regen') {
        await ctx.regenerateSession();
        const s = sess(ctx);
        ctx.body = { sid: ctx.sessionId, keys: Object.keys(s) };
        return;
      }
      if (ctx.path === '/login') {
        await ctx.regenerateSession();
        sess(ctx).user = 'bob';
        ctx.body = { sid: ctx.sessionId };
        return;
      }
      return routes(ctx, next);
    };

    it('destroys the old entry and saves the modified new session under a new sid', async () => {
      const store = new RecordingStore();
      const t = await startApp(Koa, { store }, regen);
      const client = t.client();
      const old = (await client.get('/inc')).body.sid;
      const reply = await client.get('/login');
      const sid = reply.body.sid;
      expect(sid).toMatch(/^[\w-]{32}$/);
      expect(sid).not.toBe(old);
      expect(cookieOf(reply, 'koa.sid')?.value).toBe(sid);
      expect(store.of('destroy').map((c) => c.key)).toEqual([PREFIX + old]);
      expect(store.inner.get(PREFIX + old)).toBeUndefined();
      const saved = store.inner.get(PREFIX + sid)!;
      expect(saved.user).toBe('bob');
      expect(saved).not.toHaveProperty('count');
      expect((await client.get('/read')).body).toEqual({ count: null, sid });
    });

    it('saves nothing when the new session is left empty, and resets the cookie', async () => {
      const store = new RecordingStore();
      const t = await startApp(Koa, { store }, regen);
      const client = t.client();
      const old = (await client.get('/inc')).body.sid;
      store.reset();
      const reply = await client.get('/regen');
      expect(reply.body.keys).toEqual(['cookie']);
      expect(reply.body.sid).not.toBe(old);
      expect(store.of('destroy').map((c) => c.key)).toEqual([PREFIX + old]);
      expect(store.writes()).toEqual([]);
      expect(store.sessionCount).toBe(0);
      expectResetCookies(reply);
    });

    it('on a new session destroys nothing', async () => {
      const store = new RecordingStore();
      const t = await startApp(Koa, { store }, regen);
      const reply = await t.client().get('/login');
      expect(store.of('destroy')).toEqual([]);
      expect(cookieOf(reply, 'koa.sid')?.value).toBe(reply.body.sid);
      expect(store.inner.get(PREFIX + reply.body.sid)).toMatchObject({ user: 'bob' });
    });
  });

  describe('saveSession()', () => {
    it('writes now: before a redirect, the store holds the data and the redirect carries the cookie', async () => {
      const store = new RecordingStore();
      const t = await startApp(Koa, { store }, async (ctx, next) => {
        if (ctx.path !== '/login') return routes(ctx, next);
        sess(ctx).user = 'ann';
        await ctx.saveSession();
        const stored = store.inner.get(PREFIX + ctx.sessionId);
        ctx.set('x-stored-user', String(stored?.user));
        ctx.redirect('/home');
      });
      const client = t.client();
      const reply = await client.get('/login');
      expect(reply.status).toBe(302);
      expect(reply.headers.get('location')).toBe('/home');
      expect(reply.headers.get('x-stored-user')).toBe('ann');
      const sid = cookieOf(reply, 'koa.sid')?.value;
      expect(sid).toMatch(/^[\w-]{32}$/);
      expect(cookieOf(reply, 'koa.sid.sig')).toBeDefined();
      // Saved once: the end of the request finds nothing new to write.
      expect(store.writes()).toHaveLength(1);
      expect((await client.get('/read')).body.sid).toBe(sid);
    });

    it('changes made after saveSession() are saved at the end of the request', async () => {
      const store = new RecordingStore();
      const t = await startApp(Koa, { store }, async (ctx) => {
        const s = sess(ctx);
        s.a = 1;
        await ctx.saveSession();
        s.b = 2;
        ctx.body = { sid: ctx.sessionId };
      });
      const reply = await t.client().get('/');
      expect(store.writes()).toHaveLength(2);
      expect(store.inner.get(PREFIX + reply.body.sid)).toMatchObject({ a: 1, b: 2 });
    });

    it('on a loaded session rewrites it now', async () => {
      const store = new RecordingStore();
      const t = await startApp(Koa, { store }, async (ctx, next) => {
        if (ctx.path !== '/save') return routes(ctx, next);
        sess(ctx).count = 10;
        await ctx.saveSession();
        ctx.body = { stored: store.inner.get(PREFIX + ctx.sessionId)?.count };
      });
      const client = t.client();
      await client.get('/inc');
      expect((await client.get('/save')).body).toEqual({ stored: 10 });
    });
  });

  describe('ctx.sessionSave', () => {
    const save: Handler = (ctx, next) => {
      switch (ctx.path) {
        case '/skip':
          sess(ctx).count = 99;
          ctx.sessionSave = false;
          ctx.body = 'skipped';
          return;
        case '/skip-logout':
          ctx.session = null;
          ctx.sessionSave = false;
          ctx.body = 'kept';
          return;
        case '/force':
          ctx.body = { count: sess(ctx).count ?? null, sid: ctx.sessionId };
          ctx.sessionSave = true;
          return;
      }
      return routes(ctx, next);
    };

    it('false suppresses the write of a changed new session', async () => {
      const store = new RecordingStore();
      const t = await startApp(Koa, { store }, save);
      const reply = await t.client().get('/skip');
      expect(reply.text).toBe('skipped');
      expect(reply.setCookies).toEqual([]);
      expect(store.writes()).toEqual([]);
    });

    it('false suppresses the write of a changed loaded session, and its destroy', async () => {
      const store = new RecordingStore();
      const t = await startApp(Koa, { store }, save);
      const client = t.client();
      const sid = (await client.get('/inc')).body.sid;
      store.reset();
      const skipped = await client.get('/skip');
      expect(skipped.setCookies).toEqual([]);
      const kept = await client.get('/skip-logout');
      expect(kept.setCookies).toEqual([]);
      expect(store.writes()).toEqual([]);
      expect(store.of('destroy')).toEqual([]);
      expect(store.inner.get(PREFIX + sid)).toMatchObject({ count: 1 });
    });

    it('true forces the write of an unchanged loaded session and re-sends the cookie', async () => {
      const store = new RecordingStore();
      const t = await startApp(Koa, { store }, save);
      const client = t.client();
      const sid = (await client.get('/inc')).body.sid;
      store.reset();
      const reply = await client.get('/force');
      expect(reply.body).toEqual({ count: 1, sid });
      expect(cookieOf(reply, 'koa.sid')?.value).toBe(sid);
      expect(store.writes().map((c) => [c.method, c.key])).toEqual([['update', PREFIX + sid]]);
    });

    it('true forces the save of a new, empty session', async () => {
      const store = new RecordingStore();
      const t = await startApp(Koa, { store }, save);
      const reply = await t.client().get('/force');
      const sid = reply.body.sid;
      expect(cookieOf(reply, 'koa.sid')?.value).toBe(sid);
      expect(store.inner.get(PREFIX + sid)).toEqual({ cookie: expect.objectContaining({ path: '/' }) });
    });

    // Regression: a forced save of a new session the handler never read used to stringify
    // `undefined` and fail with a 500; the empty session is saved, as the reference does.
    it('true forces the save of a new session the handler never read', async () => {
      const store = new RecordingStore();
      const t = await startApp(Koa, { store }, (ctx) => {
        ctx.sessionSave = true;
        ctx.body = 'forced';
      });
      const reply = await t.client().get('/');
      expect(reply.status).toBe(200);
      const sid = cookieOf(reply, 'koa.sid')?.value;
      expect(store.inner.get(PREFIX + sid)).toEqual({ cookie: expect.objectContaining({ path: '/' }) });
    });
  });

  describe('ctx.sessionId set by an earlier middleware', () => {
    it('forces the sid that is loaded and saved, on the first request and later ones', async () => {
      const store = new MemoryStore();
      store.set(`${PREFIX}forced-sid`, { cookie: { path: '/' }, count: 41 });
      const t = await startApp(Koa, { store }, routes, {
        before: [
          (ctx, next) => {
            const forced = ctx.get('x-forced-sid');
            if (forced) ctx.sessionId = forced;
            return next();
          },
        ],
      });
      for (const expected of [42, 43]) {
        const reply = await t.client().get('/inc', { headers: { 'x-forced-sid': 'forced-sid' } });
        expect(reply.body).toEqual({ count: expected, sid: 'forced-sid' });
        expect(cookieOf(reply, 'koa.sid')?.value).toBe('forced-sid');
        expect(store.get(`${PREFIX}forced-sid`)).toMatchObject({ count: expected });
      }
      // Without the header, a request gets its own session.
      const own = await t.client().get('/inc');
      expect(own.body.count).toBe(1);
      expect(own.body.sid).not.toBe('forced-sid');
    });
  });

  describe('an error thrown downstream', () => {
    it('still commits the session, then propagates', async () => {
      const store = new RecordingStore();
      const boom = new Error('handler failed');
      const t = await startApp(Koa, { store }, (ctx) => {
        sess(ctx).count = 7;
        throw boom;
      });
      const reply = await t.client().get('/');
      expect(reply.status).toBe(500);
      expect(t.errors).toEqual([boom]);
      const sets = store.of('set');
      expect(sets).toHaveLength(1);
      expect(store.inner.get(sets[0]!.key)).toMatchObject({ count: 7 });
    });

    it("keeps the error's status and saves the change of a loaded session", async () => {
      const store = new RecordingStore();
      const t = await startApp(Koa, { store }, async (ctx, next) => {
        if (ctx.path !== '/fail') return routes(ctx, next);
        sess(ctx).count = 100;
        ctx.throw(409, 'conflict');
      });
      const client = t.client();
      const sid = (await client.get('/inc')).body.sid;
      const reply = await client.get('/fail');
      expect(reply.status).toBe(409);
      expect(reply.text).toBe('conflict');
      expect(store.inner.get(PREFIX + sid)).toMatchObject({ count: 100 });
    });
  });

  describe('the API exists only under cookie.path', () => {
    it('outside the path there is no session, no sid, no cookie and no store call', async () => {
      const store = new RecordingStore();
      const t = await startApp(Koa, { store, cookie: { path: '/api' } }, (ctx) => {
        if (ctx.path.startsWith('/api')) {
          const s = sess(ctx);
          s.count = ((s.count as number) ?? 0) + 1;
          ctx.body = { count: s.count };
          return;
        }
        ctx.body = {
          session: ctx.session === undefined,
          sessionId: ctx.sessionId === undefined,
          regenerate: ctx.regenerateSession === undefined,
          save: ctx.saveSession === undefined,
        };
      });
      const client = t.client();
      const outsideFirst = await client.get('/home');
      expect(outsideFirst.body).toEqual({ session: true, sessionId: true, regenerate: true, save: true });
      const inside = await client.get('/api/count');
      expect(inside.body).toEqual({ count: 1 });
      expect(cookieOf(inside, 'koa.sid')!.attributes.path).toBe('/api');
      expect(cookieOf(inside, 'koa.sid.sig')!.attributes.path).toBe('/api');
      expect((await client.get('/api/count')).body).toEqual({ count: 2 });
      store.reset();
      // The cookie is sent anyway (a client that ignores paths): outside the path, nothing happens.
      const outside = await client.get('/home', { cookie: client.cookieHeader('/api') });
      expect(outside.body).toEqual({ session: true, sessionId: true, regenerate: true, save: true });
      expect(outside.setCookies).toEqual([]);
      expect(store.calls).toEqual([]);
    });
  });

  describe('a second instance of the middleware', () => {
    it('leaves the first in charge', async () => {
      const first = new RecordingStore();
      const second = new RecordingStore();
      const t = await startApp(Koa, { store: first }, routes, {
        after: [session({ store: second, key: 'other.sid', prefix: 'other:' }) as Handler],
      });
      const client = t.client();
      const reply = await client.get('/inc');
      expect(cookieNames(reply).sort()).toEqual(['koa.sid', 'koa.sid.sig']);
      expect((await client.get('/inc')).body.count).toBe(2);
      expect(first.inner.get(PREFIX + reply.body.sid)).toMatchObject({ count: 2 });
      expect(second.calls).toEqual([]);
    });
  });

  describe('session.cookie is stored with the data', () => {
    it('carries the cookie options, in the handler and in the store', async () => {
      const seenBySet: unknown[] = [];
      const inner = plainSyncStore();
      const store = {
        ...inner,
        set(key: string, s: StoredSession, ttl?: number) {
          // What stores written for koa-generic-session read.
          seenBySet.push(s.cookie.maxAge);
          inner.set(key, s, ttl);
        },
      };
      const t = await startApp(Koa, { store, cookie: { maxAge: 3_600_000, domain: '127.0.0.1' } }, (ctx) => {
        const s = sess(ctx);
        s.user = 'ann';
        ctx.body = { cookie: s.cookie, sid: ctx.sessionId };
      });
      const reply = await t.client().get('/');
      const expected = {
        httpOnly: true,
        path: '/',
        overwrite: true,
        signed: true,
        maxAge: 3_600_000,
        sameSite: 'lax',
        domain: '127.0.0.1',
      };
      expect(reply.body.cookie).toEqual(expected);
      expect(JSON.parse(inner.data.get(PREFIX + reply.body.sid)!)).toEqual({ user: 'ann', cookie: expected });
      expect(seenBySet).toEqual([3_600_000]);
    });
  });
});
