/**
 * `store`, `prefix` and `ttl`, as a koa-generic-session user sets them, on Koa 2 and Koa 3: where
 * a session is kept (any plain get/set/destroy store, a MemoryStore by default, `ctx.sessionStore`),
 * under which key, and for how long the store keeps it.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryStore, type StoredSession } from '../../src/index.js';
import { KOA_VERSIONS } from '../helpers/koa.js';
import { closeApps, counter, startApp } from '../helpers/apps.js';
import { cookieOf } from '../helpers/set-cookies.js';
import { sessionKeys } from '../helpers/store-keys.js';
import { RecordingStore } from '../helpers/recording-store.js';
import { plainPromiseStore, plainSyncStore } from '../helpers/legacy-stores.js';

afterEach(closeApps);

const DAY = 24 * 60 * 60 * 1000;

describe.each(KOA_VERSIONS)('store, prefix and ttl on $name', ({ Koa }) => {
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
});
