/**
 * The index of sessions per owner (the `owner` option), kept in step with the lifecycle the session
 * machine already drives: the effects that read, create, update and destroy a session
 * (session-effects.ts) call the hooks below instead of the store, and without `owner` they call the
 * store itself ({@link directAccess}): no index, no hook.
 *
 * - read: the session's owner is remembered; its entry is refreshed (`lastSeenAt`, expiry) when
 *   this process has not written it for a minute. No other read costs a store call.
 * - create, update: the entry is written first, with the session write sent right behind it (one
 *   pipelined write where the client pipelines). A crash in between leaves an entry whose session
 *   does not load, which `list` hides and then prunes; never a session missing from its index.
 * - update of a session whose entry this process wrote less than a minute ago, for the same owner
 *   as the request loaded and as that entry, with the same `describe` info and an expiry the
 *   session does not outlive: no index call, as for a read (a listing would show the same; the
 *   entry's `lastSeenAt` is refreshed once a minute, as reads refresh it).
 * - update to another owner (a user switch without regenerate) or to none (passport's logout): the
 *   entry leaves the old owner's index once the write is done.
 * - destroy (logout, `ctx.session = null`, regenerate): the entry leaves the index once the
 *   session is gone.
 *
 * An entry's expiry is the session's plus the refresh interval: a session that `rolling` keeps
 * alive has its entry refreshed at least that often, so the entry never expires before it.
 */
import type { Context } from 'koa';
import { isNotFound, asAwaitable, type StoreAdapter, type Written } from '../stores/adapter.js';
import { isPlainObject } from '../stores/revive.js';
import type { ListedOwnerIndexEntry, OwnerIndexEntry, SessionStore, StoredSession } from '../stores/types.js';
import { andThen, both, type Awaitable } from '../stores/awaitable.js';
import { handleOf, ownerKeyOf, ownerName } from './handle.js';
import { RecentRefreshes, type Mark } from './recent-refreshes.js';
import type { OwnerIndexOptions, SessionInfo } from './types.js';

/** How often a session in use refreshes its entry, at most. */
const REFRESH_INTERVAL = 60_000;
/** Clocks of the app's processes may differ by this much when they compare an entry's `lastSeenAt`. */
const CLOCK_SKEW = 5_000;

/** A request's session as the hooks see it: the same object for the whole request. */
export interface Hooked {
  readonly ctx: Context;
}

/**
 * How the session effects read, create, update and destroy a request's session: straight through
 * the store ({@link directAccess}), or through the owner index, which keeps itself in step.
 */
export interface SessionAccess {
  read(s: Hooked, sid: string): Awaitable<StoredSession | undefined>;
  create(s: Hooked, sid: string, session: StoredSession): Awaitable<Written>;
  /** Rewrites the session read as version `expected` (see `StoreAdapter.update`). */
  update(s: Hooked, sid: string, session: StoredSession, expected: string | undefined): Awaitable<Written>;
  destroy(s: Hooked, sid: string): Awaitable<unknown>;
}

/** The store itself, without an index (no `owner` option): nothing to keep in step. */
export function directAccess(store: StoreAdapter): SessionAccess {
  return {
    read: (_s, sid) => store.get(sid),
    create: (_s, sid, session) => store.create(sid, session),
    update: (_s, sid, session, expected) => store.update(sid, session, expected),
    destroy: (_s, sid) => store.destroy(sid),
  };
}

type IndexingStore = Required<Pick<SessionStore, 'get' | 'destroy' | 'indexAdd' | 'indexRemove' | 'indexList'>>;

const INDEX_METHODS = ['indexAdd', 'indexRemove', 'indexList'] as const;

/** What a request loaded or wrote: the sid and its owner at that point. */
interface Known {
  sid: string;
  owner: string | undefined;
}

/**
 * An index entry about to be written: the entry, when, its expiry, and its info's JSON (compared,
 * never stored; `null` for info that has none, which never compares equal).
 */
interface EntryToWrite {
  entry: OwnerIndexEntry;
  now: number;
  expiresAt: number;
  infoJson: string | undefined | null;
}

function jsonOrNull(value: unknown): string | null {
  try {
    return JSON.stringify(value);
  } catch {
    return null;
  }
}

/** What this process last wrote in a session's entry, and when: whose index, the `describe` info's JSON, the expiry. */
interface EntryWritten extends Mark {
  owner: string;
  info: string | undefined | null;
  expiresAt: number;
}

export class OwnerIndex implements SessionAccess {
  private readonly raw: IndexingStore;
  private readonly owner: (session: StoredSession) => unknown;
  private readonly describe: ((ctx: Context) => unknown) | undefined;
  private readonly prefix: string;
  /**
   * How long an entry whose session does not load is kept (hidden from `list`): a create writes the
   * entry first, and its session write may take until the store answers or the request gives up.
   */
  private readonly grace: number;
  private readonly known = new WeakMap<Hooked, Known>();
  private readonly refreshed = new RecentRefreshes<EntryWritten>(REFRESH_INTERVAL);

  constructor(
    private readonly store: StoreAdapter,
    options: OwnerIndexOptions,
  ) {
    const raw = store.store as Partial<IndexingStore>;
    const missing = INDEX_METHODS.filter((method) => typeof raw[method] !== 'function');
    if (missing.length > 0) {
      throw new TypeError(
        `koa-session-machine: option "owner" needs a store that keeps an index of sessions per owner, and this store has no ` +
          `${missing.map((m) => `${m}()`).join(', ')}: without an index, an owner's sessions could only be found by reading ` +
          'every session. MemoryStore and RedisStore have one; docs/custom-stores.md says how a store adds it.',
      );
    }
    this.raw = raw as IndexingStore;
    this.owner = options.owner!;
    this.describe = options.describe;
    this.prefix = options.prefix;
    this.grace = options.reconnectTimeout + 2 * options.storeTimeout + CLOCK_SKEW;
  }

  /** The owner of `session`, as the index names it. */
  ownerOf(session: StoredSession): string | undefined {
    return ownerName(this.owner(session), 'the owner(session) option');
  }

  handleOfSid(sid: string): string {
    return handleOf(this.store.keyOf(sid));
  }

  // ---- hooks: called by the effects of request-session.ts in place of the store call -----------

  read(s: Hooked, sid: string): Awaitable<StoredSession | undefined> {
    return andThen(this.store.get(sid), (session) => {
      if (session === undefined) return undefined;
      const owner = this.ownerOf(session);
      this.known.set(s, { sid, owner });
      if (owner === undefined) return session;
      const key = this.store.keyOf(sid);
      // Most reads end here: no hash, no store call.
      if (!this.refreshed.due(key, Date.now())) return session;
      return andThen(this.add(owner, key, handleOf(key), this.entryOf(s, key, session)), () => session);
    });
  }

  create(s: Hooked, sid: string, session: StoredSession): Awaitable<Written> {
    const owner = this.ownerOf(session);
    const key = this.store.keyOf(sid);
    const indexed =
      owner === undefined ? undefined : this.add(owner, key, handleOf(key), this.entryOf(s, key, session));
    return andThen(
      both(indexed, () => this.store.create(sid, session)),
      (value) => {
        this.known.set(s, { sid, owner });
        return value;
      },
    );
  }

  update(s: Hooked, sid: string, session: StoredSession, expected: string | undefined): Awaitable<Written> {
    const owner = this.ownerOf(session);
    const was = this.ownerKnown(s, sid);
    const key = this.store.keyOf(sid);
    let indexed: Awaitable<void> | undefined;
    if (owner !== undefined) {
      const entry = this.entryOf(s, key, session);
      if (owner !== was || !this.unchanged(key, owner, entry)) indexed = this.add(owner, key, handleOf(key), entry);
    }
    return andThen(
      both(indexed, () => this.store.update(sid, session, expected)),
      (result) => {
        // Fenced off by a newer write: the session is still there (the write merged into it follows).
        if (!result.written && result.newer !== undefined) return result;
        if (!result.written) {
          // Destroyed meanwhile (a logout, a revocation): its entry goes too, ours included.
          this.known.delete(s);
          this.refreshed.forget(key);
          return owner === undefined ? result : andThen(this.remove(owner, handleOf(key)), () => result);
        }
        this.known.set(s, { sid, owner });
        if (was === undefined || was === owner) return result;
        // The session left its owner's index: what was written there says nothing of it now.
        if (owner === undefined) this.refreshed.forget(key);
        return andThen(this.remove(was, handleOf(key)), () => result);
      },
    );
  }

  /**
   * Whether the entry this process wrote for `key` less than a refresh interval ago is the one a
   * write now would leave a listing showing: the same owner and info, and an expiry no earlier than
   * the session's after this write (the entry then outlives it, as a written one would; after the
   * session, a listing hides an entry whose session does not load).
   */
  private unchanged(key: string, owner: string, entry: EntryToWrite): boolean {
    const last = this.refreshed.fresh(key, entry.now);
    return (
      last !== undefined &&
      last.owner === owner &&
      entry.infoJson !== null &&
      last.info === entry.infoJson &&
      entry.expiresAt - REFRESH_INTERVAL <= last.expiresAt
    );
  }

  destroy(s: Hooked, sid: string): Awaitable<unknown> {
    const was = this.ownerKnown(s, sid);
    this.known.delete(s);
    const destroyed = this.store.destroy(sid);
    if (was === undefined) return destroyed;
    const key = this.store.keyOf(sid);
    this.refreshed.forget(key);
    return andThen(destroyed, () => this.remove(was, handleOf(key)));
  }

  // ---- the sessions API -------------------------------------------------------------------------

  /**
   * The owner's sessions that still load, newest first. An entry whose session does not load is
   * left out; once it is older than the grace period (a crash between the two writes, a session
   * the store evicted) it is pruned.
   */
  async list(owner: string, current?: string): Promise<SessionInfo[]> {
    const listed = await this.entries(owner);
    const loads = await Promise.all(listed.map(({ entry }) => this.holds(entry.key)));
    const now = Date.now();
    const stale = listed.filter(({ entry }, i) => !loads[i] && now - entry.lastSeenAt > this.grace);
    await Promise.all(stale.map(({ handle }) => this.remove(owner, handle)));
    return listed
      .filter((_, i) => loads[i])
      .sort((a, b) => b.entry.createdAt - a.entry.createdAt || b.entry.lastSeenAt - a.entry.lastSeenAt)
      .map(({ handle, entry }) => ({
        ...entry.info,
        handle,
        createdAt: entry.createdAt,
        lastSeenAt: entry.lastSeenAt,
        current: handle === current,
      }));
  }

  /** Destroys the owner's session `handle` and drops its entry; whether the owner had it. */
  async revoke(owner: string, handle: string): Promise<boolean> {
    const found = (await this.entries(owner)).find((listed) => listed.handle === handle);
    if (found === undefined) return false;
    await this.end(owner, found);
    return true;
  }

  /** Destroys every session of the owner but `except`; how many. */
  async revokeAll(owner: string, except?: string): Promise<number> {
    const ending = (await this.entries(owner)).filter((listed) => listed.handle !== except);
    await Promise.all(ending.map((listed) => this.end(owner, listed)));
    return ending.length;
  }

  // ---- the store calls --------------------------------------------------------------------------

  /** The entry a write of `session` (or its refresh) puts in the index now, and when it expires. */
  private entryOf(s: Hooked, key: string, session: StoredSession): EntryToWrite {
    const now = Date.now();
    const ttl = this.store.ttlFor(session);
    const expiresAt = ttl === undefined ? Infinity : now + ttl + REFRESH_INTERVAL;
    const info = this.describe?.(s.ctx);
    if (info !== undefined && !isPlainObject(info)) {
      throw new TypeError(
        `koa-session-machine: describe(ctx) must return a plain object or undefined, got ${typeof info}`,
      );
    }
    const entry: OwnerIndexEntry = { key, createdAt: now, lastSeenAt: now };
    if (info !== undefined) entry.info = info;
    return { entry, now, expiresAt, infoJson: info === undefined ? undefined : jsonOrNull(info) };
  }

  /** Writes the entry of `handle` (its session is being written or is in use). */
  private add(owner: string, key: string, handle: string, write: EntryToWrite): Awaitable<void> {
    const { entry, now, expiresAt, infoJson } = write;
    const added = asAwaitable(this.raw.indexAdd(ownerKeyOf(this.prefix, owner), handle, entry, expiresAt));
    return andThen(added, () => this.refreshed.mark(key, { at: now, owner, info: infoJson, expiresAt }));
  }

  private remove(owner: string, handle: string): Awaitable<void> {
    return andThen(asAwaitable(this.raw.indexRemove(ownerKeyOf(this.prefix, owner), handle)), () => undefined);
  }

  private async entries(owner: string): Promise<ListedOwnerIndexEntry[]> {
    return (
      (await asAwaitable<ListedOwnerIndexEntry[] | undefined>(this.raw.indexList(ownerKeyOf(this.prefix, owner)))) ?? []
    );
  }

  /** Whether the store still has a session under `key` (sealed or not: only its presence counts). */
  private async holds(key: string): Promise<boolean> {
    try {
      return Boolean(await asAwaitable(this.raw.get(key)));
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /** Revocation: the session first, then its entry (a crash in between leaves an entry `list` prunes). */
  private async end(owner: string, { handle, entry }: ListedOwnerIndexEntry): Promise<void> {
    await asAwaitable(this.raw.destroy(entry.key));
    this.refreshed.forget(entry.key);
    await this.remove(owner, handle);
  }

  private ownerKnown(s: Hooked, sid: string): string | undefined {
    const known = this.known.get(s);
    return known !== undefined && known.sid === sid ? known.owner : undefined;
  }
}
