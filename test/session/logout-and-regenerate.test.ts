/**
 * Logging out and regenerating, on Koa 2 and Koa 3: `ctx.session = null` destroys a loaded session
 * and expires the cookie and its `.sig` (and does nothing to a new one); `regenerateSession()`
 * destroys the old entry and saves the new session under a new sid, only if it holds something.
 * (That a slower request cannot undo either is in logout-sticks.test.ts.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/index.js';
import { KOA_VERSIONS } from '../helpers/koa.js';
import { closeApps, type Handler, startApp } from '../helpers/apps.js';
import { cookieOf, expectResetCookies } from '../helpers/set-cookies.js';
import { RecordingStore } from '../helpers/recording-store.js';
import { PREFIX } from '../helpers/store-keys.js';
import { routes, sess } from './fixtures/routes.js';

afterEach(closeApps);

describe.each(KOA_VERSIONS)('logout and regeneration on $name', ({ Koa }) => {
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
});
