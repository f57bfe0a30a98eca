/**
 * The stores the security tests run on, each with what a person with access to the store sees
 * (a dump of every key and raw value) and raw access to write or read an entry behind the
 * middleware's back: the MemoryStore, a koa-generic-session style store (get/set/destroy only), and
 * RedisStore on the run's real redis-server (in a database of its own per file, so that a dump shows
 * only that file's keys). Without redis-server the Redis kind is left out and a loud skipped test
 * says so.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, inject, it } from 'vitest';
import { MemoryStore, RedisStore, type SessionStore } from '../../src/index.js';

/** A koa-generic-session style store: get/set/destroy, asynchronous, JSON in a Map anyone can dump. */
export class GenericStore {
  readonly data = new Map<string, { json: string; expiresAt: number }>();
  async get(key: string) {
    const entry = this.data.get(key);
    if (entry === undefined || entry.expiresAt <= Date.now()) return undefined;
    return JSON.parse(entry.json) as unknown;
  }
  async set(key: string, session: unknown, ttl?: number) {
    this.data.set(key, { json: JSON.stringify(session), expiresAt: ttl === undefined ? Infinity : Date.now() + ttl });
  }
  async destroy(key: string) {
    this.data.delete(key);
  }
}

export interface MadeStore {
  store: SessionStore;
  /** Every key and raw stored value, as a dump of the store would show them. */
  dump(): Promise<[string, string][]>;
  /** The raw value under `key`, parsed, or undefined. */
  raw(key: string): Promise<any>;
  /** Writes a raw value under `key`, with a ttl in ms. */
  put(key: string, value: unknown, ttl: number): Promise<void>;
  /** The remaining ttl of `key` in ms, where the store can say (Redis), else undefined. */
  ttlOf(key: string): Promise<number | undefined>;
  close(): Promise<void>;
}

export interface StoreKind {
  name: string;
  make(): Promise<MadeStore>;
}

const memory: StoreKind = {
  name: 'MemoryStore',
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
  async make() {
    const store = new GenericStore();
    return {
      store,
      dump: async () => [...store.data].map(([k, e]) => [k, e.json]),
      raw: (key) => store.get(key),
      put: (key, value, ttl) => store.set(key, value, ttl),
      ttlOf: async () => undefined,
      close: async () => undefined,
    };
  },
};

/** RedisStore on the run's redis-server, in database `db` (one per test file). */
function redis(url: string, db: number): StoreKind {
  return {
    name: 'RedisStore',
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
 * The kinds for one test file; `db` is its own Redis database (other test files use database 0).
 * `generic` adds the koa-generic-session style store.
 */
export function storeKinds(db: number, { generic: withGeneric = false } = {}): StoreKind[] {
  const url = inject('redisUrl');
  const kinds = withGeneric ? [memory, generic] : [memory];
  if (url) kinds.push(redis(url, db));
  else {
    describe('!!! RedisStore: SKIPPED, redis-server is not on PATH !!!', () => {
      it.skip('needs redis-server', () => undefined);
    });
  }
  return kinds;
}

/**
 * The store of `kind` for the tests of a `describe`: made before them, closed after them. The
 * object answers for the store made then.
 */
export function useStoreKind(kind: StoreKind): MadeStore {
  let made: MadeStore | undefined;
  beforeAll(async () => {
    made = await kind.make();
  });
  afterAll(() => made?.close());
  const current = (): MadeStore => {
    if (made === undefined) throw new Error(`the ${kind.name} of these tests is made in their beforeAll`);
    return made;
  };
  return {
    get store() {
      return current().store;
    },
    dump: () => current().dump(),
    raw: (key) => current().raw(key),
    put: (key, value, ttl) => current().put(key, value, ttl),
    ttlOf: (key) => current().ttlOf(key),
    close: () => current().close(),
  };
}
