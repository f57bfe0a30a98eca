/**
 * The author's store behind a thin wrapper that the lifecycle paths hand to the middleware: it
 * exposes exactly the declared capabilities, records the calls the middleware makes, and makes
 * one planned call fail (throw) or never answer (hang), the way a store fails in production.
 */
import type { SessionStore, StoredSession } from '../index.js';

/**
 * What a store declares it can do. Declared, never guessed: the kit checks that the declaration
 * matches the store's methods, then tests what is declared.
 */
export interface StoreCapabilities {
  /** `set(key, session, ttl)` expires the entry after `ttl` ms. Default `true`; `false` skips the ttl rules. */
  ttl?: boolean;
  /** `touch(key, ttl)`: refreshes the expiry without rewriting; `false` for a missing key. */
  touch?: boolean;
  /** `update(key, session, ttl)`: writes only an existing key; `false` (and no write) otherwise. */
  update?: boolean;
  /** `add(key, session, ttl)`: writes only a missing key (SET NX); `false` (and no write) otherwise. Used by `hashIds`. */
  add?: boolean;
  /** `lock(key, { lease, wait })`: a lock per key, for `concurrency: 'serialize'`. */
  lock?: boolean;
  /** `on(event, listener)`: the store emits `connect` / `disconnect` (and may have `connected`). */
  events?: boolean;
  /**
   * `indexAdd(ownerKey, handle, entry, expiresAt)`, `indexRemove(ownerKey, handle)`,
   * `indexList(ownerKey)`: an index of sessions per owner, for the `owner` option.
   */
  index?: boolean;
}

export type ResolvedCapabilities = Required<StoreCapabilities>;

export function resolveCapabilities(supports: StoreCapabilities = {}): ResolvedCapabilities {
  return {
    ttl: supports.ttl !== false,
    touch: supports.touch === true,
    update: supports.update === true,
    add: supports.add === true,
    lock: supports.lock === true,
    events: supports.events === true,
    index: supports.index === true,
  };
}

/** The store methods the wrapper can record or make fail. */
export type StoreMethod = 'get' | 'set' | 'update' | 'touch' | 'destroy' | 'lock';

export interface RecordedCall {
  method: StoreMethod;
  key: string;
}

/** The error an injected failure throws: its message names the method. */
export function injectedError(method: StoreMethod): Error {
  return new Error(`koa-session-machine/testing: injected failure of ${method}()`);
}

type Loose = Record<string, any>;

export class InstrumentedStore {
  /** The calls made while recording, in order. */
  readonly calls: RecordedCall[] = [];
  /** Every key written through the wrapper, so that the kit can clean up after itself. */
  readonly written = new Set<string>();
  /** How many locks handed out through the wrapper were released. */
  releases = 0;
  recording = false;
  private readonly plans = new Map<StoreMethod, 'throw' | 'hang'>();
  /** What the middleware gets. */
  readonly store: SessionStore;

  constructor(
    readonly raw: SessionStore,
    supports: ResolvedCapabilities,
  ) {
    const inner = raw as unknown as Loose;
    const store: Record<string, unknown> = {
      get: (key: string) => this.call('get', key, () => inner.get(key)),
      set: (key: string, session: StoredSession, ttl?: number) => {
        this.written.add(key);
        return this.call('set', key, () => inner.set(key, session, ttl));
      },
      destroy: (key: string) => this.call('destroy', key, () => inner.destroy(key)),
    };
    if (supports.update) {
      store.update = (key: string, session: StoredSession, ttl?: number) =>
        this.call('update', key, () => inner.update(key, session, ttl));
    }
    if (supports.touch)
      store.touch = (key: string, ttl?: number) => this.call('touch', key, () => inner.touch(key, ttl));
    if (supports.lock) {
      store.lock = (key: string, options: { lease: number; wait: number }) =>
        this.call('lock', key, () => {
          const counted = (lock: { release(): unknown } | undefined) =>
            lock && {
              release: () => {
                this.releases++;
                return lock.release();
              },
            };
          const result = inner.lock(key, options);
          return result instanceof Promise ? result.then(counted) : counted(result);
        });
    }
    if (supports.index) {
      for (const method of ['indexAdd', 'indexRemove', 'indexList'])
        store[method] = (...args: unknown[]) => inner[method](...args);
    }
    if (supports.events) {
      store.on = (event: string, listener: (...args: unknown[]) => void) => inner.on(event, listener);
      Object.defineProperty(store, 'connected', { get: () => inner.connected, enumerable: true });
    }
    this.store = store as unknown as SessionStore;
  }

  /** The next call of `method` fails: it rejects with `injectedError(method)`, or never settles. */
  fail(method: StoreMethod, how: 'throw' | 'hang' = 'throw'): void {
    this.plans.set(method, how);
  }

  private call(method: StoreMethod, key: string, run: () => unknown): unknown {
    if (this.recording) this.calls.push({ method, key });
    const plan = this.plans.get(method);
    if (plan !== undefined) {
      this.plans.delete(method);
      if (plan === 'hang') return new Promise(() => undefined);
      return Promise.reject(injectedError(method));
    }
    return run();
  }
}
