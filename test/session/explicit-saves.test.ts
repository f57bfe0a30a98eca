/**
 * Saving when the app says so, on Koa 2 and Koa 3: `saveSession()` writes now (before a redirect),
 * later changes are saved at the end; `ctx.sessionSave = false` skips the request's write or
 * destroy, `true` forces a write even of an unchanged or empty session.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { KOA_VERSIONS } from '../helpers/koa.js';
import { closeApps, type Handler, startApp } from '../helpers/apps.js';
import { cookieOf } from '../helpers/set-cookies.js';
import { RecordingStore } from '../helpers/recording-store.js';
import { PREFIX } from '../helpers/store-keys.js';
import { routes, sess } from './fixtures/routes.js';

afterEach(closeApps);

describe.each(KOA_VERSIONS)('saveSession() and ctx.sessionSave on $name', ({ Koa }) => {
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
});
