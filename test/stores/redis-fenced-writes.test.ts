/**
 * The RedisStore's fenced write on every client kind, against the run's real redis-server: its
 * script is sent by SHA-1 and sent whole again when the server does not know it (after a restart,
 * or on a replica a failover promoted: here `SCRIPT FLUSH`); and the version it compares is the
 * stored value's bytes, so a session in any script (UTF-8 beyond ASCII) is written with the version
 * read, and still refused with a stale one. (The rules of the capability itself are the kit's:
 * test/conformance/compare-and-set.test.ts.)
 */
import { describe, expect, inject, it } from 'vitest';
import { RedisStore, type StoredSession } from '../../src/index.js';
import { openClient, REDIS_CLIENT_KINDS } from '../helpers/redis-clients.js';

const url = inject('redisUrl');

const session = (fields: Record<string, unknown>): StoredSession => ({ cookie: { maxAge: 60_000 }, ...fields });

describe.skipIf(!url)('RedisStore fenced writes', () => {
  for (const kind of REDIS_CLIENT_KINDS) {
    it(`run after SCRIPT FLUSH, and compare UTF-8 values by their bytes (${kind.name})`, async () => {
      const client = await openClient(kind, url);
      const store = new RedisStore({ client });
      const key = `ksm-fenced:${kind.name}:${Date.now()}`;
      try {
        await store.set(key, session({ name: 'ünïcødé ✓ 🍪', n: 1 }), 60_000);
        const read = (await store.getVersioned(key))!;
        await kind.command(client, ['SCRIPT', 'FLUSH']);
        const written = await store.compareAndSet(key, session({ name: 'ünïcødé ✓ 🍪', n: 2 }), 60_000, read.version);
        expect(written.written).toBe(true);
        // Cached again: the next one goes by SHA-1, and a stale version is refused.
        const stale = await store.compareAndSet(key, session({ n: 'stale' }), 60_000, read.version);
        expect(stale).toMatchObject({ written: false, current: { session: { n: 2 } } });
        const fresh = (await store.getVersioned(key))!;
        expect((await store.compareAndSet(key, session({ n: 3 }), 60_000, fresh.version)).written).toBe(true);
        expect(await store.get(key)).toEqual(session({ n: 3 }));
      } finally {
        await store.destroy(key);
        await store.close();
      }
    });
  }
});
