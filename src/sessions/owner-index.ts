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
 * - update to another owner (a user switch without regenerate) or to none (passport's logout): the
 *   entry leaves the old owner's index once the write is done.
 * - destroy (logout, `ctx.session = null`, regenerate): the entry leaves the index once the
 *   session is gone.
 *
 * An entry's expiry is the session's plus the refresh interval: a session that `rolling` keeps
 * alive has its entry refreshed at least that often, so the entry never expires before it.
 */
import type { Context } from 'koa';
import { isNotFound, settle, type StoreAdapter, type Written } from '../stores/adapter.js';
import { isPlainObject } from '../stores/revive.js';
import type { ListedOwnerIndexEntry, OwnerIndexEntry, SessionStore, StoredSession } from '../stores/types.js';
import { andThen, both, type Awaitable } from '../stores/awaitable.js';
import { handleOf, ownerKeyOf, ownerName } from './handle.js';
import { RecentRefreshes } from './recent-refreshes.js';
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
  private readonly refreshed = new RecentRefreshes(REFRESH_INTERVAL);

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
      return andThen(this.add(s, owner, key, handleOf(key), session), () => session);
    });
  }

  create(s: Hooked, sid: string, session: StoredSession): Awaitable<Written> {
    const owner = this.ownerOf(session);
    const key = this.store.keyOf(sid);
    const indexed = owner === undefined ? undefined : this.add(s, owner, key, handleOf(key), session);
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
    const handle = owner === undefined && was === undefined ? '' : handleOf(key);
    const indexed = owner === undefined ? undefined : this.add(s, owner, key, handle, session);
    return andThen(
      both(indexed, () => this.store.update(sid, session, expected)),
      (result) => {
        // Fenced off by a newer write: the session is still there (the write merged into it follows).
        if (!result.written && result.newer !== undefined) return result;
        if (!result.written) {
          // Destroyed meanwhile (a logout, a revocation): its entry goes too, ours included.
          this.known.delete(s);
          this.refreshed.forget(key);
          return owner === undefined ? result : andThen(this.remove(owner, handle), () => result);
        }
        this.known.set(s, { sid, owner });
        return was === undefined || was === owner ? result : andThen(this.remove(was, handle), () => result);
      },
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

  /** Writes the entry of `handle` (its session is being written or is in use). */
  private add(s: Hooked, owner: string, key: string, handle: string, session: StoredSession): Awaitable<void> {
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
    const added = settle(this.raw.indexAdd(ownerKeyOf(this.prefix, owner), handle, entry, expiresAt));
    return andThen(added, () => this.refreshed.mark(key, now));
  }

  private remove(owner: string, handle: string): Awaitable<void> {
    return andThen(settle(this.raw.indexRemove(ownerKeyOf(this.prefix, owner), handle)), () => undefined);
  }

  private async entries(owner: string): Promise<ListedOwnerIndexEntry[]> {
    return (
      (await settle<ListedOwnerIndexEntry[] | undefined>(this.raw.indexList(ownerKeyOf(this.prefix, owner)))) ?? []
    );
  }

  /** Whether the store still has a session under `key` (sealed or not: only its presence counts). */
  private async holds(key: string): Promise<boolean> {
    try {
      return Boolean(await settle(this.raw.get(key)));
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /** Revocation: the session first, then its entry (a crash in between leaves an entry `list` prunes). */
  private async end(owner: string, { handle, entry }: ListedOwnerIndexEntry): Promise<void> {
    await settle(this.raw.destroy(entry.key));
    this.refreshed.forget(entry.key);
    await this.remove(owner, handle);
  }

  private ownerKnown(s: Hooked, sid: string): string | undefined {
    const known = this.known.get(s);
    return known !== undefined && known.sid === sid ? known.owner : undefined;
  }
}
