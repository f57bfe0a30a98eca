/**
 * Stores as apps have written them for koa-generic-session: only its three methods (get, set,
 * destroy), synchronous, returning Promises (like koa-redis) or co-era thunks; the naive ones
 * (a plain object, raw JSON strings) whose answers the middleware must not trust; and one that
 * answers whatever a test scripts.
 */
import { MemoryStore, type StoredSession } from '../../src/index.js';
import type { StoreCall } from './recording-store.js';

/** A store with plain synchronous methods and nothing else: JSON in a Map, and the TTL of each write. */
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

/**
 * A store whose methods answer Promises after a turn of the event loop, a miss as `null` (like
 * koa-redis): JSON in a Map anyone can dump.
 */
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
    async set(key: string, sess: unknown, _ttl?: number) {
      await tick();
      data.set(key, JSON.stringify(sess));
    },
    async destroy(key: string) {
      await tick();
      data.delete(key);
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

/**
 * A store whose `get` answers whatever `answer` says (hostile values); writes go to a MemoryStore
 * and are recorded.
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
}
