/**
 * The outage policy, `storeOutage` (docs/store-outages.md): with 'fail' (the default) a request the
 * store cannot serve answers 503 "session store is unavailable"; with 'degrade' it is served with an
 * empty session that is never saved, and an `onEvent` notice says why. Either way an outage never
 * reaches the app's `errorHandler`, which still gets the store errors that are not outages (errors
 * about the data).
 *
 * With a store whose connection the test controls; the same policies on a real redis-server killed
 * mid-request are in redis-server-faults.test.ts.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { MemoryStore, RedisStore, type StoredSession } from '../../src/index.js';
import { Client } from '../helpers/http.js';
import { startRedisServer } from '../helpers/redis-server.js';
import { ControlledStore } from './fixtures/controlled-store.js';
import { closeApps } from '../helpers/apps.js';
import { counterApp } from './fixtures/counter-app.js';

const redisUrl = inject('redisUrl');

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  await closeApps();
  for (const cleanup of cleanups.splice(0).reverse()) await (async () => cleanup())().catch(() => undefined);
});

/** A counter app with `storeOutage: 'degrade'` and a 50 ms `storeTimeout`. */
async function degradingServer() {
  const store = new ControlledStore();
  const app = await counterApp({ store: store as never, storeTimeout: 50, storeOutage: 'degrade' });
  return { store, notices: app.degraded, url: app.url };
}

describe("storeOutage: 'fail' (the default)", () => {
  it("with 'fail', a closed store answers 503, not 500", async () => {
    const store = new ControlledStore();
    const app = await counterApp({ store: store as never });
    const client = new Client(app.url);
    await client.get('/');
    store.get = async () => {
      throw Object.assign(new Error('RedisStore: the store is closed'), { code: 'ERR_STORE_CLOSED' });
    };
    const reply = await client.get('/');
    expect(reply.status).toBe(503);
    expect(reply.text).toBe('session store is unavailable');
  });
});

describe("storeOutage: 'degrade'", () => {
  it("'degrade' serves an empty session that is never saved, and says so", async () => {
    const { store, notices, url } = await degradingServer();
    const client = new Client(url);
    expect((await client.get('/')).body).toEqual({ n: 1 });
    const sid = client.cookie('koa.sid')!;
    store.stall = new Promise(() => undefined);
    const degraded = await client.get('/');
    expect(degraded.status).toBe(200);
    expect(degraded.body).toEqual({ n: 1 });
    expect(degraded.setCookies).toEqual([]);
    expect(notices).toEqual(['get got no answer within 50 ms']);
    // Nothing overwrote the stored session.
    expect(store.inner.get('koa:sess:' + sid)?.n).toBe(1);
  });

  it('a write that meets an outage leaves the session unsaved and the request answered', async () => {
    const { store, notices, url } = await degradingServer();
    store.stall = new Promise(() => undefined);
    const reply = await new Client(url).get('/');
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ n: 1 });
    expect(reply.setCookies).toEqual([]);
    expect(notices).toEqual(['set got no answer within 50 ms']);
  });
});

describe('store errors that are not outages still go to errorHandler', () => {
  it('errorHandler still sees store errors that are not outages', async () => {
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

  it('a store whose get rejects with a plain Error: errorHandler gets it, 500 by default', async () => {
    const inner = new MemoryStore();
    const store = {
      get: async () => Promise.reject(new Error('the disk is on fire')),
      set: async (key: string, value: StoredSession, ttl?: number) => inner.set(key, value, ttl),
      destroy: async (key: string) => inner.destroy(key),
    };
    const app = await counterApp({ store });
    const browser = new Client(app.url);
    expect((await browser.get('/')).status).toBe(200);
    const reply = await browser.get('/');
    expect(reply.status).toBe(500);
    expect(app.handled).toEqual(['get: the disk is on fire']);
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
