/**
 * What the end of a request writes, as koa-generic-session's users rely on it, on Koa 2 and Koa 3:
 * a session is written only when its JSON changed (a request that never uses it costs no store
 * call), the cookie goes with each write, an error thrown downstream still commits the change, and
 * `session.cookie` is stored with the data, where stores written for koa-generic-session read it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { StoredSession } from '../../src/index.js';
import { KOA_VERSIONS } from '../helpers/koa.js';
import { closeApps, startApp } from '../helpers/apps.js';
import { cookieOf } from '../helpers/set-cookies.js';
import { RecordingStore } from '../helpers/recording-store.js';
import { plainSyncStore } from '../helpers/legacy-stores.js';
import { PREFIX } from '../helpers/store-keys.js';
import { routes, sess } from './fixtures/routes.js';

afterEach(closeApps);

describe.each(KOA_VERSIONS)('when a session is written on $name', ({ Koa }) => {
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
