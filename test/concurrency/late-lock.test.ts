/**
 * `concurrency: 'serialize'` on a Redis frozen past the lock's wait: the request waiting for the
 * lock gets a 503 after `lockTimeout` + `storeTimeout`, and the lock Redis grants it after the thaw
 * (its `SET NX` was already in Redis's socket) has no holder. It must be released at once; kept, its
 * lease would be renewed for ever and the session locked for good (seen in the chaos suite).
 */
import Koa from 'koa';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { RedisStore } from '../../src/index.js';
import { closeApps, startApp } from '../helpers/apps.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

const redisUrl = inject('redisUrl');

let redis: RedisServer | undefined;
let store: RedisStore | undefined;
afterEach(async () => {
  redis?.thaw();
  await closeApps();
  await store?.close();
  await redis?.dispose();
  store = redis = undefined;
});

describe.skipIf(!redisUrl)("a lock granted after its request gave up ('serialize', RedisStore)", () => {
  it('is released: the next request of the session gets the lock and its session', async () => {
    redis = await startRedisServer();
    store = new RedisStore({ url: redis.url });
    const lockTimeout = 300;
    const storeTimeout = 300;
    const lockLease = 1_000;
    const served = await startApp(
      Koa,
      { store, concurrency: 'serialize', lockTimeout, storeTimeout, lockLease },
      (ctx) => {
        const s = ctx.session!;
        s.n = ((s.n as number) ?? 0) + 1;
        ctx.body = { n: s.n };
      },
    );
    const browser = served.client();
    expect((await browser.get('/')).body).toEqual({ n: 1 });

    redis.freeze();
    // Its lock's SET NX waits in the frozen server's socket: a 503 once the wait is over.
    expect((await browser.get('/')).status).toBe(503);
    redis.thaw();

    // Past several leases: a lock kept by nobody would have been renewed all along.
    await new Promise((resolve) => setTimeout(resolve, 3 * lockLease));
    const after = await browser.get('/');
    expect(after.status).toBe(200);
    expect(after.body).toEqual({ n: 2 });
  });
});
