/**
 * The stores people run with koa-generic-session, as published on the registry, each set up the
 * way its README says and handed to the conformance kit. Each entry says how to make a fresh store
 * and close it, what it needs, and, read from its source, what causes the failures the kit reports:
 * the table in docs/custom-stores.md comes from running the kit on them (scripts/registry-stores.ts,
 * test/conformance/registry-stores.test.ts).
 */
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SessionStore } from '../../src/index.js';

const require = createRequire(import.meta.url);

export interface RegistryStore {
  /** The npm package. */
  package: string;
  /** What the store needs to run: nothing but the registry, a redis-server, or a server we cannot start here. */
  needs: 'registry' | 'redis' | 'unavailable';
  /** Why the kit cannot run it here, when it cannot (`needs: 'unavailable'`). */
  unavailable?: string;
  /** The kit's verdict when it cannot be run, read from the store's source. */
  fromSource?: string;
  /** How the kit's stores are made: a fresh store per check, set up as the README says. */
  factory?: (redisUrl: string | undefined) => () => Promise<SessionStore>;
  teardown?: (store: SessionStore) => unknown;
  /** ms an entry may outlive its ttl (a store that rounds up to whole seconds needs more than the default). */
  ttlBound?: number;
  /** What causes the failures, read from the store's source: the store's defects, said plainly. */
  causes: string[];
}

/** The version of an installed package. */
export function installedVersion(name: string): string {
  const path = require.resolve(`${name}/package.json`);
  return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
}

/** Where the file store writes: one folder for the whole run, as an app has one. */
let fileStoreDir: string | undefined;

type Closable = SessionStore & { sequelize?: { close(): Promise<void> }; quit?: () => Promise<unknown> };

export const REGISTRY_STORES: readonly RegistryStore[] = [
  {
    package: 'koa-redis',
    needs: 'redis',
    factory: (url) => async () => {
      const redisStore = require('koa-redis') as (options: { url?: string }) => SessionStore & NodeJS.EventEmitter;
      const store = redisStore({ url });
      // It re-emits its client's errors: an 'error' without a listener would throw.
      store.on('error', () => undefined);
      return store;
    },
    teardown: async (store) => {
      const s = store as Closable & NodeJS.EventEmitter;
      // Quitting emits 'end', which koa-redis reports as 'disconnect': stop listening first.
      s.removeAllListeners('disconnect');
      await s.quit?.();
    },
    // SETEX: the ttl rounded up to whole seconds.
    ttlBound: 2_000,
    causes: [],
  },
  {
    package: 'koa-generic-session-sequelize',
    needs: 'registry',
    factory: () => async () => {
      const { Sequelize } = require('sequelize') as typeof import('sequelize');
      const SequelizeStore = require('koa-generic-session-sequelize') as new (
        sequelize: unknown,
        options?: object,
      ) => SessionStore & NodeJS.EventEmitter;
      // SQLite in memory, one database per store; the store creates its table and says 'connect'.
      const sequelize = new Sequelize({ dialect: 'sqlite', storage: ':memory:', logging: false });
      const store = new SequelizeStore(sequelize);
      await once(store, 'connect');
      return store;
    },
    teardown: (store) => (store as Closable).sequelize?.close(),
    causes: [
      'keeps each expiry in whole seconds, rounded down (`Math.floor((Date.now() + ttl) / 1000)`), ' +
        'and reads an entry as gone once that second has begun: sessions vanish up to a second before their ttl',
      'its constructor starts `Model.sync()` without a `catch`: a failed sync is an unhandled rejection',
    ],
  },
  {
    package: 'koa-generic-session-file',
    needs: 'registry',
    factory: () => async () => {
      const FileStore = require('koa-generic-session-file') as new (options: {
        sessionDirectory: string;
      }) => SessionStore;
      fileStoreDir ??= mkdtempSync(join(tmpdir(), 'ksm-file-store-'));
      return new FileStore({ sessionDirectory: fileStoreDir });
    },
    causes: [
      '`destroy()` always fails (`glob(…).then((err, files) => files.length)`: `files` is undefined), ' +
        'so logouts and regenerations never remove a session',
      'names each file `<key>__<ttl>.json` and reads the ttl back by splitting the name on `__`: ' +
        'a key holding `__` and a digit gets that digit as its ttl (the session is gone at once), and ' +
        "`get(key)` also finds the files of longer keys that begin with `key__`. The middleware's own random " +
        'sids hold `__` and a digit now and then, so a few more lifecycle paths fail in some runs than in others',
      'writes keys as file paths: a prefix with `/` names a folder it never creates (`set()` fails with ENOENT)',
    ],
  },
  {
    package: 'koa-generic-session-mongo',
    needs: 'registry',
    factory: () => async () => {
      const MongoStore = require('koa-generic-session-mongo') as new (options: {
        url: string;
      }) => SessionStore & NodeJS.EventEmitter;
      // No MongoDB server here: the refusal comes before any call. Its connection error is expected.
      const store = new MongoStore({ url: 'mongodb://127.0.0.1:9/ksm-kit' });
      store.on('error', () => undefined);
      return store;
    },
    causes: [
      '`get`, `set` and `destroy` are generator functions (written for co and koa 1), which cannot be awaited: ' +
        'the middleware refuses the store when it is created. Its data rules need a MongoDB server and were not run',
    ],
  },
  {
    package: 'koa-pg-session',
    needs: 'unavailable',
    unavailable: 'depends on `pg-escape` from GitHub (TMiguelT/pg-escape), so it does not install from the registry',
    fromSource: 'refused by the middleware',
    causes: [
      '`get`, `set` and `destroy` are generator functions (`*get(sid)` in its index.js): the middleware refuses ' +
        'the store when it is created, as it refuses koa-generic-session-mongo. Its data rules need PostgreSQL and were not run',
    ],
  },
  {
    package: 'koa-generic-session',
    needs: 'registry',
    factory: () => async () => {
      const MemoryStore = require('koa-generic-session/lib/memory_store') as new () => SessionStore;
      return new MemoryStore();
    },
    causes: [
      'its `MemoryStore` (the default store) keeps the object `set()` is given and hands that same object out ' +
        'from `get()`: a change a handler did not save leaks into the next request',
      'it ignores the ttl: entries live until the process ends',
    ],
  },
];
