/**
 * The conformance kit on RedisStore, against the run's real redis-server (`inject('redisUrl')`):
 * the store contract and the generated lifecycle paths. Skipped, loudly, without redis-server.
 */
import { describe, inject, it } from 'vitest';
import { RedisStore } from '../../src/stores/redis.js';
import { testStore } from '../../src/testing/index.js';

const url = inject('redisUrl');

if (url) {
  testStore({
    name: 'RedisStore',
    factory: () => new RedisStore({ url }),
    teardown: (store) => store.close(),
    // SET … PX, PEXPIRE, SET … XX, a lease lock; an EventEmitter of connect/disconnect/close.
    supports: { ttl: true, touch: true, update: true, lock: true, events: true },
  });
} else {
  describe('!!! RedisStore conformance: SKIPPED, redis-server is not on PATH !!!', () => {
    it.skip('needs redis-server', () => undefined);
  });
}
