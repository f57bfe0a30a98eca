/**
 * What the owner index costs, as the store calls each request makes (over HTTP, on a MemoryStore
 * that records its calls): nothing without `owner`; with it, no extra call on a read (but the
 * first of a session in a process, which refreshes its entry, and then not again within the
 * refresh interval), none on a write that keeps the owner (test/sessions/index-writes.test.ts
 * says when a write rewrites the entry), one on a write that changes it, written before the
 * session; one after a destroy. The same
 * counted on a Redis server of the test's own (INFO commandstats). And the refresh bookkeeping on
 * its own, with explicit times.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore, type SessionStore } from '../../src/index.js';
import { RecentRefreshes } from '../../src/sessions/recent-refreshes.js';
import { RecordingStore } from '../helpers/recording-store.js';
import { redisServerBinary, startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { OWNED, startManagedApp, type ManagedApp } from './fixtures/app.js';

/** The methods of the calls since the last `take`, tombstones and owner index included. */
function take(store: RecordingStore): string[] {
  return store.log.splice(0).map((c) => c.method);
}

const apps: ManagedApp[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) {
    expect(app.errors.map((e) => e.stack)).toEqual([]);
    await app.close();
  }
});

async function start(store: SessionStore, owned: boolean, rolling = false) {
  const app = await startManagedApp({ store, rolling, ...(owned ? OWNED : {}) });
  apps.push(app);
  return app;
}

/** The index calls among a request's store calls. */
const INDEX_CALLS = new Set(['indexAdd', 'indexRemove']);

/**
 * Runs the same requests on an app without `owner` and one with it, each on its own recording
 * store; for each request, what the owner added to the calls: the calls without the index ones must
 * be the calls of the app without `owner`.
 */
async function compare(steps: [string, 'get' | 'post'][], rolling = false) {
  const plainStore = new RecordingStore({ index: true });
  const ownedStore = new RecordingStore({ index: true });
  const plain = (await start(plainStore, false, rolling)).browser('b');
  const owned = (await start(ownedStore, true, rolling)).browser('b');
  const added: string[][] = [];
  for (const [path, method] of steps) {
    await (method === 'post' ? plain.post(path) : plain.get(path));
    await (method === 'post' ? owned.post(path) : owned.get(path));
    const without = take(plainStore);
    const withOwner = take(ownedStore);
    expect(
      withOwner.filter((c) => !INDEX_CALLS.has(c)),
      `${method} ${path}: the calls besides the index`,
    ).toEqual(without);
    added.push(
      withOwner
        .map((c, i) => (INDEX_CALLS.has(c) ? `${c} ${i === 0 ? 'first' : `after ${withOwner[i - 1]}`}` : ''))
        .filter(Boolean),
    );
  }
  return added;
}

describe('the store calls of each request', () => {
  it('with owner: a read or a write that keeps the owner costs nothing more, a user switch one index call before it and one after, a destroy one after it', async () => {
    const added = await compare([
      ['/login/alice', 'post'],
      ['/me', 'get'],
      ['/me', 'get'],
      ['/me', 'get'],
      ['/count', 'get'],
      // A user switch: the entry leaves the old owner's index once the session is written.
      ['/switch/bob', 'post'],
      // A new login regenerates: the old session and its entry go, the new one enters.
      ['/login/alice', 'post'],
      ['/logout', 'post'],
    ]);
    expect(added).toEqual([
      ['indexAdd first'],
      [],
      [],
      [],
      [],
      ['indexAdd after get', 'indexRemove after update'],
      ['indexRemove after destroy', 'indexAdd after indexRemove'],
      ['indexRemove after destroy'],
    ]);
  });

  it('a session without an owner costs nothing more', async () => {
    expect(
      await compare([
        ['/count', 'get'],
        ['/count', 'get'],
        ['/logout', 'post'],
      ]),
    ).toEqual([[], [], []]);
  });

  it("with owner: another process's first read of a session refreshes its entry, its later reads do not", async () => {
    const store = new RecordingStore({ index: true });
    const first = (await start(store, true)).browser('b');
    await first.post('/login/alice');
    const other = await start(store, true);
    const cookie = first.cookieHeader('/');
    take(store);
    await other.browser('b').get('/me', { cookie });
    expect(take(store)).toEqual(['get', 'indexAdd']);
    await other.browser('b').get('/me', { cookie });
    expect(take(store)).toEqual(['get']);
    // lastSeenAt moved with the refresh; createdAt stayed.
    const [listed] = await other.middleware.sessions.list('alice');
    expect(listed!.lastSeenAt).toBeGreaterThanOrEqual(listed!.createdAt);
  });

  it('with owner and rolling: a read refreshes the ttl as before, and makes no index call', async () => {
    expect(
      await compare(
        [
          ['/login/alice', 'post'],
          ['/me', 'get'],
          ['/me', 'get'],
        ],
        true,
      ),
    ).toEqual([['indexAdd first'], [], []]);
  });
});

const hasRedis = Boolean(redisServerBinary());
if (!hasRedis)
  console.warn('\n!!!!!!!!\n!!! redis-server is not on PATH: the Redis command counts are SKIPPED\n!!!!!!!!\n');

describe.skipIf(!hasRedis)('the Redis commands of each request, counted by a redis-server of its own', () => {
  let server: RedisServer;
  let admin: Redis;
  beforeAll(async () => {
    server = await startRedisServer();
    admin = new Redis(server.url);
  });
  afterAll(async () => {
    admin?.disconnect();
    await server?.dispose();
  });

  /**
   * The commands clients sent since the last call, by name: Redis also counts the commands a
   * script runs, which are left out (the index script's), and so are our own INFO and CONFIG.
   */
  async function commands(): Promise<Record<string, number>> {
    const info = await admin.info('commandstats');
    await admin.config('RESETSTAT');
    const counts: Record<string, number> = {};
    for (const [, name, calls] of info.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)) {
      if (!SCRIPT_AND_OURS.has(name!)) counts[name!] = Number(calls);
    }
    return counts;
  }
  const SCRIPT_AND_OURS = new Set([
    'info',
    'config',
    'hset',
    'hsetnx',
    'hdel',
    'hmget',
    'zadd',
    'zrem',
    'zrange',
    'zrangebyscore',
    'zremrangebyscore',
    'pexpireat',
    'persist',
  ]);

  it('a login, five reads, three writes, a user switch and a logout: with owner, one EVAL more per login, user switch (two) and destroy, none per read or write that keeps the owner', async () => {
    const stores = [new RedisStore({ url: server.url }), new RedisStore({ url: server.url })];
    try {
      const [plain, owned] = [
        (await start(stores[0]!, false)).browser('b'),
        (await start(stores[1]!, true)).browser('b'),
      ];
      /** The commands of the same request without and with owner. */
      const both = async (run: (b: typeof plain) => Promise<unknown>) => {
        await commands();
        await run(plain);
        const without = await commands();
        await run(owned);
        return [without, await commands()];
      };
      // A first write, not counted, caches the compare-and-set script: later writes go by its SHA-1.
      await (await start(stores[0]!, false)).browser('warm-up').post('/login/bob');
      const login = await both((b) => b.post('/login/alice'));
      expect(login[1]).toEqual({ ...login[0], eval: 1 });
      const reads = await both(async (b) => {
        for (let i = 0; i < 5; i++) expect((await b.get('/me')).status).toBe(200);
      });
      expect(reads[0]).toEqual({ get: 5 });
      expect(reads[1]).toEqual(reads[0]);
      const writes = await both(async (b) => {
        for (let i = 0; i < 3; i++) await b.get('/count');
      });
      // Each write is a read and a fenced rewrite: one EVALSHA whose script runs a GET and a SET.
      expect(writes[0]).toEqual({ get: 6, set: 3, evalsha: 3 });
      // A write that keeps the owner and its info makes no index call.
      expect(writes[1]).toEqual(writes[0]);
      const switched = await both((b) => b.post('/switch/bob'));
      expect(switched[1]).toEqual({ ...switched[0], eval: 2 });
      const logout = await both((b) => b.post('/logout'));
      expect(logout[0]).toMatchObject({ get: 1, del: 1 });
      expect(logout[1]).toEqual({ ...logout[0], eval: 1 });
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });
});

describe('RecentRefreshes: at most one refresh per interval per session', () => {
  it('a handle is due when never marked, not within the interval of its mark, due again after it', () => {
    const interval = 60_000;
    const r = new RecentRefreshes(interval);
    const t0 = Date.now();
    expect(r.due('a', t0)).toBe(true);
    r.mark('a', { at: t0 });
    expect(r.due('a', t0 + 1)).toBe(false);
    expect(r.due('a', t0 + interval - 1)).toBe(false);
    expect(r.due('a', t0 + interval)).toBe(true);
    // Through a rotation of the generations, a recent mark is still known.
    r.mark('b', { at: t0 + interval + 10 });
    expect(r.due('b', t0 + 2 * interval + 5)).toBe(false);
    expect(r.due('b', t0 + 2 * interval + 10)).toBe(true);
    // After a quiet spell, nothing old is kept.
    expect(r.due('b', t0 + 10 * interval)).toBe(true);
    r.mark('c', { at: t0 + 10 * interval });
    r.forget('c');
    expect(r.due('c', t0 + 10 * interval + 1)).toBe(true);
  });
});
