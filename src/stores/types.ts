/**
 * The store contract. It is koa-generic-session's: any object with `get`, `set` and `destroy`
 * works, each returning a value or a Promise. The optional methods are capabilities a store may
 * declare; the middleware uses them when present and falls back to the plain contract otherwise.
 */

/** The cookie options a session carries and stores with its data; stores written for koa-generic-session read `sess.cookie.maxAge`. */
export interface SessionCookie {
  maxAge?: number | 'session' | null;
  expires?: Date;
  path?: string;
  domain?: string;
  secure?: boolean;
  httpOnly?: boolean;
  sameSite?: 'strict' | 'lax' | 'none' | boolean;
  signed?: boolean;
  overwrite?: boolean;
  priority?: 'low' | 'medium' | 'high';
  partitioned?: boolean;
  [option: string]: unknown;
}

/**
 * The data of a session. Apps declare their own fields by augmenting this interface:
 *
 * ```ts
 * declare module 'koa-session-machine' {
 *   interface SessionData { user?: { id: string }; count?: number }
 * }
 * ```
 */
export interface SessionData {
  cookie: SessionCookie;
}

/** A session as it travels to and from a store: the app's fields plus `cookie`. */
export type StoredSession = SessionData & Record<string, unknown>;

/** A held session lock; `release` lets the next request of the session go on. */
export interface SessionLock {
  release(): unknown;
}

export interface LockOptions {
  /** ms the lock stays valid if its holder dies without releasing it (renewed while held). */
  lease: number;
  /** ms to wait for the lock before giving up with `undefined`. */
  wait: number;
}

/**
 * An entry of an owner's index (the `owner` option): where one session of the owner is stored and
 * what the app said about it. Stores keep it as JSON; only `createdAt` has a rule of its own.
 */
export interface OwnerIndexEntry {
  /** The session's store key (with `hashIds` a hash of the sid, never the sid). */
  key: string;
  /** ms since the epoch when the session entered the index; a later `indexAdd` of the same handle keeps it. */
  createdAt: number;
  /** ms since the epoch of the session's last write or refresh. */
  lastSeenAt: number;
  /** What the app's `describe(ctx)` returned at that write, when it has one. */
  info?: Record<string, unknown>;
}

/** An entry as `getVersioned` reads it (the `compareAndSet` capability). */
export interface VersionedEntry {
  /** The session, as `get(key)` gives it. */
  session: unknown;
  /**
   * The version of the entry: a string that is different whenever the entry holds something else
   * (MemoryStore and RedisStore use the stored value itself). The middleware only hands it back.
   */
  version: string;
}

/** How a `compareAndSet` ended. */
export type CompareAndSetReply =
  /** `session` was written; `version` is the entry's version now. */
  | { written: true; version: string }
  /**
   * Nothing was written: the entry is gone (no `current`), or it holds another version than the
   * one expected (`current`, as `getVersioned` would read it).
   */
  | { written: false; current?: VersionedEntry };

/** One entry of `indexList(ownerKey)`. */
export interface ListedOwnerIndexEntry {
  handle: string;
  entry: OwnerIndexEntry;
}

/**
 * A session store. The three required methods take `...rest` so that a store typed by its own
 * package fits without a cast: koa-redis through @types/koa-redis (koa-session's `stores`, whose
 * `get` and `set` take more parameters), or a class with overloads. The middleware passes only
 * the parameters below.
 */
export interface SessionStore {
  /** The session stored under `key`, or a falsy value when there is none. */
  get(key: string, ...rest: unknown[]): unknown;
  /** Store `session` under `key`; `ttl` is in milliseconds, `undefined` for no expiry. */
  set(key: string, session: StoredSession, ttl?: number, ...rest: unknown[]): unknown;
  destroy(key: string, ...rest: unknown[]): unknown;
  /**
   * Capability: refresh the expiry of `key` without rewriting it. Resolves `false` when the key
   * does not exist (it expired or was destroyed), `true` otherwise.
   */
  touch?(key: string, ttl?: number): boolean | Promise<boolean>;
  /**
   * Capability: write `session` only if `key` still exists. Resolves `false` (and writes nothing)
   * when it does not, so that a request never brings back a session that another request
   * destroyed (docs/lifecycle.md, requests that race).
   */
  update?(key: string, session: StoredSession, ttl?: number): boolean | Promise<boolean>;
  /**
   * Capability: write `session` only if `key` does not exist yet (Redis `SET … NX`). Resolves
   * `false` (and writes nothing) when it does. With `hashIds`, it lets exactly one request move a
   * session from its plain key to its hashed key; without it, the move uses `set`.
   */
  add?(key: string, session: StoredSession, ttl?: number): boolean | Promise<boolean>;
  /**
   * Capability `compareAndSet` (this method and the next): the entry under `key` with its version,
   * or a falsy value when there is none.
   */
  getVersioned?(key: string): VersionedEntry | undefined | null | Promise<VersionedEntry | undefined | null>;
  /**
   * Capability `compareAndSet`: in one atomic step, writes `session` under `key` only if the entry
   * there is still the version `expected` (`null`: only if there is no entry), and says what is
   * there otherwise. An entry that already holds exactly what is written may count as written (a
   * repeated write). The middleware fences its writes with it, so that a write that outlives its
   * request (queued in a client across a failover, answered after the request gave up) never
   * lands over a newer one (docs/reliability.md, fenced writes).
   */
  compareAndSet?(
    key: string,
    session: StoredSession,
    ttl: number | undefined,
    expected: string | null,
  ): CompareAndSetReply | Promise<CompareAndSetReply>;
  /**
   * Capability: a lock per key, for `concurrency: 'serialize'` (README, No lost updates). Resolves the held lock,
   * or `undefined` when it could not be had within `options.wait`. Across processes for stores
   * shared by several processes (the RedisStore's is a lease lock in Redis).
   */
  lock?(key: string, options: LockOptions): SessionLock | undefined | Promise<SessionLock | undefined>;
  /**
   * Capability `index` (all three methods), for the `owner` option: an index of sessions per owner
   * (docs/managing-sessions.md). `indexAdd` puts `entry` under `handle` in the index of `ownerKey`,
   * or replaces the entry that is there while keeping its `createdAt`; the entry is gone from
   * `indexList` once `expiresAt` (ms since the epoch; `Infinity` for never) has passed.
   */
  indexAdd?(ownerKey: string, handle: string, entry: OwnerIndexEntry, expiresAt: number): unknown;
  /** Capability `index`: removes `handle` from the index of `ownerKey`; removing a missing one is not an error. */
  indexRemove?(ownerKey: string, handle: string): unknown;
  /** Capability `index`: the entries of `ownerKey` that have not expired, in any order (none: an empty list). */
  indexList?(ownerKey: string): ListedOwnerIndexEntry[] | Promise<ListedOwnerIndexEntry[]>;
  /**
   * Stores that emit `connect` / `disconnect` (and `close` on shutdown) feed the store connection
   * machine: after `disconnect`, requests wait for `connect` up to `reconnectTimeout`.
   */
  on?(event: string, listener: (...args: unknown[]) => void): unknown;
  /** Whether the store is ready now; a store without it is taken as connected at start-up. */
  readonly connected?: boolean;
}
