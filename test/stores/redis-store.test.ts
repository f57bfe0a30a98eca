/**
 * RedisStore against a real redis-server, on every client kind it takes
 * (test/helpers/redis-clients.ts): the one the global setup started (`inject('redisUrl')`), and
 * dedicated ones for the lifecycle tests, which stop, restart and freeze theirs.
 */
import { randomUUID } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { createCluster } from 'redis';
import { createCluster as createCluster4 } from 'redis4';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { STORE_CLOSED_CODE } from '../../src/stores/errors.js';
import { RedisStore } from '../../src/stores/redis.js';
import type { StoredSession } from '../../src/stores/types.js';
import { openClient, REDIS_CLIENT_KINDS, whenReady, type TestClient } from '../helpers/redis-clients.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

const url = inject('redisUrl');

/**
 * Resolves with the event's arguments; rejects after `ms`, so that no test waits for ever. Unlike
 * `events.once`, it does not listen to 'error' (which would make the store forward its errors).
 */
function nextEvent(emitter: EventEmitter, event: string, ms = 5_000): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`no '${event}' event within ${ms} ms`));
    }, ms);
    const listener = (...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args);
    };
    emitter.once(event, listener);
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Records the store's lifecycle events in order. */
function record(store: RedisStore): string[] {
  const seen: string[] = [];
  for (const event of ['connect', 'disconnect', 'close']) store.on(event, () => seen.push(event));
  return seen;
}

const session = (fields: Record<string, unknown> = {}): StoredSession => ({
  cookie: { httpOnly: true, path: '/', maxAge: 60_000, expires: new Date('2030-01-02T03:04:05.678Z') },
  ...fields,
});

/** Every .ts file under src/stores, with its path relative to it. */
function storeSources(dir = new URL('../../src/stores/', import.meta.url), prefix = ''): [string, string][] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry): [string, string][] =>
    entry.isDirectory()
      ? storeSources(new URL(`${entry.name}/`, dir), `${prefix}${entry.name}/`)
      : entry.name.endsWith('.ts')
        ? [[`${prefix}${entry.name}`, readFileSync(new URL(entry.name, dir), 'utf8')]]
        : [],
  );
}

describe('RedisStore options', () => {
  it('refuses bad options with a TypeError that says what to pass', () => {
    const make = (options: unknown) => () => new RedisStore(options as never);
    expect(make(undefined)).toThrow(TypeError);
    expect(make({})).toThrow(/pass \{ client \}, \{ url \} or \{ redis \}/);
    expect(make({ host: '127.0.0.1', port: 6379 })).toThrow(/unknown option "host".*\{ redis: \{ host, port \} \}/);
    expect(make({ url: '' })).toThrow(/url must be a non-empty string/);
    expect(make({ url: 6379 })).toThrow(TypeError);
    expect(make({ redis: 'localhost' })).toThrow(/redis must be an object/);
    expect(make({ client: {} })).toThrow(/client must be an ioredis Redis or Cluster/);
    // Neither kind: the message names both.
    expect(make({ client: {} })).toThrow(
      /ioredis Redis or Cluster, or a node-redis client \(createClient\) or cluster \(createCluster\)/,
    );
    expect(make({ client: { get() {}, set() {} } })).toThrow(TypeError);
    expect(make({ client: { isOpen: true, isReady: true } })).toThrow(/node-redis client/);
  });

  it('refuses a node-redis cluster that was never connected (it would never say when it is)', () => {
    const rootNodes = [{ url: 'redis://127.0.0.1:1' }];
    for (const cluster of [createCluster({ rootNodes }), createCluster4({ rootNodes })]) {
      expect(() => new RedisStore({ client: cluster })).toThrow(/connect a node-redis cluster before passing it/);
    }
  });

  it('never imports ioredis or node-redis at module load, so the package loads without them', () => {
    const sources = storeSources();
    expect(sources.map(([path]) => path)).toEqual(
      expect.arrayContaining(['redis.ts', 'redis-lock.ts', 'redis-clients/ioredis.ts', 'redis-clients/node-redis.ts']),
    );
    const imports = sources.flatMap(([path, source]) =>
      (source.match(/^import [^;]*'(ioredis|ioredis5|redis|redis4|@redis\/[^']+)';$/gm) ?? []).map(
        (line) => `${path}: ${line}`,
      ),
    );
    // ioredis' option types are used; node-redis needs nothing from its package.
    expect(imports.length).toBeGreaterThan(0);
    for (const line of imports) expect(line).toMatch(/^[^:]+: import type /);
    // At run time ioredis is only required when the store creates its client.
    const loads =
      /(?<!typeof )\b(?:createRequire\([^)]*\)|require|import)\('(?:ioredis|ioredis5|redis|redis4|@redis\/[^']+)'\)/g;
    const requires = sources.flatMap(([path, source]) => (source.match(loads) ?? []).map((r) => `${path}: ${r}`));
    expect(requires).toEqual(["redis-clients/ioredis.ts: createRequire(import.meta.url)('ioredis')"]);
  });
});

describe.skipIf(!url)(
  url ? 'RedisStore({ url }): a client of its own' : '!!! RedisStore: SKIPPED, redis-server is not on PATH !!!',
  () => {
    it('creates an ioredis client, uses it, and closes it even when asked to keep a client', async () => {
      const store = new RedisStore({ url, redis: { connectionName: 'ksm-own-client' } });
      try {
        if (!store.connected) await nextEvent(store, 'connect');
        const client = store.client as Redis;
        expect(client.status).toBe('ready');
        // The URL, the options given, and the store's defaults for the rest.
        expect(await client.client('GETNAME')).toBe('ksm-own-client');
        expect(client.options).toMatchObject({ maxRetriesPerRequest: 1, enableAutoPipelining: true });
        const key = `test:redis-store:${randomUUID()}:own`;
        await store.set(key, session({ n: 1 }), 60_000);
        expect(await store.get(key)).toEqual(session({ n: 1 }));
        // keepClient is for a client of the app's; the store's own always goes with it.
        await store.close({ keepClient: true });
        expect(client.status).toBe('end');
      } finally {
        await store.close();
      }
    });
  },
);

describe.skipIf(!url).each(REDIS_CLIENT_KINDS)('RedisStore on $name and a real redis-server', (kind) => {
  let raw: Redis;
  let store: RedisStore;
  let prefix: string;

  beforeAll(async () => {
    raw = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await raw.connect();
    store = new RedisStore({ client: await openClient(kind, url) });
  });
  afterAll(async () => {
    await store?.close();
    await raw?.quit();
  });
  beforeEach(() => {
    prefix = `test:redis-store:${randomUUID()}:`;
  });

  it('round-trips a session, cookie.expires back as a Date', async () => {
    const key = `${prefix}a`;
    await store.set(key, session({ user: { id: 'u1' }, count: 3 }), 60_000);
    const back = await store.get(key);
    expect(back).toEqual(session({ user: { id: 'u1' }, count: 3 }));
    expect(back?.cookie.expires).toBeInstanceOf(Date);
    expect(back?.cookie.expires?.toISOString()).toBe('2030-01-02T03:04:05.678Z');
    expect(await store.get(`${prefix}missing`)).toBeUndefined();
  });

  it('writes SET … PX ttl: Redis holds the expiry in ms', async () => {
    const key = `${prefix}px`;
    await store.set(key, session(), 60_000);
    const pttl = await raw.pttl(key);
    expect(pttl).toBeGreaterThan(55_000);
    expect(pttl).toBeLessThanOrEqual(60_000);
    // Fractions round up and an expiry already due still gets the shortest one, never none.
    await store.set(key, session(), 0.2);
    expect(await raw.pttl(key)).toBeLessThanOrEqual(1);
  });

  it('writes no expiry only when ttl is undefined, and refuses a ttl that is not a number', async () => {
    const key = `${prefix}persist`;
    await store.set(key, session(), undefined);
    expect(await raw.pttl(key)).toBe(-1);
    await store.set(key, session(), 30_000);
    expect(await raw.pttl(key)).toBeGreaterThan(25_000);
    await expect(store.set(key, session(), Number.NaN)).rejects.toThrow(TypeError);
    await expect(store.set(key, session(), '60000' as never)).rejects.toThrow(TypeError);
  });

  it('update writes nothing and answers false when the key no longer exists', async () => {
    const key = `${prefix}gone`;
    expect(await store.update(key, session({ count: 1 }), 60_000)).toBe(false);
    expect(await store.update(key, session({ count: 1 }), undefined)).toBe(false);
    expect(await raw.exists(key)).toBe(0);
  });

  it('update rewrites an existing key and its expiry', async () => {
    const key = `${prefix}live`;
    await store.set(key, session({ count: 1 }), 10_000);
    expect(await store.update(key, session({ count: 2 }), 60_000)).toBe(true);
    expect((await store.get(key))?.count).toBe(2);
    expect(await raw.pttl(key)).toBeGreaterThan(55_000);
    expect(await store.update(key, session({ count: 3 }), undefined)).toBe(true);
    expect(await raw.pttl(key)).toBe(-1);
  });

  it('touch refreshes the expiry without rewriting the value, and is false for a missing key', async () => {
    const key = `${prefix}touch`;
    await store.set(key, session({ count: 7 }), 10_000);
    const before = await raw.get(key);
    expect(await store.touch(key, 60_000)).toBe(true);
    expect(await raw.pttl(key)).toBeGreaterThan(55_000);
    expect(await raw.get(key)).toBe(before);
    // Without a ttl the key stops expiring; a key that already had none still counts as there.
    expect(await store.touch(key, undefined)).toBe(true);
    expect(await raw.pttl(key)).toBe(-1);
    expect(await store.touch(key, undefined)).toBe(true);
    expect(await raw.get(key)).toBe(before);
    expect(await store.touch(`${prefix}missing`, 60_000)).toBe(false);
    expect(await store.touch(`${prefix}missing`, undefined)).toBe(false);
    expect(await raw.exists(`${prefix}missing`)).toBe(0);
  });

  it('destroy deletes the key (and a missing key is fine)', async () => {
    const key = `${prefix}d`;
    await store.set(key, session(), 60_000);
    await store.destroy(key);
    expect(await raw.exists(key)).toBe(0);
    expect(await store.get(key)).toBeUndefined();
    await expect(store.destroy(key)).resolves.toBeUndefined();
  });

  it('reads anything that is not a session object as no session, and pollutes nothing', async () => {
    const garbage = ['not json', '[1,2]', '"str"', '42', 'null', '{"__proto__":{"polluted":1}}', '{"cookie":[1]}'];
    for (const [i, value] of garbage.entries()) {
      await raw.set(`${prefix}g${i}`, value, 'PX', 60_000);
      await expect(store.get(`${prefix}g${i}`), value).resolves.toBeUndefined();
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('is connected once its client is ready', () => {
    expect(store.connected).toBe(true);
    expect(kind.isReady(store.client as TestClient)).toBe(true);
  });

  describe('lifecycle, on a redis-server of its own', () => {
    let server: RedisServer;
    const stores: RedisStore[] = [];
    const clients: TestClient[] = [];
    beforeEach(async () => {
      server = await startRedisServer();
    });
    afterEach(async () => {
      await Promise.all(stores.splice(0).map((s) => s.close()));
      for (const c of clients.splice(0)) kind.discard(c);
      await server.dispose();
    });
    const open = async () => {
      const s = new RedisStore({ client: kind.make(server.url) });
      stores.push(s);
      await nextEvent(s, 'connect');
      return s;
    };
    /** The server's count of socket reads so far. */
    const readsOnServer = async (via: Redis) => Number(/total_reads_processed:(\d+)/.exec(await via.info('stats'))![1]);

    it('reports an outage once as disconnect, and the return as connect', async () => {
      const s = await open();
      const seen = record(s);
      // No 'error' listener on the store: the client's connection errors must not crash anything.
      const down = nextEvent(s, 'disconnect');
      await server.stop();
      await down;
      expect(s.connected).toBe(false);
      // The client keeps retrying (ioredis: close, reconnecting, close, …, never 'end'; node-redis:
      // error, reconnecting, error, …), and each sign of the outage is not a new one.
      await sleep(600);
      expect(seen).toEqual(['disconnect']);
      const up = nextEvent(s, 'connect', 10_000);
      await server.restart();
      await up;
      expect(seen).toEqual(['disconnect', 'connect']);
      expect(s.connected).toBe(true);
      await s.set(`${prefix}back`, session(), 60_000);
      expect(await s.get(`${prefix}back`)).toEqual(session());
    });

    it("forwards the client's errors only to 'error' listeners", async () => {
      const s = await open();
      const errors: unknown[] = [];
      s.on('error', (err) => errors.push(err));
      const down = nextEvent(s, 'disconnect');
      await server.stop();
      await down;
      await nextEvent(s, 'error');
      expect(errors[0]).toBeInstanceOf(Error);
    });

    it('sends the commands of concurrent calls in one write: the server reads them at once', async () => {
      const s = await open();
      const via = new Redis(server.url, { maxRetriesPerRequest: 1 });
      try {
        const calls = 50;
        let before = await readsOnServer(via);
        await Promise.all(Array.from({ length: calls }, (_, i) => s.get(`${prefix}${i}`)));
        // The INFO that reads the count is one read itself; the 50 GETs came in a few more.
        const together = (await readsOnServer(via)) - before;
        before = await readsOnServer(via);
        for (let i = 0; i < calls; i++) await s.get(`${prefix}${i}`);
        const oneByOne = (await readsOnServer(via)) - before;
        expect(oneByOne).toBeGreaterThanOrEqual(calls);
        expect(together).toBeLessThan(calls / 5);
      } finally {
        via.disconnect();
      }
    });

    it('close() quits, emits close but no disconnect, and later calls reject', async () => {
      const s = await open();
      const seen = record(s);
      expect(s.closed).toBe(false);
      const closing = s.close();
      expect(s.closed).toBe(true);
      expect(s.close()).toBe(closing);
      await closing;
      await sleep(50);
      expect(seen).toEqual(['close']);
      expect(kind.isClosed(s.client as TestClient)).toBe(true);
      expect(s.connected).toBe(false);
      await expect(s.get(`${prefix}x`)).rejects.toThrow(/store is closed/);
      await expect(s.get(`${prefix}x`)).rejects.toMatchObject({ code: STORE_CLOSED_CODE });
      await expect(s.set(`${prefix}x`, session(), 1000)).rejects.toThrow(/store is closed/);
      await expect(s.update(`${prefix}x`, session(), 1000)).rejects.toThrow(/store is closed/);
      await expect(s.touch(`${prefix}x`, 1000)).rejects.toThrow(/store is closed/);
      await expect(s.destroy(`${prefix}x`)).rejects.toThrow(/store is closed/);
      await expect(s.lock(`${prefix}x`, { lease: 1000, wait: 100 })).rejects.toThrow(/store is closed/);
    });

    it('close() lets the replies of calls in flight arrive first', async () => {
      const s = await open();
      await s.set(`${prefix}k`, session({ n: 1 }), 60_000);
      const reads = Array.from({ length: 20 }, () => s.get(`${prefix}k`));
      await s.close();
      for (const read of await Promise.all(reads)) expect(read).toEqual(session({ n: 1 }));
    });

    it('close() during an outage ends at once, without a disconnect for it', async () => {
      const s = await open();
      const down = nextEvent(s, 'disconnect');
      await server.stop();
      await down;
      const seen = record(s);
      const started = Date.now();
      await s.close();
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(seen).toEqual(['close']);
    });

    it('close() is bounded when the server never answers QUIT', async () => {
      const s = await open();
      server.freeze();
      // A call in flight that will not be answered: closing waits for it, but not for ever.
      const unanswered = s.get(`${prefix}frozen`).catch((err: unknown) => err);
      const started = Date.now();
      await s.close();
      server.thaw();
      // QUIT (or the call in flight) gets no answer within 1 s; ioredis destroys its cut socket 2 s later.
      expect(Date.now() - started).toBeLessThan(4_500);
      expect(kind.isClosed(s.client as TestClient)).toBe(true);
      expect(await unanswered).toBeInstanceOf(Error);
    });

    it('takes a client of the app: close({ keepClient: true }) leaves it open and unwatched', async () => {
      const client = kind.make(server.url);
      clients.push(client);
      // The app's own listener: its connection errors are its business once the store let go.
      client.on('error', () => undefined);
      await whenReady(kind, client);
      const baseline = { ready: client.listenerCount('ready'), error: client.listenerCount('error') };
      const s = new RedisStore({ client });
      expect(s.connected).toBe(true);
      expect(client.listenerCount('ready')).toBe(baseline.ready + 1);
      expect(client.listenerCount('error')).toBeGreaterThan(baseline.error);
      const seen = record(s);
      await s.set(`${prefix}k`, session(), 60_000);
      await s.close({ keepClient: true });
      expect(seen).toEqual(['close']);
      expect(client.listenerCount('ready')).toBe(baseline.ready);
      expect(client.listenerCount('error')).toBe(baseline.error);
      expect(await kind.command(client, ['PING'])).toBe('PONG');
      expect(await kind.command(client, ['EXISTS', `${prefix}k`])).toBe(1);
      await expect(s.get(`${prefix}k`)).rejects.toThrow(/store is closed/);
      // The app's own outage no longer reaches the closed store.
      await server.stop();
      await sleep(200);
      expect(seen).toEqual(['close']);
    });

    it('quits a client of the app on close() by default', async () => {
      const client = kind.make(server.url);
      clients.push(client);
      const s = new RedisStore({ client });
      // Not ready yet when the store was made: its readiness is reported as connect.
      expect(s.connected).toBe(false);
      await nextEvent(s, 'connect');
      await s.close();
      expect(kind.isClosed(client)).toBe(true);
    });
  });
});
