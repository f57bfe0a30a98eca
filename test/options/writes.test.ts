/**
 * The options that decide when a session is written, on Koa 2 and Koa 3: `rolling` (re-send the
 * cookie and refresh the store TTL on every request that loads a session), `allowEmpty` (save a
 * new session left empty) and `beforeSave` (the app's last change before each write).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore, type StoredSession } from '../../src/index.js';
import { KOA_VERSIONS } from '../helpers/koa.js';
import { closeApps, counter, startApp } from '../helpers/apps.js';
import { cookieOf } from '../helpers/set-cookies.js';
import { RecordingStore } from '../helpers/recording-store.js';

afterEach(closeApps);

const DAY = 24 * 60 * 60 * 1000;

describe.each(KOA_VERSIONS)('rolling, allowEmpty and beforeSave on $name', ({ Koa }) => {
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
});
