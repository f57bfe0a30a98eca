/**
 * Makes any koa-generic-session style store fit the middleware: plain or Promise-returning methods,
 * callback thunks (run here), and the optional capabilities `touch` and `update` with a fallback to
 * `set` when a store lacks them, and `compareAndSet`, which fences every write of a session (see
 * `Written`). Generator-function stores (the co era) cannot be driven without
 * co, so they are refused when the middleware is created, with a message that says why (docs/migrating-from-koa-generic-session.md).
 * It also owns the key prefix and the TTL rule of the `ttl` option (README, Options), and hands back only values that are
 * sessions (README, Security).
 */
import { andThen, type Awaitable } from './awaitable.js';
import { isPrototype, reviveSession } from './revive.js';
import { seal, unseal } from './seal.js';
import { jsonForWrite, sessionFromJson } from './serialized.js';
import { hashSid } from './sid-hash.js';
import type {
  CompareAndSetReply,
  LockOptions,
  SessionLock,
  SessionStore,
  StoredSession,
  VersionedEntry,
} from './types.js';

/** The store expiry when neither `ttl`, `cookie.expires` nor a numeric `cookie.maxAge` give one. */
const FALLBACK_TTL = 24 * 60 * 60 * 1000;

interface StoreAdapterOptions {
  prefix: string;
  ttl: number | ((session: StoredSession) => number) | undefined;
  /** Store keys are the prefix plus a hash of the sid (sid-hash.ts). */
  hashIds?: boolean;
  /** Stored values are sealed with a key derived from the sid (seal.ts); needs `hashIds`. */
  seal?: boolean;
  /** A session's entry never outlives `cookie.createdAt + maxLifetime`. */
  maxLifetime?: number | undefined;
  /** How long a retired sid's tombstone is kept, in ms; 0 for none. */
  tombstoneTtl?: number;
}

/** What a tombstone holds: enough for stores that read `cookie.maxAge` for their TTL. */
interface Tombstone {
  cookie: { maxAge: number };
  retired: true;
}

/**
 * What a sealed session looks like to the store: the cookie's `maxAge` and `expires` in clear
 * (stores written for koa-generic-session read `sess.cookie.maxAge` for their TTL), the rest sealed.
 */
interface SealedEntry {
  cookie: { maxAge?: unknown; expires?: unknown };
  sealed: string;
}

function isGeneratorFunction(fn: unknown): boolean {
  const ctor = (fn as { constructor?: { name?: string; displayName?: string } }).constructor;
  // Native generators, and regenerator's compiled ones (which set displayName).
  return /GeneratorFunction$/.test(ctor?.name ?? '') || ctor?.displayName === 'GeneratorFunction';
}

/**
 * The middleware's acceptance of a store at creation: it throws a TypeError that says why and what
 * to do when the store cannot be driven. The conformance kit runs stores through this same check.
 */
/** Every method the middleware may call on a store: none of them may be a generator function. */
const STORE_METHODS = [
  'get',
  'set',
  'destroy',
  'touch',
  'update',
  'add',
  'lock',
  'getVersioned',
  'compareAndSet',
  'indexAdd',
  'indexRemove',
  'indexList',
] as const satisfies readonly (keyof SessionStore)[];

export function checkStore(store: SessionStore): void {
  for (const method of ['get', 'set', 'destroy'] as const) {
    if (typeof store[method] !== 'function') {
      throw new TypeError(
        `koa-session-machine: the store has no ${method}() method; a store needs get, set and destroy`,
      );
    }
  }
  for (const method of STORE_METHODS) {
    if (store[method] !== undefined && isGeneratorFunction(store[method])) {
      throw new TypeError(
        `koa-session-machine: store.${method}() is a generator function (a koa 1 / co style store). ` +
          'Generators cannot be awaited; wrap the store with co.wrap or use a version that returns Promises.',
      );
    }
  }
}

/**
 * A store result as a value or a native Promise: a thenable of another library is adopted, and a
 * thunk (a function taking a callback) is run.
 */
export function asAwaitable<T>(result: unknown): Awaitable<T> {
  if (result instanceof Promise) return result as Promise<T>;
  // Any thenable (Bluebird, a hand-written one) is awaited, as koa-generic-session's `yield` did;
  // not a prototype such as Promise.prototype itself, whose `then` cannot run on it.
  if (typeof (result as { then?: unknown } | null)?.then === 'function' && !isPrototype(result as object)) {
    return Promise.resolve(result as PromiseLike<T>);
  }
  if (typeof result === 'function') {
    return new Promise<T>((resolve, reject) => {
      (result as (cb: (err: unknown, value?: T) => void) => void)((err, value) =>
        err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(value as T),
      );
    });
  }
  return result as Awaitable<T>;
}

/** A store error with code ENOENT means "no session" (as koa-generic-session read it). */
export function isNotFound(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'ENOENT';
}

function notFound(err: unknown): undefined {
  if (isNotFound(err)) return undefined;
  throw err;
}

const noop = () => undefined;

/** Whether a store's answer is a tombstone. */
function isTombstone(value: unknown): boolean {
  return (reviveSession(value) as Partial<Tombstone> | undefined)?.retired === true;
}

/** A store's answer to update or touch: anything but an explicit `false` means the entry was there. */
const wasStored = (reply: unknown) => reply !== false;

/**
 * How a write of the middleware ended. On a store with `compareAndSet` the write is fenced: it is
 * applied only if the entry is still the version the request read (docs/reliability.md, fenced
 * writes), and then `version` is the entry's new one; otherwise nothing was written, and `newer`
 * is the entry that another write put there since (its session `undefined` when it does not open).
 * Without `newer`, the entry was gone. A store without the capability has no versions.
 */
export type Written =
  | { readonly written: true; readonly version: string | undefined }
  | { readonly written: false; readonly newer?: { session: StoredSession | undefined; version: string } };

const UNVERSIONED: Written = { written: true, version: undefined };
const GONE: Written = { written: false };
const writtenOrGone = (stored: boolean): Written => (stored ? UNVERSIONED : GONE);

type VersionedStore = SessionStore & Required<Pick<SessionStore, 'getVersioned' | 'compareAndSet'>>;

export class StoreAdapter {
  private readonly hasTouch: boolean;
  private readonly hasUpdate: boolean;
  private readonly hashIds: boolean;
  private readonly sealed: boolean;
  /** The store, when it can compare and set: every write of a session is then fenced. */
  private readonly versioned: VersionedStore | undefined;
  /** The version of each session read from a store with `compareAndSet`. */
  private readonly versions = new WeakMap<object, string>();
  /** The last sid hashed and its key: a request asks for the same key several times in a row. */
  private lastHashed: [sid: string, key: string] = ['', ''];

  constructor(
    readonly store: SessionStore,
    private readonly options: StoreAdapterOptions,
  ) {
    checkStore(store);
    this.hasTouch = typeof store.touch === 'function';
    this.hasUpdate = typeof store.update === 'function';
    this.versioned =
      typeof store.getVersioned === 'function' && typeof store.compareAndSet === 'function'
        ? (store as VersionedStore)
        : undefined;
    this.hashIds = options.hashIds === true;
    this.sealed = options.seal === true;
    if (this.sealed && !this.hashIds)
      throw new TypeError('koa-session-machine: seal needs hashIds (a key that is the sid gives the sealing key away)');
  }

  /** The store key of `sid`: the prefix and the sid, or with `hashIds` the prefix and its hash. */
  keyOf(sid: string): string {
    if (!this.hashIds) return this.options.prefix + sid;
    return this.options.prefix + this.hashOf(sid);
  }

  /** The sid as it appears in keys: itself, or with `hashIds` its hash (the last one is remembered). */
  private hashOf(sid: string): string {
    if (!this.hashIds) return sid;
    const [lastSid, lastHash] = this.lastHashed;
    if (sid === lastSid && lastHash !== '') return lastHash;
    const hash = hashSid(sid);
    this.lastHashed = [sid, hash];
    return hash;
  }

  /**
   * The key of a retired sid's tombstone: a key of its own, never the session's, so that the
   * session entry is destroyed exactly as without tombstones (stores, `ctx.sessionStore` and the
   * kit see it gone).
   */
  private tombstoneKeyOf(sid: string): string {
    return `${this.options.prefix}retired:${this.hashOf(sid)}`;
  }

  /**
   * Destroys the session of `sid` (through `destroy`, which the owner index may wrap) after
   * writing its tombstone, both issued at once: a request that comes with the sid after the
   * destroy finds the tombstone (see the `late` state in docs/lifecycle.md). The tombstone is best
   * effort: a store that fails to write it never fails the logout (a late request then gets what a
   * miss gets, the reference's reset); the destroy's own failure is the retire's.
   */
  retire(sid: string, destroy: () => Awaitable<unknown>): Awaitable<unknown> {
    const ttl = this.options.tombstoneTtl ?? 0;
    if (ttl <= 0) return destroy();
    const buried = this.bury(sid, ttl);
    const destroyed = destroy();
    return buried === undefined ? destroyed : andThen(destroyed, (value) => buried.then(() => value));
  }

  /** Writes the tombstone of `sid`; a Promise that never rejects, or nothing when the store answered at once or threw. */
  private bury(sid: string, ttl: number): Promise<void> | undefined {
    const tombstone: Tombstone = { cookie: { maxAge: ttl }, retired: true };
    try {
      const written = asAwaitable(
        this.store.set(this.tombstoneKeyOf(sid), tombstone as unknown as StoredSession, Math.ceil(ttl)),
      );
      return written instanceof Promise ? written.then(noop, noop) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Whether `sid` was retired less than `tombstoneTtl` ago. */
  isRetired(sid: string): Awaitable<boolean> {
    if ((this.options.tombstoneTtl ?? 0) <= 0) return false;
    return andThen(asAwaitable<unknown>(this.store.get(this.tombstoneKeyOf(sid))), isTombstone);
  }

  /** The session stored for `sid`, or `undefined`; a store error with code ENOENT means none. */
  get(sid: string): Awaitable<StoredSession | undefined> {
    const key = this.keyOf(sid);
    const found = this.read(sid, key, this.sealed);
    if (!this.hashIds) return found;
    return andThen(found, (session) => session ?? this.migrate(sid, key));
  }

  /** What the store holds under `key`, opened (with `seal`) and revived; `undefined` for nothing usable. */
  private read(sid: string, key: string, sealed: boolean): Awaitable<StoredSession | undefined> {
    // Stores that index a plain object with the key would hand out Object.prototype's members
    // (`__proto__`, `constructor`, `toString`) for such keys: they hold no session.
    if (key in Object.prototype) return undefined;
    const open = sealed ? (value: unknown) => this.open(sid, key, value) : reviveSession;
    try {
      if (this.versioned !== undefined) {
        const entry = asAwaitable<VersionedEntry | undefined | null>(this.versioned.getVersioned(key));
        const versioned = (found: VersionedEntry | undefined | null) => this.withVersion(found, open);
        return entry instanceof Promise ? entry.then(versioned, notFound) : versioned(entry);
      }
      const value = asAwaitable<unknown>(this.store.get(key));
      return value instanceof Promise ? value.then(open, notFound) : open(value);
    } catch (err) {
      return notFound(err);
    }
  }

  /** The session in a versioned entry, its version remembered for the write that may follow. */
  private withVersion(
    entry: VersionedEntry | undefined | null,
    open: (value: unknown) => StoredSession | undefined,
  ): StoredSession | undefined {
    const session = entry ? open(entry.session) : undefined;
    if (session !== undefined) this.versions.set(session, entry!.version);
    return session;
  }

  /**
   * The version of a session this adapter read (or moved under its hashed key): what its rewrite
   * expects to find. `undefined` for a store without `compareAndSet`.
   */
  versionOf(session: object): string | undefined {
    return this.versions.get(session);
  }

  /** The session sealed in a stored entry; an entry in clear, or one that does not open, is none. */
  private open(sid: string, key: string, value: unknown): StoredSession | undefined {
    const entry = reviveSession(value) as Partial<SealedEntry> | undefined;
    const json = entry === undefined ? undefined : unseal(sid, key, entry.sealed);
    return json === undefined ? undefined : sessionFromJson(json);
  }

  /**
   * With `hashIds`, a session stored before it was turned on is under the plain key: it is read
   * there once, written under the hashed key and deleted from the plain one, so that turning
   * `hashIds` on logs no one out. Cluster-safe (no command spans two keys) and safe against
   * concurrent requests of the same session: a store with `add` (SET NX) lets only the first
   * writer create the hashed entry, and the others read what it wrote; a request that finds both
   * keys empty looks at the hashed key once more, in case another request moved the entry between
   * its two reads. An entry is deleted from the plain key only after it was written under the
   * hashed one, so a crash in between loses nothing (the plain entry expires on its own).
   */
  private migrate(sid: string, key: string): Awaitable<StoredSession | undefined> {
    const plainKey = this.options.prefix + sid;
    // Entries under the plain key predate `seal`: they are in clear.
    return andThen(this.read(sid, plainKey, false), (session) => {
      if (session === undefined) return this.read(sid, key, this.sealed);
      const ttl = this.ttlFor(session);
      const value = this.forStore(sid, key, session);
      const written = this.versioned
        ? andThen(asAwaitable<CompareAndSetReply>(this.versioned.compareAndSet(key, value, ttl, null)), (reply) => {
            if (reply.written) this.versions.set(session, reply.version);
            return reply.written;
          })
        : this.store.add
          ? andThen(asAwaitable<unknown>(this.store.add(key, value, ttl)), wasStored)
          : andThen(asAwaitable(this.store.set(key, value, ttl)), () => true);
      return andThen(written, (created) => {
        const moved = andThen(asAwaitable(this.store.destroy(plainKey)), () => undefined);
        return andThen(moved, () => (created ? session : this.read(sid, key, this.sealed)));
      });
    });
  }

  /** What the store is given for `session`: the session itself, or with `seal` its sealed entry. */
  private forStore(sid: string, key: string, session: StoredSession): StoredSession {
    if (!this.sealed) return session;
    const { maxAge, expires } = session.cookie ?? {};
    const entry: SealedEntry = { cookie: { maxAge, expires }, sealed: seal(sid, key, jsonForWrite(session)) };
    return entry as unknown as StoredSession;
  }

  /** Writes a session (koa-generic-session's `ctx.sessionStore.set(sid, session)`). */
  set(sid: string, session: StoredSession): Awaitable<unknown> {
    const key = this.keyOf(sid);
    return asAwaitable(this.store.set(key, this.forStore(sid, key, session), this.ttlFor(session)));
  }

  /**
   * Stores a new session of the middleware's: on a store with `compareAndSet`, only where no entry
   * is (or one that already holds it: a repeat), so that a late copy of this write never lands over
   * a later one; otherwise with `set`.
   */
  create(sid: string, session: StoredSession): Awaitable<Written> {
    if (this.versioned === undefined) return andThen(this.set(sid, session), () => UNVERSIONED);
    return this.fenced(sid, session, null);
  }

  /**
   * Rewrites an existing session that was read as version `expected`. On a store with
   * `compareAndSet` the write is fenced (see {@link Written}). Otherwise it is written only if the
   * entry still exists (not written when it was destroyed by another request); stores without
   * `update` are asked first whether it does: not atomic, but a logout is then undone only if it
   * lands between that read and the write, instead of at any time during the slower request.
   */
  update(sid: string, session: StoredSession, expected: string | undefined): Awaitable<Written> {
    if (this.versioned !== undefined && expected !== undefined) return this.fenced(sid, session, expected);
    const key = this.keyOf(sid);
    const ttl = this.ttlFor(session);
    const value = this.forStore(sid, key, session);
    if (this.hasUpdate)
      return andThen(asAwaitable<unknown>(this.store.update!(key, value, ttl)), (r) => writtenOrGone(wasStored(r)));
    return andThen(
      this.ifStored(sid, () => asAwaitable(this.store.set(key, value, ttl))),
      writtenOrGone,
    );
  }

  /** `compareAndSet` of the session of `sid`, its reply as a {@link Written} (the newer entry opened). */
  private fenced(sid: string, session: StoredSession, expected: string | null): Awaitable<Written> {
    const key = this.keyOf(sid);
    const value = this.forStore(sid, key, session);
    const reply = asAwaitable<CompareAndSetReply>(
      this.versioned!.compareAndSet(key, value, this.ttlFor(session), expected),
    );
    return andThen(reply, (r): Written => {
      if (r.written) return r;
      const current = r.current;
      if (!current) return GONE;
      const newer = this.sealed ? this.open(sid, key, current.session) : reviveSession(current.session);
      return { written: false, newer: { session: newer, version: current.version } };
    });
  }

  /**
   * Refreshes the expiry; a store without `touch` gets the session rewritten, as the reference did
   * (only if its entry still exists, as for `update`, and fenced like it where the store can).
   */
  touch(sid: string, session: StoredSession, expected: string | undefined): Awaitable<boolean> {
    const key = this.keyOf(sid);
    const ttl = this.ttlFor(session);
    if (this.hasTouch) return andThen(asAwaitable<unknown>(this.store.touch!(key, ttl)), wasStored);
    // A rewrite fenced off by a newer one leaves the entry there, refreshed by that write.
    if (this.versioned !== undefined && expected !== undefined)
      return andThen(this.fenced(sid, session, expected), (w) => w.written || w.newer !== undefined);
    return this.ifStored(sid, () => asAwaitable(this.store.set(key, this.forStore(sid, key, session), ttl)));
  }

  /** Runs `write` if the session of `sid` is still stored; whether it was. */
  private ifStored(sid: string, write: () => Awaitable<unknown>): Awaitable<boolean> {
    const found = this.get(sid);
    const next = (session: StoredSession | undefined) => (session === undefined ? false : andThen(write(), () => true));
    return andThen(found, next);
  }

  /** Whether the store can lock a session (`concurrency: 'serialize'` needs it). */
  get canLock(): boolean {
    return typeof this.store.lock === 'function';
  }

  lock(sid: string, options: LockOptions): Awaitable<SessionLock | undefined> {
    return asAwaitable(this.store.lock!(this.keyOf(sid), options));
  }

  /** Deletes the session; with `hashIds`, under the plain key too, so that no old entry can be moved back. */
  destroy(sid: string): Awaitable<unknown> {
    const destroyed = asAwaitable(this.store.destroy(this.keyOf(sid)));
    if (!this.hashIds) return destroyed;
    return andThen(destroyed, () => asAwaitable(this.store.destroy(this.options.prefix + sid)));
  }

  /**
   * The store expiry in ms for `session`, or `undefined` for none (only when asked: `ttl: Infinity`);
   * with `maxLifetime`, never past the end of the session's lifetime.
   */
  ttlFor(session: StoredSession): number | undefined {
    const option = this.options.ttl;
    let ttl = typeof option === 'function' ? option(session) : option;
    if (!ttl) {
      const { expires, maxAge } = session.cookie ?? {};
      if (expires instanceof Date) ttl = Math.ceil(expires.getTime() - Date.now());
      else if (typeof maxAge === 'number') ttl = maxAge;
      else ttl = FALLBACK_TTL;
    }
    const { maxLifetime } = this.options;
    const createdAt = session.cookie?.createdAt;
    if (maxLifetime !== undefined && typeof createdAt === 'number' && typeof ttl === 'number') {
      ttl = Math.min(ttl, createdAt + maxLifetime - Date.now());
    }
    if (ttl === Infinity) return undefined;
    if (typeof ttl !== 'number' || Number.isNaN(ttl)) {
      throw new TypeError(`koa-session-machine: the ttl must be a number of ms, got ${String(ttl)}`);
    }
    // An entry that is already due still gets the shortest expiry a store accepts, never none.
    return Math.max(1, Math.ceil(ttl));
  }
}
