/**
 * The conformance kit on koa-redis 4 (CommonJS, its own ioredis 4 client), against the run's real
 * redis-server. koa-redis has only get/set/destroy and is an EventEmitter: paths that need
 * update(), touch() or lock() are skipped with the reason; the rest run unchanged.
 */
import type { EventEmitter } from 'node:events';
import redisStore from 'koa-redis';
import { describe, inject, it } from 'vitest';
import type { SessionStore } from '../../src/index.js';
import { testStore } from '../../src/testing/index.js';

const url = inject('redisUrl');

type KoaRedis = ReturnType<typeof redisStore> & EventEmitter;

if (url) {
  testStore({
    name: 'koa-redis 4',
    factory: () => {
      const store = redisStore({ url }) as KoaRedis;
      // koa-redis re-emits its client's errors: an 'error' without a listener would throw.
      store.on('error', () => undefined);
      return store as unknown as SessionStore;
    },
    teardown: async (store) => {
      const s = store as unknown as KoaRedis;
      // Quitting emits 'end', which koa-redis reports as 'disconnect': stop listening first.
      s.removeAllListeners('disconnect');
      await s.quit();
    },
    // SETEX rounds the ttl up to whole seconds: entries expire within about a second.
    supports: { ttl: true, events: true },
  });
} else {
  describe('!!! koa-redis conformance: SKIPPED, redis-server is not on PATH !!!', () => {
    it.skip('needs redis-server', () => undefined);
  });
}
