/**
 * The conformance kit on RedisStore, on every client kind it takes (test/helpers/redis-clients.ts),
 * against the run's real redis-server (`inject('redisUrl')`): the store contract and the generated
 * lifecycle paths. Skipped, loudly, without redis-server.
 */
import { describe, inject, it } from 'vitest';
import { RedisStore } from '../../src/stores/redis.js';
import { testStore } from '../../src/testing/index.js';
import { openClient, REDIS_CLIENT_KINDS } from '../helpers/redis-clients.js';

const url = inject('redisUrl');

// SET … PX, PEXPIRE, SET … XX, SET … NX, a lease lock, an index per owner (a hash and a sorted set);
// an EventEmitter of connect/disconnect/close.
const supports = { ttl: true, touch: true, update: true, add: true, lock: true, events: true, index: true };

if (url) {
  // With a client of its own (ioredis 6, created by the store).
  testStore({
    name: 'RedisStore',
    factory: () => new RedisStore({ url }),
    teardown: (store) => store.close(),
    supports,
  });
  for (const kind of REDIS_CLIENT_KINDS) {
    testStore({
      name: `RedisStore on ${kind.name}`,
      factory: async () => new RedisStore({ client: await openClient(kind, url) }),
      // close() closes the client the store was given.
      teardown: (store) => store.close(),
      supports,
    });
  }
} else {
  describe('!!! RedisStore conformance: SKIPPED, redis-server is not on PATH !!!', () => {
    it.skip('needs redis-server', () => undefined);
  });
}
