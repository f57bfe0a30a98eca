/**
 * `errorHandler(err, type, ctx)`: which store errors reach it and what its answer does. A failed
 * read reaches it as 'get', a failed write (a new session's `set` or a loaded one's rewrite) as
 * 'set'; returning swallows the error (get: a fresh session; set: nothing saved), and the default
 * rethrows it renamed 'koa-generic-session <type> error', as koa-generic-session does. A store's
 * "not found" (ENOENT) is no error, and an outage never reaches it (outages/outage-policy.test.ts):
 * errors about the data still do, on a store that reports its connection and on a real Redis.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { RedisStore } from '../../src/index.js';
import { KOA_VERSIONS } from '../helpers/koa.js';
import { closeApps, counter, startApp } from '../helpers/apps.js';
import { Client } from '../helpers/http.js';
import { expectResetCookies } from '../helpers/set-cookies.js';
import { RecordingStore } from '../helpers/recording-store.js';
import { plainSyncStore } from '../helpers/legacy-stores.js';
import { startRedisServer } from '../helpers/redis-server.js';
import { PREFIX } from '../helpers/store-keys.js';
import { ControlledStore } from '../outages/fixtures/controlled-store.js';
import { counterApp } from '../outages/fixtures/counter-app.js';

const redisUrl = inject('redisUrl');

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  await closeApps();
  for (const cleanup of cleanups.splice(0).reverse()) await (async () => cleanup())().catch(() => undefined);
});

/** How a store method fails: it throws, or it returns a rejected Promise. */
const HOW = ['throws', 'rejects'] as const;
type How = (typeof HOW)[number];

/** A get/set/destroy store whose `get` or `set`, once told to, fails with the given error. */
function failingStore() {
  const inner = plainSyncStore();
  const failing: Partial<Record<'get' | 'set', { how: How; error: Error }>> = {};
  const attempt = <T>(method: 'get' | 'set', call: () => T): T | Promise<never> => {
    const failure = failing[method];
    if (!failure) return call();
    if (failure.how === 'throws') throw failure.error;
    return Promise.reject(failure.error);
  };
  return {
    failing,
    data: inner.data,
    get: (key: string) => attempt('get', () => inner.get(key)),
    set: (key: string, sess: unknown, ttl?: number) => attempt('set', () => inner.set(key, sess, ttl)),
    destroy: (key: string) => inner.destroy(key),
  };
}

describe.each(KOA_VERSIONS)('errorHandler on $name', ({ Koa }) => {
  it("a get failure, thrown or rejected, reaches it as 'get' with the ctx; returning gives a fresh session under a new sid", async () => {
    const store = failingStore();
    const seen: [Error, string, string][] = [];
    const t = await startApp(
      Koa,
      { store, errorHandler: (err, type, ctx) => void seen.push([err, type, ctx.path]) },
      counter,
    );
    for (const how of HOW) {
      delete store.failing.get;
      seen.length = 0;
      const client = t.client();
      const first = await client.get('/a');
      const failure = new Error(`get ${how}`);
      store.failing.get = { how, error: failure };
      const reply = await client.get('/b');
      expect(reply.status, how).toBe(200);
      expect(reply.body.count).toBe(1);
      expect(reply.body.sid).not.toBe(first.body.sid);
      expect(seen).toHaveLength(1);
      expect(seen[0]![0]).toBe(failure);
      expect(seen[0]!.slice(1)).toEqual(['get', '/b']);
    }
  });

  it("a set failure, thrown or rejected, reaches it as 'set'; returning answers normally, saves nothing, sends no cookie", async () => {
    const store = failingStore();
    const seen: [Error, string][] = [];
    const t = await startApp(Koa, { store, errorHandler: (err, type) => void seen.push([err, type]) }, counter);
    for (const how of HOW) {
      seen.length = 0;
      const failure = new Error(`set ${how}`);
      store.failing.set = { how, error: failure };
      const reply = await t.client().get('/');
      expect(reply.status, how).toBe(200);
      expect(reply.body.count).toBe(1);
      expect(seen).toHaveLength(1);
      expect(seen[0]![0]).toBe(failure);
      expect(seen[0]![1]).toBe('set');
      expect(store.data.size).toBe(0);
      expect(reply.setCookies).toEqual([]);
    }
  });

  it("defaults to rethrowing, named 'koa-generic-session <type> error': the request fails with the store's own error", async () => {
    const store = failingStore();
    const t = await startApp(Koa, { store }, counter);
    const setFailures = HOW.map((how) => ({ how, error: new Error('set broke') }));
    for (const failure of setFailures) {
      store.failing.set = failure;
      expect((await t.client().get('/')).status, failure.how).toBe(500);
    }
    expect(t.errors).toHaveLength(2);
    setFailures.forEach((failure, i) => expect(t.errors[i]).toBe(failure.error));
    expect(t.errors.map((e) => [e.name, e.message])).toEqual([
      ['koa-generic-session set error', 'set broke'],
      ['koa-generic-session set error', 'set broke'],
    ]);

    delete store.failing.set;
    for (const how of HOW) {
      delete store.failing.get;
      const client = t.client();
      await client.get('/');
      store.failing.get = { how, error: new Error('get broke') };
      expect((await client.get('/')).status, how).toBe(500);
    }
    expect(t.errors.slice(2).map((e) => [e.name, e.message])).toEqual([
      ['koa-generic-session get error', 'get broke'],
      ['koa-generic-session get error', 'get broke'],
    ]);
  });

  it('a handler that throws its own error propagates that error', async () => {
    const store = failingStore();
    store.failing.set = { how: 'throws', error: new Error('set broke') };
    const t = await startApp(
      Koa,
      {
        store,
        errorHandler: () => {
          throw Object.assign(new Error('custom'), { status: 503, expose: true });
        },
      },
      counter,
    );
    const reply = await t.client().get('/');
    expect(reply.status).toBe(503);
    expect(reply.text).toBe('custom');
  });

  it('a get error with code ENOENT means "not found": no errorHandler, a fresh session', async () => {
    const inner = plainSyncStore();
    const enoent = Object.assign(new Error('no such session'), { code: 'ENOENT' });
    let mode: 'ok' | 'throw' | 'reject' = 'ok';
    const store = {
      ...inner,
      get: (key: string) => {
        if (mode === 'throw') throw enoent;
        if (mode === 'reject') return Promise.reject(enoent);
        return inner.get(key);
      },
    };
    const seen: unknown[] = [];
    const t = await startApp(Koa, { store, errorHandler: (err) => void seen.push(err) }, (ctx) => {
      const s = ctx.session as Record<string, unknown>;
      if (ctx.path === '/inc') s.count = 1;
      ctx.body = { count: s.count ?? null, sid: ctx.sessionId };
    });
    for (const m of ['throw', 'reject'] as const) {
      const client = t.client();
      mode = 'ok';
      const sid = (await client.get('/inc')).body.sid;
      mode = m;
      const reply = await client.get('/read');
      expect(reply.status, m).toBe(200);
      expect(reply.body.count).toBeNull();
      expect(reply.body.sid).not.toBe(sid);
      expectResetCookies(reply);
    }
    expect(seen).toEqual([]);
  });

  it("a failing rewrite of a loaded session reaches it as 'set'", async () => {
    const store = new RecordingStore();
    const failure = new Error('update failed');
    const seen: unknown[] = [];
    const t = await startApp(Koa, { store, errorHandler: (err, type) => void seen.push([err, type]) }, counter);
    const client = t.client();
    const sid = (await client.get('/')).body.sid;
    store.update = () => {
      throw failure;
    };
    const reply = await client.get('/');
    expect(reply.status).toBe(200);
    expect(seen).toEqual([[failure, 'set']]);
    expect(store.inner.get(PREFIX + sid)).toMatchObject({ count: 1 });
  });
});

describe('store errors that are not outages still reach errorHandler', () => {
  it('on a store that reports its connection, a plain error reaches it; a forged cookie is never looked up', async () => {
    const store = new ControlledStore();
    const seen: string[] = [];
    store.get = async () => {
      throw new Error('boom');
    };
    const app = await counterApp({
      store: store as never,
      errorHandler: (err, type) => void seen.push(`${type}:${err.message}`),
    });
    const reply = await new Client(app.url).get('/', { cookie: 'koa.sid=abc; koa.sid.sig=bad' });
    expect(reply.status).toBe(200);
    expect(seen).toEqual([]); // a forged cookie is never looked up
    const client = new Client(app.url);
    await client.get('/');
    await client.get('/');
    expect(seen).toEqual(['get:boom']);
  });

  it.skipIf(!redisUrl)(
    'WRONGTYPE (the session key holds a list): errorHandler gets it as a get error, the request answers 500',
    async () => {
      const redis = await startRedisServer();
      cleanups.push(() => redis.dispose());
      const store = new RedisStore({ url: redis.url, redis: { maxRetriesPerRequest: 1, retryStrategy: () => 50 } });
      cleanups.push(() => store.close());
      const app = await counterApp({ store });
      const browser = new Client(app.url);
      await browser.get('/');
      const control = new Redis(redis.url);
      const key = `koa:sess:${browser.cookie('koa.sid')}`;
      await control.del(key);
      await control.rpush(key, 'not a session');
      control.disconnect();

      const reply = await browser.get('/');
      expect(reply.status).toBe(500);
      expect(app.handled).toEqual([expect.stringMatching(/^get: WRONGTYPE /)]);
    },
  );
});
