/**
 * Apps for the behaviour tests: a Koa 2 or Koa 3 app with the session middleware, listening on
 * 127.0.0.1, plus stores that record what the middleware asks of them.
 */
import { createRequire } from 'node:module';
import Koa from 'koa';
import session, { MemoryStore, type SessionOptions } from '../../src/index.js';
import type { StoredSession } from '../../src/index.js';
import { Client, listen, type Listening, type Reply, type SetCookie } from './http.js';
import { isSessionKey } from './stores.js';

const require = createRequire(import.meta.url);
/** Koa 2, installed under the alias `koa2`; same public API as Koa 3 for what the tests use. */
export const Koa2 = require('koa2') as typeof Koa;

export type KoaClass = typeof Koa;
export type Handler = (ctx: Koa.Context, next: Koa.Next) => unknown;

/** Every core test runs on both majors: `describe.each(KOA_VERSIONS)('$name', ({ Koa }) => ...)`. */
export const KOA_VERSIONS: { name: string; Koa: KoaClass }[] = [
  { name: 'Koa 3', Koa },
  { name: 'Koa 2', Koa: Koa2 },
];

export const KEYS = ['keys', 'keykeys'];

export interface AppSetup {
  /** Middleware that runs before the session middleware. */
  before?: Handler[];
  /** Middleware after the session middleware and before the handler (e.g. a second instance). */
  after?: Handler[];
  /** `app.keys`; `null` for none. */
  keys?: string[] | null;
}

export interface TestApp {
  app: Koa;
  url: string;
  /** A new client (one browser) with an empty cookie jar. */
  client(): Client;
  /** Errors the app emitted (`app.on('error')`), in order. */
  errors: Error[];
  close(): Promise<void>;
}

const open = new Set<Listening>();

/** Starts an app: `[...before, session(options), ...after, handler]`. */
export async function startApp(
  KoaCtor: KoaClass,
  options: SessionOptions | undefined,
  handler: Handler,
  setup: AppSetup = {},
): Promise<TestApp> {
  const app = new KoaCtor();
  if (setup.keys !== null) app.keys = setup.keys ?? KEYS;
  const errors: Error[] = [];
  app.on('error', (err: Error) => void errors.push(err));
  for (const mw of setup.before ?? []) app.use(mw as Koa.Middleware);
  app.use(session(options));
  for (const mw of setup.after ?? []) app.use(mw as Koa.Middleware);
  app.use(handler as Koa.Middleware);
  const listening = await listen(app);
  open.add(listening);
  return {
    app,
    url: listening.url,
    client: () => new Client(listening.url),
    errors,
    close: async () => {
      open.delete(listening);
      await listening.close();
    },
  };
}

/** Closes every app still open; for `afterEach`. */
export async function closeAll(): Promise<void> {
  const all = [...open];
  open.clear();
  await Promise.all(all.map((l) => l.close()));
}

/** The Set-Cookie header for `name` in a reply, if any (the last one wins, as in a browser). */
export function cookieOf(reply: Reply, name: string): SetCookie | undefined {
  return reply.setCookies.filter((c) => c.name === name).at(-1);
}

/** The names of the cookies a reply sets (expired ones included). */
export function cookieNames(reply: Reply): string[] {
  return reply.setCookies.map((c) => c.name);
}

type Call = { method: string; key: string; session?: StoredSession; ttl?: number };

/**
 * A store that records every call, in front of a MemoryStore. With `capabilities: false` it only
 * has koa-generic-session's three methods (get, set, destroy), so the middleware falls back to set.
 */
export class RecordingStore {
  readonly calls: Call[] = [];
  /**
   * Calls on the tombstones of retired sids (keys `<prefix>retired:…`, see the `late` state in
   * docs/lifecycle.md), kept apart: `calls` are those on session entries.
   */
  readonly tombstoneCalls: Call[] = [];
  readonly inner: MemoryStore;
  touch?: (key: string, ttl?: number) => boolean;
  update?: (key: string, session: StoredSession, ttl?: number) => boolean;

  constructor(options: { capabilities?: boolean; inner?: MemoryStore } = {}) {
    this.inner = options.inner ?? new MemoryStore();
    if (options.capabilities !== false) {
      this.touch = (key, ttl) => {
        this.record({ method: 'touch', key, ttl });
        return this.inner.touch(key, ttl);
      };
      this.update = (key, session, ttl) => {
        this.record({ method: 'update', key, session: structuredClone(session), ttl });
        return this.inner.update(key, session, ttl);
      };
    }
  }

  get(key: string): StoredSession | undefined {
    this.record({ method: 'get', key });
    return this.inner.get(key);
  }

  set(key: string, session: StoredSession, ttl?: number): void {
    this.record({ method: 'set', key, session: structuredClone(session), ttl });
    this.inner.set(key, session, ttl);
  }

  destroy(key: string): void {
    this.record({ method: 'destroy', key });
    this.inner.destroy(key);
  }

  /** The calls of one method. */
  of(method: string): Call[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Every call that writes or refreshes an entry: set, update, touch. */
  writes(): Call[] {
    return this.calls.filter((c) => c.method === 'set' || c.method === 'update' || c.method === 'touch');
  }

  reset(): void {
    this.calls.length = 0;
  }

  private record(call: Call): void {
    (isSessionKey(call.key) ? this.calls : this.tombstoneCalls).push(call);
  }

  /** How many session entries the store holds (tombstones not counted). */
  get sessionCount(): number {
    const tombstones = new Set(this.tombstoneCalls.map((c) => c.key));
    return this.inner.size - [...tombstones].filter((key) => this.inner.get(key) !== undefined).length;
  }
}

/** A koa-generic-session style store with plain synchronous methods and nothing else. */
export function plainSyncStore() {
  const data = new Map<string, string>();
  const ttls = new Map<string, number | undefined>();
  return {
    data,
    ttls,
    get(key: string) {
      const json = data.get(key);
      return json === undefined ? undefined : JSON.parse(json);
    },
    set(key: string, sess: unknown, ttl?: number) {
      data.set(key, JSON.stringify(sess));
      ttls.set(key, ttl);
    },
    destroy(key: string) {
      data.delete(key);
    },
  };
}

/** A koa-generic-session style store whose methods return Promises (like koa-redis). */
export function plainPromiseStore() {
  const data = new Map<string, string>();
  const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
  return {
    data,
    async get(key: string) {
      await tick();
      const json = data.get(key);
      return json === undefined ? null : JSON.parse(json);
    },
    async set(key: string, sess: unknown) {
      await tick();
      data.set(key, JSON.stringify(sess));
    },
    async destroy(key: string) {
      await tick();
      data.delete(key);
    },
  };
}

/** A handler for the usual routes: `/set?count=n`-like behaviour without query parsing. */
export const counter: Handler = (ctx) => {
  const sess = ctx.session as Record<string, unknown>;
  sess.count = (typeof sess.count === 'number' ? sess.count : 0) + 1;
  ctx.body = { count: sess.count, sid: ctx.sessionId };
};
