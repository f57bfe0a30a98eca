/**
 * A store that records every call the middleware makes (its method, key, TTL and a copy of the
 * session it writes), in front of a MemoryStore.
 *
 * Not the conformance kit's InstrumentedStore (src/testing/instrumented.ts), which is not in the
 * kit's public API either: the kit's records only the method and the key of a call, and only while
 * it is switched on. These tests assert the TTL of each write and the session it wrote, keep the
 * calls on the tombstones of retired sids apart from those on sessions, and need a store that
 * answers after a turn of the event loop.
 */
import { MemoryStore, type SessionStore, type StoredSession } from '../../src/index.js';
import { isSessionKey } from './store-keys.js';

export interface StoreCall {
  method: 'get' | 'set' | 'update' | 'touch' | 'destroy' | 'indexAdd' | 'indexRemove' | 'indexList';
  /** The entry's key; the owner's key for the index methods. */
  key: string;
  ttl?: number;
  session?: StoredSession;
}

export interface RecordingStoreOptions {
  /** `false`: only koa-generic-session's three methods (get, set, destroy), so the middleware falls back to set. */
  capabilities?: boolean;
  /** Each call answers a Promise after a turn of the event loop, like a network store. */
  async?: boolean;
  /** The owner index (indexAdd, indexRemove, indexList), for the `owner` option. */
  index?: boolean;
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

export class RecordingStore {
  /**
   * The calls on session entries. Those on the tombstones of retired sids (keys
   * `<prefix>retired:…`, see the `late` state in docs/lifecycle.md) and on the owner index are
   * only in `log`.
   */
  readonly calls: StoreCall[] = [];
  /** Every call, in order, tombstones and owner index included: what a request costs. */
  readonly log: StoreCall[] = [];
  readonly inner = new MemoryStore();
  touch?: SessionStore['touch'];
  update?: SessionStore['update'];
  indexAdd?: SessionStore['indexAdd'];
  indexRemove?: SessionStore['indexRemove'];
  indexList?: SessionStore['indexList'];
  private readonly async: boolean;

  constructor({ capabilities = true, async = false, index = false }: RecordingStoreOptions = {}) {
    this.async = async;
    if (capabilities) {
      this.touch = (key, ttl) => {
        this.record({ method: 'touch', key, ttl });
        return this.answer(() => this.inner.touch(key, ttl));
      };
      this.update = (key, session, ttl) => {
        this.record({ method: 'update', key, ttl, session: structuredClone(session) });
        return this.answer(() => this.inner.update(key, session, ttl));
      };
    }
    if (index) {
      this.indexAdd = (ownerKey, handle, entry, expiresAt) => {
        this.record({ method: 'indexAdd', key: ownerKey });
        return this.answer(() => this.inner.indexAdd(ownerKey, handle, entry, expiresAt));
      };
      this.indexRemove = (ownerKey, handle) => {
        this.record({ method: 'indexRemove', key: ownerKey });
        return this.answer(() => this.inner.indexRemove(ownerKey, handle));
      };
      this.indexList = (ownerKey) => {
        this.record({ method: 'indexList', key: ownerKey });
        return this.answer(() => this.inner.indexList(ownerKey));
      };
    }
  }

  get(key: string) {
    this.record({ method: 'get', key });
    return this.answer(() => this.inner.get(key));
  }

  set(key: string, session: StoredSession, ttl?: number) {
    this.record({ method: 'set', key, ttl, session: structuredClone(session) });
    return this.answer(() => this.inner.set(key, session, ttl));
  }

  destroy(key: string) {
    this.record({ method: 'destroy', key });
    return this.answer(() => this.inner.destroy(key));
  }

  /** What the store holds under `key`, without recording a call. */
  peek(key: string): StoredSession | undefined {
    return this.inner.get(key);
  }

  /** The calls of one method. */
  of(method: StoreCall['method']): StoreCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Every call that writes or refreshes an entry: set, update, touch. */
  writes(): StoreCall[] {
    return this.calls.filter((c) => c.method === 'set' || c.method === 'update' || c.method === 'touch');
  }

  /** The keys of the calls that write or refresh an entry. */
  writtenKeys(): string[] {
    return this.writes().map((c) => c.key);
  }

  /** Every key any call used. */
  keys(): string[] {
    return this.calls.map((c) => c.key);
  }

  reset(): void {
    this.calls.length = 0;
  }

  /** How many session entries the store holds (tombstones not counted). */
  get sessionCount(): number {
    const tombstones = new Set(this.log.filter((c) => !isSessionKey(c.key)).map((c) => c.key));
    return this.inner.size - [...tombstones].filter((key) => this.inner.get(key) !== undefined).length;
  }

  private answer<T>(fn: () => T): T | Promise<T> {
    return this.async ? tick().then(fn) : fn();
  }

  private record(call: StoreCall): void {
    this.log.push(call);
    if (!call.method.startsWith('index') && isSessionKey(call.key)) this.calls.push(call);
  }
}
