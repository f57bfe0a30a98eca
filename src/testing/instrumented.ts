/**
 * The author's store behind a thin wrapper that the lifecycle paths hand to the middleware: it
 * exposes exactly the declared capabilities, records the calls the middleware makes, and makes
 * one planned call fail (throw) or never answer (hang), the way a store fails in production.
 */
import type { SessionStore, StoredSession } from '../index.js';

/**
 * What a store can do beyond get/set/destroy. Each capability left out is detected from the store's
 * methods; one declared `true` is checked against them, one declared `false` switches its rules off.
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
  /**
   * `getVersioned(key)` and `compareAndSet(key, session, ttl, expected)`: a write applied only over
   * the entry of the version it expects, in one step. The middleware fences every write with it.
   */
  compareAndSet?: boolean;
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

/** The methods that make each capability but `ttl` (the middleware uses a capability whose methods a store has). */
export const CAPABILITY_METHODS = {
  touch: ['touch'],
  update: ['update'],
  add: ['add'],
  compareAndSet: ['getVersioned', 'compareAndSet'],
  lock: ['lock'],
  events: ['on'],
  index: ['indexAdd', 'indexRemove', 'indexList'],
} as const satisfies Record<Exclude<keyof StoreCapabilities, 'ttl'>, readonly string[]>;

/**
 * The capabilities to test: each as `store`'s methods show, unless declared false (without a store,
 * as declared, and none but `ttl` when not). A capability declared true that the store's methods do
 * not show is not tested: the declaration rule fails instead.
 */
export function resolveCapabilities(supports: StoreCapabilities = {}, store?: object): ResolvedCapabilities {
  const has = (methods: readonly string[]) =>
    store !== undefined && methods.every((m) => typeof (store as Record<string, unknown>)[m] === 'function');
  const resolved = { ttl: supports.ttl !== false } as ResolvedCapabilities;
  for (const [capability, methods] of Object.entries(CAPABILITY_METHODS)) {
    const name = capability as keyof typeof CAPABILITY_METHODS;
    resolved[name] = store === undefined ? supports[name] === true : supports[name] !== false && has(methods);
  }
  return resolved;
}

/** Why a rule or path that needs `capability` does not run on this store. */
export function missingReason(capability: keyof StoreCapabilities, declared: StoreCapabilities): string {
  if (declared[capability] === false) return `supports.${capability} is false`;
  if (capability === 'ttl') return 'supports.ttl is false';
  return `the store has no ${CAPABILITY_METHODS[capability].map((m) => `${m}()`).join(', ')}`;
}

/** The store methods the wrapper can record or make fail. */
export type StoreMethod = 'get' | 'set' | 'update' | 'touch' | 'destroy' | 'lock' | 'getVersioned' | 'compareAndSet';

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
  private readonly plans = new Map<StoreMethod, { how: 'throw' | 'hang'; only?: string }>();
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
    if (supports.compareAndSet) {
      store.getVersioned = (key: string) => this.call('getVersioned', key, () => inner.getVersioned(key));
      store.compareAndSet = (key: string, session: StoredSession, ttl: number | undefined, expected: unknown) => {
        this.written.add(key);
        return this.call('compareAndSet', key, () => inner.compareAndSet(key, session, ttl, expected));
      };
    }
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

  /**
   * The next call of `method` (of `method` on the key `only`, when given) fails: it rejects with
   * `injectedError(method)`, or never settles.
   */
  fail(method: StoreMethod, how: 'throw' | 'hang' = 'throw', only?: string): void {
    this.plans.set(method, only === undefined ? { how } : { how, only });
  }

  private call(method: StoreMethod, key: string, run: () => unknown): unknown {
    if (this.recording) this.calls.push({ method, key });
    const plan = this.plans.get(method);
    if (plan !== undefined && (plan.only === undefined || plan.only === key)) {
      this.plans.delete(method);
      if (plan.how === 'hang') return new Promise(() => undefined);
      return Promise.reject(injectedError(method));
    }
    return run();
  }
}
