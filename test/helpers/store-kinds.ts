/**
 * The stores a suite runs on, one `describe` each: the MemoryStore, RedisStore on the run's
 * redis-server, and on request a koa-generic-session style store (get/set/destroy only). Each comes
 * with what a person with access to the store sees (a dump of every key and raw value) and raw
 * access to an entry behind the middleware's back. RedisStore works in a database of the test
 * file's own, which it empties before and after: a dump shows only that file's keys, and no other
 * file's are touched. Without redis-server the Redis kind is left out and a loud skipped test says
 * so.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, inject, it } from 'vitest';
import { MemoryStore, RedisStore, type SessionStore } from '../../src/index.js';
import { plainPromiseStore } from './legacy-stores.js';

/** The stores of `describeEachStore`. */
export type TestStore = MemoryStore | RedisStore;

/** A suite's store: made before its tests, closed after them. */
export interface SuiteStore<S = SessionStore> {
  store(): S;
  /** Every key and raw stored value, as a dump of the store would show them. */
  dump(): Promise<[string, string][]>;
  /** The raw value under `key`, parsed, or undefined. */
  raw(key: string): Promise<any>;
  /** Writes a raw value under `key`, with a ttl in ms. */
  put(key: string, value: unknown, ttl: number): Promise<void>;
  /** The remaining ttl of `key` in ms, where the store can say (Redis), else undefined. */
  ttlOf(key: string): Promise<number | undefined>;
  /** A command on the Redis behind the store; undefined for a store that is not in Redis. */
  redis: ((args: string[]) => Promise<unknown>) | undefined;
}

type Made<S> = Omit<SuiteStore<S>, 'store' | 'redis'> & {
  store: S;
  redis?: (args: string[]) => Promise<unknown>;
  close(): Promise<void>;
};

export interface StoreKind<S = SessionStore> {
  name: string;
  /** Whether the store keeps its entries in Redis: its suite then has `redis`. */
  inRedis: boolean;
  make(): Promise<Made<S>>;
}

const memory: StoreKind<MemoryStore> = {
  name: 'MemoryStore',
  inRedis: false,
  async make() {
    const store = new MemoryStore();
    const entries = (store as unknown as { entries: Map<string, { json: string }> }).entries;
    return {
      store,
      dump: async () => [...entries].map(([k, e]) => [k, e.json]),
      raw: async (key) => store.get(key),
      put: async (key, value, ttl) => store.set(key, value as never, ttl),
      ttlOf: async () => undefined,
      close: async () => undefined,
    };
  },
};

const generic: StoreKind = {
  name: 'a koa-generic-session style store',
  inRedis: false,
  async make() {
    const store = plainPromiseStore();
    return {
      store,
      dump: async () => [...store.data],
      raw: async (key) => (await store.get(key)) ?? undefined,
      put: (key, value, ttl) => store.set(key, value, ttl),
      ttlOf: async () => undefined,
      close: async () => undefined,
    };
  },
};

/** RedisStore on the run's redis-server, in database `db`. */
function redis(url: string, db: number): StoreKind<RedisStore> {
  return {
    name: 'RedisStore',
    inRedis: true,
    async make() {
      const admin = new Redis(`${url}/${db}`);
      await admin.flushdb();
      const store = new RedisStore({ url: `${url}/${db}` });
      return {
        store,
        dump: async () => {
          const keys = await admin.keys('*');
          return Promise.all(keys.map(async (k) => [k, (await admin.get(k)) ?? ''] as [string, string]));
        },
        raw: async (key) => {
          const json = await admin.get(key);
          return json === null ? undefined : (JSON.parse(json) as unknown);
        },
        put: async (key, value, ttl) => void (await admin.set(key, JSON.stringify(value), 'PX', ttl)),
        ttlOf: async (key) => {
          const ms = await admin.pttl(key);
          return ms < 0 ? undefined : ms;
        },
        redis: ([command, ...args]) => admin.call(command!, ...args),
        close: async () => {
          await store.close();
          await admin.flushdb();
          admin.disconnect();
        },
      };
    },
  };
}

/**
 * The kinds for one test file; `db` is its own Redis database (no other test file may use it;
 * those without store kinds use database 0). `generic` adds the koa-generic-session style store.
 */
export function storeKinds(db: number): StoreKind<TestStore>[];
export function storeKinds(db: number, options: { generic: true }): StoreKind[];
export function storeKinds(db: number, { generic: withGeneric = false } = {}): StoreKind<any>[] {
  const url = inject('redisUrl');
  const kinds: StoreKind<any>[] = withGeneric ? [memory, generic] : [memory];
  if (url) kinds.push(redis(url, db));
  else {
    describe('!!! RedisStore: SKIPPED, redis-server is not on PATH !!!', () => {
      it.skip('needs redis-server', () => undefined);
    });
  }
  return kinds;
}

/** The store of `kind` for the tests of a `describe`: made before them, closed after them. */
export function useStoreKind<S>(kind: StoreKind<S>): SuiteStore<S> {
  let made: Made<S> | undefined;
  beforeAll(async () => {
    made = await kind.make();
  });
  afterAll(() => made?.close());
  const current = (): Made<S> => {
    if (made === undefined) throw new Error(`the ${kind.name} of these tests is made in their beforeAll`);
    return made;
  };
  return {
    store: () => current().store,
    dump: () => current().dump(),
    raw: (key) => current().raw(key),
    put: (key, value, ttl) => current().put(key, value, ttl),
    ttlOf: (key) => current().ttlOf(key),
    redis: kind.inRedis ? (args) => current().redis!(args) : undefined,
  };
}

/** Runs `suite` once per store kind, as `${title} on <kind>`; `db` as for `storeKinds`. */
export function describeEachStore(title: string, db: number, suite: (store: SuiteStore<TestStore>) => void): void {
  for (const kind of storeKinds(db)) describe(`${title} on ${kind.name}`, () => suite(useStoreKind(kind)));
}
