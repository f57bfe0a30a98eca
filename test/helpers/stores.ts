/**
 * Stores and small utilities for the hardening tests (SPEC §5): stores that record every key and
 * TTL the middleware hands them, stores that answer whatever a test scripts (hostile values, JSON,
 * thunks), a naive object-backed store like the reference's MemoryStore, a real Koa server around
 * the session middleware, a promise a test resolves itself, and a guard on the built-in prototypes.
 */
import { createRequire } from 'node:module';
import Koa from 'koa';
import session, { MemoryStore, type SessionOptions, type StoredSession } from '../../src/index.js';
import { Client, listen, type Listening, type Reply, type SetCookie } from './http.js';

const require = createRequire(import.meta.url);
/** Koa 2, installed under the alias `koa2`. */
export const Koa2 = require('koa2') as typeof Koa;
export const KOAS: { name: string; Koa: typeof Koa }[] = [
  { name: 'Koa 3', Koa },
  { name: 'Koa 2', Koa: Koa2 },
];

export const KEYS = ['keys', 'keykeys'];
export const PREFIX = 'koa:sess:';

// ---------------------------------------------------------------------------------------------
// Servers

export type Handler = (ctx: Koa.Context) => unknown;

export interface Served {
  app: Koa;
  url: string;
  /** A new client (one browser) with an empty cookie jar. */
  client(): Client;
  /** Errors the app emitted, in order. */
  errors: Error[];
}

export interface ServeSetup {
  Koa?: typeof Koa;
  /** `app.proxy` (trust X-Forwarded-*). */
  proxy?: boolean;
  /** Middleware before the session middleware. */
  before?: Koa.Middleware[];
}

const open = new Set<Listening>();

/** A real Koa server on 127.0.0.1: `[...before, session(options), handler]`, `app.keys = KEYS`. */
export async function serve(
  options: SessionOptions | undefined,
  handler: Handler,
  setup: ServeSetup = {},
): Promise<Served> {
  const KoaCtor = setup.Koa ?? Koa;
  const app = new KoaCtor();
  app.keys = KEYS;
  if (setup.proxy) app.proxy = true;
  const errors: Error[] = [];
  app.on('error', (err: Error) => void errors.push(err));
  for (const mw of setup.before ?? []) app.use(mw);
  app.use(session(options));
  app.use(async (ctx) => {
    await handler(ctx);
  });
  const listening = await listen(app);
  open.add(listening);
  return { app, url: listening.url, client: () => new Client(listening.url), errors };
}

/** Closes every server `serve` started; for `afterEach`. */
export async function closeServers(): Promise<void> {
  const all = [...open];
  open.clear();
  await Promise.all(all.map((l) => l.close()));
}

/**
 * The session keys of a store's key-value map: the tombstones of retired sids (`<prefix>retired:…`,
 * see the `late` state in docs/lifecycle.md) are entries of their own, not sessions.
 */
export function sessionKeys(data: Map<string, unknown>): string[] {
  return [...data.keys()].filter(isSessionKey);
}

/** Whether a store key is a session's, not the tombstone of a retired sid. */
export function isSessionKey(key: string): boolean {
  return !key.includes(':retired:');
}

/** The last Set-Cookie for `name` in a reply. */
export function cookieOf(reply: Reply, name: string): SetCookie | undefined {
  return reply.setCookies.filter((c) => c.name === name).at(-1);
}

/** The Set-Cookie headers of the session cookie and its signature. */
export function sessionCookies(reply: Reply, key = 'koa.sid'): SetCookie[] {
  return reply.setCookies.filter((c) => c.name === key || c.name === `${key}.sig`);
}

// ---------------------------------------------------------------------------------------------
// Stores

export interface StoreCall {
  method: 'get' | 'set' | 'update' | 'touch' | 'destroy';
  key: string;
  ttl?: number;
  session?: unknown;
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A MemoryStore behind a recorder: every call, its key and its TTL. With `async: true` each call
 * answers a Promise after a turn of the event loop, like a network store.
 */
export class RecordingStore {
  readonly calls: StoreCall[] = [];
  /**
   * Calls on the tombstones of retired sids (keys `<prefix>retired:…`, see the `late` state in
   * docs/lifecycle.md), kept apart: `calls` are those on session entries.
   */
  readonly tombstoneCalls: StoreCall[] = [];
  readonly inner: MemoryStore;
  private readonly async: boolean;

  constructor(options: { inner?: MemoryStore; async?: boolean } = {}) {
    this.inner = options.inner ?? new MemoryStore();
    this.async = options.async ?? false;
  }

  private answer<T>(fn: () => T): T | Promise<T> {
    return this.async ? tick().then(fn) : fn();
  }

  get(key: string) {
    this.record({ method: 'get', key });
    return this.answer(() => this.inner.get(key));
  }

  set(key: string, session: StoredSession, ttl?: number) {
    this.record({ method: 'set', key, ttl, session: structuredClone(session) });
    return this.answer(() => this.inner.set(key, session, ttl));
  }

  update(key: string, session: StoredSession, ttl?: number) {
    this.record({ method: 'update', key, ttl, session: structuredClone(session) });
    return this.answer(() => this.inner.update(key, session, ttl));
  }

  touch(key: string, ttl?: number) {
    this.record({ method: 'touch', key, ttl });
    return this.answer(() => this.inner.touch(key, ttl));
  }

  destroy(key: string) {
    this.record({ method: 'destroy', key });
    return this.answer(() => this.inner.destroy(key));
  }

  /** What the store holds under `key`, without recording a call. */
  peek(key: string): StoredSession | undefined {
    return this.inner.get(key);
  }

  /** Every key any call used. */
  keys(): string[] {
    return this.calls.map((c) => c.key);
  }

  /** The keys of the calls that write or refresh an entry (set, update, touch). */
  writtenKeys(): string[] {
    return this.calls
      .filter((c) => c.method === 'set' || c.method === 'update' || c.method === 'touch')
      .map((c) => c.key);
  }

  of(method: StoreCall['method']): StoreCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  private record(call: StoreCall): void {
    (isSessionKey(call.key) ? this.calls : this.tombstoneCalls).push(call);
  }

  /** How many session entries the store holds (tombstones not counted). */
  get sessionCount(): number {
    const tombstones = new Set(this.tombstoneCalls.map((c) => c.key));
    return this.inner.size - [...tombstones].filter((key) => this.inner.get(key) !== undefined).length;
  }
}

/**
 * A store whose `get` answers whatever `answer` says (hostile values for SPEC §5.11); writes go to
 * a MemoryStore and are recorded. Only the three methods of koa-generic-session's contract.
 */
export class ScriptedStore {
  readonly calls: StoreCall[] = [];
  readonly inner = new MemoryStore();
  answer: (key: string) => unknown = (key) => this.inner.get(key);

  get(key: string): unknown {
    this.calls.push({ method: 'get', key });
    return this.answer(key);
  }

  set(key: string, session: StoredSession, ttl?: number): void {
    this.calls.push({ method: 'set', key, ttl });
    this.inner.set(key, session, ttl);
  }

  destroy(key: string): void {
    this.calls.push({ method: 'destroy', key });
    this.inner.destroy(key);
  }

  writtenKeys(): string[] {
    return this.calls.filter((c) => c.method === 'set').map((c) => c.key);
  }
}

/**
 * The naive store apps write (and the reference's MemoryStore is): a plain object indexed by key.
 * `sessions['__proto__']` is `Object.prototype`, `sessions.toString` a function: the middleware has
 * to refuse such answers. Writes are copies through JSON.
 */
export function objectStore() {
  const sessions: Record<string, unknown> = {};
  const written: string[] = [];
  return {
    sessions,
    written,
    get(key: string): unknown {
      return sessions[key];
    },
    set(key: string, sess: unknown): void {
      written.push(key);
      sessions[key] = JSON.parse(JSON.stringify(sess));
    },
    destroy(key: string): void {
      delete sessions[key];
    },
  };
}

/** A store of raw strings that JSON.parses what it reads (errors included), like a naive Redis store. */
export function jsonStore() {
  const raw = new Map<string, string>();
  const written: string[] = [];
  return {
    raw,
    written,
    get(key: string): unknown {
      const value = raw.get(key);
      return value === undefined ? undefined : JSON.parse(value);
    },
    set(key: string, sess: unknown): void {
      written.push(key);
      raw.set(key, JSON.stringify(sess));
    },
    destroy(key: string): void {
      raw.delete(key);
    },
  };
}

type Callback = (err: unknown, value?: unknown) => void;

/**
 * A co-era thunk store: every method returns `(cb) => cb(err, value)`. With `async: true` the
 * callback runs on a later turn of the event loop.
 */
export function thunkStore(options: { async?: boolean } = {}) {
  const data = new Map<string, string>();
  const calls: StoreCall[] = [];
  const later = (fn: () => void) => (options.async ? setImmediate(fn) : fn());
  const thunk = (fn: () => unknown) => (cb: Callback) =>
    later(() => {
      let value: unknown;
      try {
        value = fn();
      } catch (err) {
        cb(err);
        return;
      }
      cb(null, value);
    });
  return {
    data,
    calls,
    get(key: string) {
      calls.push({ method: 'get', key });
      return thunk(() => {
        const json = data.get(key);
        return json === undefined ? null : JSON.parse(json);
      });
    },
    set(key: string, sess: unknown, ttl?: number) {
      calls.push({ method: 'set', key, ttl });
      return thunk(() => void data.set(key, JSON.stringify(sess)));
    },
    destroy(key: string) {
      calls.push({ method: 'destroy', key });
      return thunk(() => void data.delete(key));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Utilities

/** A promise the test settles itself: interleaves requests without timers. */
export interface Deferred<T = void> {
  promise: Promise<T>;
  resolve: (value: T) => void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const GUARDED: [string, object][] = [
  ['Object.prototype', Object.prototype],
  ['Array.prototype', Array.prototype],
  ['Function.prototype', Function.prototype],
  ['String.prototype', String.prototype],
  ['Promise.prototype', Promise.prototype],
];

/**
 * A snapshot of the built-in prototypes (own keys and their descriptors); `changes()` lists what
 * differs since, as readable strings (empty when nothing changed).
 */
export function prototypeGuard(): { changes(): string[] } {
  const before = GUARDED.map(([name, proto]) => {
    const descriptors = new Map<PropertyKey, PropertyDescriptor>();
    for (const key of Reflect.ownKeys(proto)) descriptors.set(key, Object.getOwnPropertyDescriptor(proto, key)!);
    return { name, proto, descriptors, parent: Object.getPrototypeOf(proto) as unknown };
  });
  return {
    changes() {
      const out: string[] = [];
      for (const { name, proto, descriptors, parent } of before) {
        if (Object.getPrototypeOf(proto) !== parent) out.push(`${name}: prototype replaced`);
        const keys = Reflect.ownKeys(proto);
        if (keys.length !== descriptors.size) out.push(`${name}: ${descriptors.size} keys became ${keys.length}`);
        for (const key of keys) {
          const was = descriptors.get(key);
          const now = Object.getOwnPropertyDescriptor(proto, key)!;
          if (!was) out.push(`${name}: new key ${String(key)}`);
          else if (was.value !== now.value || was.get !== now.get || was.set !== now.set)
            out.push(`${name}: ${String(key)} changed`);
        }
      }
      return out;
    },
  };
}
