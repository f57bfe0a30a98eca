/**
 * The effects of the session machine: each effect name of session.machine.ts maps to a store call
 * (whose outcome comes back as the machine's next event, see store-calls.ts), a cookie operation,
 * or a notice to the app. They are made once per middleware (the runtime's store, carrier and
 * options) and performed for a request on its {@link EffectTarget}. Nothing here decides when.
 */
import type { SessionEffect, SessionEvent } from '../machines/session.machine.js';
import type { SessionAccess } from '../sessions/owner-index.js';
import type { StoreAdapter, Written } from '../stores/adapter.js';
import { announceJson } from '../stores/serialized.js';
import type { SessionLock, StoredSession } from '../stores/types.js';
import type { StoreConnection } from './connection.js';
import type { EffectTarget, PreparedWrite } from './effect-target.js';
import { isStoreUnavailable, storeUnavailable, type SessionError } from './errors.js';
import type { ResolvedOptions } from './options.js';
import type { SidCarrier } from './sid-carrier.js';
import { storeCaller } from './store-calls.js';
import { trace, traceFencedOff } from './trace.js';

/**
 * An effect answers with the machine's next event (a store call's outcome), a Promise of it, or
 * nothing; `issueSid` answers with a Promise of nothing while an async `genSid` runs.
 */
type Effect = (s: EffectTarget) => SessionEvent | Promise<SessionEvent | undefined> | undefined;

/** Each of the machine's effects, performed on a request's session. */
export type SessionEffects = Readonly<Record<SessionEffect, Effect>>;

/** What the effects use of the middleware's runtime (runtime.ts). */
export interface EffectsSetup {
  readonly options: ResolvedOptions;
  readonly store: StoreAdapter;
  /** How sessions are read and written: through the owner index when there is one. */
  readonly sessions: SessionAccess;
  readonly carrier: SidCarrier;
  /** Only for stores that report their connection. */
  readonly connection: StoreConnection | undefined;
}

/**
 * The session and JSON a write effect stores, prepared once: a repeated write (after a connection
 * failure) stores the same JSON again, and `beforeSave` runs once.
 */
function preparedWrite(s: EffectTarget, prepared: PreparedWrite | undefined): PreparedWrite {
  if (prepared === undefined) return s.prepareWrite();
  announceJson(prepared.session, prepared.json);
  return prepared;
}

/**
 * A failed write or touch, as the facts the machine decides on: an outage (the store was away or
 * too slow), or an error about the data, which the app's `errorHandler` ('set') swallows or not.
 */
function writeFailure(s: EffectTarget, err: unknown): { outage: boolean; swallowed: boolean } {
  s.failedWith(err);
  if (isStoreUnavailable(err)) return { outage: true, swallowed: false };
  return { outage: false, swallowed: s.errorHandlerSwallows(err, 'set') };
}

/** A store that is away, too slow, or a lock that did not come. */
function unavailable(s: EffectTarget, err: SessionError): SessionEvent {
  s.failedWith(err);
  return { type: 'STORE_UNAVAILABLE' };
}

/**
 * How many times a fenced write that met a newer entry is merged into it and sent again: each time
 * means that another request's write landed meanwhile, so this many overlapping writers of one
 * session all keep their changes.
 */
export const MERGES = 5;

/**
 * Releases `lock`, not awaited: the response need not wait for it, and a release that fails is
 * made good by the lease running out (its error goes to the app's `error` event).
 */
function releaseQuietly(s: EffectTarget, lock: SessionLock): void {
  void Promise.resolve()
    .then(() => lock.release())
    .catch((err: unknown) => s.ctx.app.emit('error', err, s.ctx));
}

/** The effects of one middleware, made once: its requests share them. */
export function createSessionEffects(setup: EffectsSetup): SessionEffects {
  const { options, store, sessions, carrier } = setup;
  const { onEvent } = options;
  const callStore = storeCaller(setup.connection, options);

  /**
   * A write of this request was fenced off and dropped (the `fenced` notice and its trace line).
   * `late`: its answer came after the request stopped waiting for it, so nothing but this report
   * can see it; an error of the app's `onEvent` then goes to the app's `error` event.
   */
  function reportFencedOff(s: EffectTarget, late: boolean): void {
    try {
      onEvent?.({ type: 'fenced', ctx: s.ctx, late });
      if (trace.enabled) traceFencedOff(s.ctx, late);
    } catch (err) {
      if (!late) throw err;
      s.ctx.app.emit('error', err, s.ctx);
    }
  }

  /** The answer of a write that came after the request gave up on it: reported when it was fenced off. */
  function lateWrite(s: EffectTarget): (result: Written) => void {
    return (result) => {
      if (!result.written && result.newer !== undefined) reportFencedOff(s, true);
    };
  }

  /**
   * A write's answer as the machine's event. Written: the request's version and baseline move on.
   * Fenced off by a newer entry (another request wrote the session since this one read it): this
   * request's changes are merged into it and sent again, expecting it ({@link MERGES} times at most),
   * unless it already holds them (then it is what this request stores);
   * an entry that does not open, or still newer ones after that, and the write is dropped and
   * reported, the session `superseded` as when the entry is gone.
   */
  function afterWrite(
    s: EffectTarget,
    result: Written,
    json: string,
    merges: number,
  ): SessionEvent | Promise<SessionEvent> {
    if (result.written) {
      s.written(json, result.version);
      return { type: 'WRITTEN', stored: true };
    }
    const newer = result.newer;
    if (newer === undefined) return { type: 'WRITTEN', stored: false };
    if (newer.session === undefined || merges >= MERGES) {
      reportFencedOff(s, false);
      return { type: 'WRITTEN', stored: false };
    }
    const merged = s.mergeInto(newer.session);
    // The newer entry already holds this request's changes: it is what the write would store.
    if (merged.alreadyStored) return afterWrite(s, { written: true, version: newer.version }, merged.json, merges);
    return rewrite(s, newer.version, merged, merges + 1);
  }

  /** Rewrites the loaded session, expecting the entry's version `expected` (a merged write brings its `prepared`). */
  function rewrite(
    s: EffectTarget,
    expected: string | null | undefined,
    prepared: PreparedWrite | undefined,
    merges: number,
  ): SessionEvent | Promise<SessionEvent> {
    let write = prepared;
    return callStore(
      'set',
      () => {
        const { session } = (write = preparedWrite(s, write));
        return sessions.update(s, s.sid!, session, expected ?? undefined);
      },
      (result) => afterWrite(s, result, write!.json, merges),
      (err) => ({ type: 'WRITE_FAILED', ...writeFailure(s, err) }),
      undefined,
      lateWrite(s),
    );
  }

  return {
    acquireLock: (s) => {
      const { lockTimeout, lockLease, storeTimeout } = options;
      const sid = s.sid!;
      /** Whether the request gave up on the lock (its wait ran out, or the store failed). */
      let gaveUp = false;
      return callStore(
        'lock',
        () => {
          const lock = store.lock(sid, { lease: lockLease, wait: lockTimeout });
          // A lock granted after the request gave up (a store frozen past the wait, then thawed) has
          // no holder: released at once, or its lease would be renewed for ever and the session
          // locked for good.
          if (lock instanceof Promise)
            lock.then(
              (late) => (gaveUp && late !== undefined ? releaseQuietly(s, late) : undefined),
              () => undefined,
            );
          return lock;
        },
        (lock) => {
          if (lock === undefined)
            return unavailable(s, storeUnavailable(`the session lock was not free within ${lockTimeout} ms`));
          s.holdLock(lock);
          return { type: 'LOCKED' };
        },
        (err) => {
          gaveUp = true;
          return unavailable(s, isStoreUnavailable(err) ? err : storeUnavailable(`lock failed: ${String(err)}`));
        },
        lockTimeout + storeTimeout,
      );
    },

    releaseLock: (s) => {
      const lock = s.takeLock();
      if (lock !== undefined) releaseQuietly(s, lock);
      return undefined;
    },

    readStore: (s) =>
      callStore(
        'get',
        () => sessions.read(s, s.sid!),
        (session) => {
          const valid = options.valid;
          const usable = session !== undefined && (valid === undefined || valid(s.ctx, session) !== false);
          if (!usable) return { type: 'LOADED', usable, expired: false, lifetimeUnstamped: false };
          s.loaded(session, store.versionOf(session));
          return { type: 'LOADED', usable, ...s.lifetimeOf(session) };
        },
        (err) => {
          if (isStoreUnavailable(err)) return unavailable(s, err);
          s.failedWith(err);
          return { type: 'LOAD_FAILED', swallowed: s.errorHandlerSwallows(err, 'get') };
        },
      ),

    createInStore: (s) => {
      let write: PreparedWrite | undefined;
      return callStore(
        'set',
        () => {
          // Synchronous with a synchronous genSid and store: no Promise, no timer.
          const writeAs = (sid: string) => sessions.create(s, sid, (write = preparedWrite(s, write)).session);
          const sid = s.sidNow();
          return sid === undefined ? s.ensureSid().then(writeAs) : writeAs(sid);
        },
        // A new session meets an entry only under a sid an earlier middleware chose (`ctx.sessionId`,
        // `sessionIdStore`): its changes are merged into it like a rewrite's. Should they be dropped
        // (reported), the session is still stored under that sid, so the cookie goes out: the machine
        // reads no `stored` on a create.
        (result) => afterWrite(s, result, write!.json, 0),
        (err) => ({ type: 'WRITE_FAILED', ...writeFailure(s, err) }),
        undefined,
        lateWrite(s),
      );
    },

    updateInStore: (s) => rewrite(s, s.version, undefined, 0),

    touchInStore: (s) =>
      callStore(
        'touch',
        () => store.touch(s.sid!, s.data as StoredSession, s.version ?? undefined),
        (stored) => ({ type: 'TOUCHED', stored }),
        (err) => ({ type: 'TOUCH_FAILED', ...writeFailure(s, err) }),
      ),

    destroyInStore: (s) =>
      callStore(
        'destroy',
        () => sessions.destroy(s, s.sid!),
        () => ({ type: 'DESTROYED' }),
        (err) => (s.failedWith(err), { type: 'DESTROY_FAILED' }),
      ),

    retireInStore: (s) =>
      callStore(
        'destroy',
        () => {
          const sid = s.sid!;
          return store.retire(sid, () => sessions.destroy(s, sid));
        },
        () => ({ type: 'DESTROYED' }),
        (err) => (s.failedWith(err), { type: 'DESTROY_FAILED' }),
      ),

    readTombstone: (s) =>
      callStore(
        'get',
        () => store.isRetired(s.sid!),
        (found) => ({ type: 'TOMBSTONE', found }),
        () => ({ type: 'TOMBSTONE_FAILED' }),
      ),

    reportLifetimeEnded: (s) => {
      onEvent?.({ type: 'expired', ctx: s.ctx });
      return undefined;
    },

    reportDegraded: (s) => {
      s.reportDegraded();
      return undefined;
    },

    throwStoreError: (s) => {
      s.throwStoreError();
      return undefined;
    },

    reportLateChangeDropped: (s) => {
      onEvent?.({ type: 'late', ctx: s.ctx });
      return undefined;
    },

    sendCookie: (s) => {
      carrier.send(s.ctx, s.sid!, s.data as StoredSession, s.reading);
      return undefined;
    },

    resetCookie: (s) => {
      carrier.reset(s.ctx);
      return undefined;
    },

    startNewSession: (s) => {
      s.startNew();
      return undefined;
    },

    issueSid: (s) => (s.sidNow() === undefined ? s.ensureSid().then(() => undefined) : undefined),
  };
}
