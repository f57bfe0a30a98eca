/**
 * The lifecycle of one request's session. Every decision about when to read the store, write it,
 * refresh its TTL, destroy an entry or touch the cookie lives here, as a guarded transition with
 * a named effect. The middleware only performs the effects and reports their results as events.
 *
 * Effects (the actions below) are names, not code: the middleware maps each name to a store call
 * or a cookie operation. That keeps this file free of Koa and of stores, lets the same definition
 * draw the diagrams in docs/, and lets `compile.ts` turn it into a table for the hot path.
 */
import { and, assign, setup, type StateValueFrom } from 'xstate';
import type { MachineRunner } from './runner.js';

/** How `ctx.sessionSave` asks the commit to behave: unset, `true` (force) or `false` (skip). */
export type SaveMode = 'auto' | 'force' | 'skip';

export type SessionEvent =
  /**
   * The request starts using its session. `sid` tells what the client sent: nothing, a sid to look
   * up, or a sid that failed its signature check (or is not a sid at all).
   */
  | { type: 'LOAD'; sid: 'absent' | 'present' | 'forged' }
  /** The session's lock is held (`concurrency: 'serialize'`). */
  | { type: 'LOCKED' }
  /**
   * The store answered; `usable` is false for a miss, a non-object or a session `valid()` refused;
   * `expired` is true for a usable session older than `maxLifetime`; `lifetimeUnstamped` for a
   * usable one that says nowhere when it began (stored before `maxLifetime` was turned on): its
   * lifetime begins now, and must be stored.
   */
  | { type: 'LOADED'; usable: boolean; expired: boolean; lifetimeUnstamped: boolean }
  /**
   * Whether the sid the store did not know was retired by a request that regenerated or destroyed
   * its session moments ago (a tombstone), so that this request was already on its way then.
   */
  | { type: 'TOMBSTONE'; found: boolean }
  /** The tombstone could not be read (the store failed). */
  | { type: 'TOMBSTONE_FAILED' }
  /**
   * The store read failed with an error about the data (not an outage); `swallowed`: the app's
   * `errorHandler` returned instead of throwing.
   */
  | { type: 'LOAD_FAILED'; swallowed: boolean }
  /** The store is unavailable, did not answer in time, or the session's lock could not be had in time. */
  | { type: 'STORE_UNAVAILABLE' }
  /** `ctx.session = null`. */
  | { type: 'REMOVE' }
  /** `ctx.session = { ... }`. */
  | { type: 'REPLACE' }
  /** `await ctx.regenerateSession()`. */
  | { type: 'REGENERATE' }
  /** `await ctx.saveSession()`: the commit rules, applied now, and the request goes on. */
  | { type: 'SAVE_NOW'; changed: boolean; save: SaveMode }
  /** The end of the request (also after a downstream error). */
  | { type: 'COMMIT'; changed: boolean; save: SaveMode }
  /** A store write ended; `stored` is false when the entry was gone (destroyed by another request). */
  | { type: 'WRITTEN'; stored: boolean }
  /**
   * A store write failed. `outage`: the store was away or did not answer in time (the outage
   * policy applies); otherwise an error about the data, which the app's `errorHandler` saw:
   * `swallowed` when it returned instead of throwing.
   */
  | { type: 'WRITE_FAILED'; outage: boolean; swallowed: boolean }
  /** A TTL refresh ended; `stored` is false when the entry was gone. */
  | { type: 'TOUCHED'; stored: boolean }
  /** A TTL refresh failed; `outage` and `swallowed` as for WRITE_FAILED. */
  | { type: 'TOUCH_FAILED'; outage: boolean; swallowed: boolean }
  | { type: 'DESTROYED' }
  | { type: 'DESTROY_FAILED' };

/** Who causes an event: the request, the app's handler, or the store (a result or a failure). */
export type SessionEventKind = 'request' | 'app' | 'result' | 'failure';

/**
 * Every event by who causes it: the middleware sends `request` events as the request starts and
 * ends, `app` events when the handler acts on its session, and `result` / `failure` events for
 * how a store call the machine asked for ended. The kit drives a path by the first two and
 * arranges the store for the others; the diagrams colour their edges by it.
 */
export const SESSION_EVENT_KINDS: Readonly<Record<SessionEvent['type'], SessionEventKind>> = {
  LOAD: 'request',
  COMMIT: 'request',
  REMOVE: 'app',
  REPLACE: 'app',
  REGENERATE: 'app',
  SAVE_NOW: 'app',
  LOCKED: 'result',
  LOADED: 'result',
  TOMBSTONE: 'result',
  TOMBSTONE_FAILED: 'failure',
  WRITTEN: 'result',
  TOUCHED: 'result',
  DESTROYED: 'result',
  LOAD_FAILED: 'failure',
  STORE_UNAVAILABLE: 'failure',
  WRITE_FAILED: 'failure',
  TOUCH_FAILED: 'failure',
  DESTROY_FAILED: 'failure',
};

/**
 * State tags. `live`: `ctx.session` holds a session object the app may read and change (a new
 * one, a loaded one, or the empty one of a degraded request); in every other state it is `null`
 * or not there yet. `unstarted`: the request has not started its session yet (with `defer`, or
 * until its first use); a sid asked for now (`ctx.sessionId`) is the one a new session started by
 * the load keeps.
 */
export type SessionTag = 'live' | 'unstarted';

export interface SessionMachineInput {
  /** `rolling`: refresh the TTL and re-send the cookie whenever an existing session is loaded. */
  rolling: boolean;
  /** `allowEmpty`: save a new session even when nothing was set. */
  allowEmpty: boolean;
  /** `concurrency: 'serialize'`: the requests of one session run one after another, under a lock. */
  serialize: boolean;
  /**
   * `storeOutage: 'degrade'`: a request whose store is away goes on with an empty session that is
   * never saved, and a write that meets an outage is skipped; otherwise (`'fail'`) it fails, a 503.
   */
  degradeOnOutage: boolean;
}

export interface SessionMachineContext extends SessionMachineInput {
  /** True once the request has ended: results of store calls then lead to a final state. */
  ending: boolean;
  /** The loaded session's lifetime began with this request (`lifetimeUnstamped`) and is not stored yet. */
  lifetimeUnstored: boolean;
}

/** The names of the effects the middleware performs; each is an action of the machine. */
export const SESSION_EFFECTS = [
  'acquireLock',
  'releaseLock',
  'readStore',
  'createInStore',
  'updateInStore',
  'touchInStore',
  'destroyInStore',
  'retireInStore',
  'readTombstone',
  'sendCookie',
  'resetCookie',
  'startNewSession',
  'issueSid',
  'reportLifetimeEnded',
  'reportLateChangeDropped',
  'reportDegraded',
  'throwStoreError',
] as const;
export type SessionEffect = (typeof SESSION_EFFECTS)[number];

const effect = () => {
  /* performed by the middleware; see the file comment */
};

const commitGuardsFor = (e: SessionEvent) =>
  e.type === 'COMMIT' || e.type === 'SAVE_NOW' ? e : { changed: false, save: 'skip' as SaveMode };

/** The handler changed its session, or forced a save with `ctx.sessionSave = true`. */
const changedOrForced = ({ event }: { event: SessionEvent }) => {
  const { changed, save } = commitGuardsFor(event);
  return save !== 'skip' && (save === 'force' || changed);
};

/**
 * What a failed write leads to. At the end of the request: `failed` when the failure is fatal
 * (its error fails the request), `unsaved` otherwise. During the request (`ctx.saveSession()`):
 * back to `back`, the error thrown to the handler when fatal. An outage the policy degrades is
 * reported (`onEvent` `degraded`).
 */
const writeFailed = (back: 'fresh' | 'loaded') =>
  [
    { guard: and(['requestEnding', 'failureIsFatal']), target: 'failed', actions: 'throwStoreError' },
    { guard: 'failureIsFatal', target: back, actions: 'throwStoreError' },
    { guard: and(['requestEnding', 'storeWasAway']), target: 'unsaved', actions: 'reportDegraded' },
    { guard: 'requestEnding', target: 'unsaved' },
    { guard: 'storeWasAway', target: back, actions: 'reportDegraded' },
    { target: back },
  ] as const;

export const sessionMachine = setup({
  types: {
    context: {} as SessionMachineContext,
    events: {} as SessionEvent,
    input: {} as SessionMachineInput,
    tags: {} as SessionTag,
  },
  guards: {
    clientSentSid: ({ event }) => event.type === 'LOAD' && event.sid === 'present',
    clientSentForgedSid: ({ event }) => event.type === 'LOAD' && event.sid === 'forged',
    /** `concurrency: 'serialize'`: an existing session is locked before it is read, so that no update is lost. */
    serializeRequests: ({ context }) => context.serialize,
    sessionUsable: ({ event }) => event.type === 'LOADED' && event.usable,
    /** `maxLifetime`: a session created longer ago than that is gone, however active it was. */
    sessionOutlivedLifetime: ({ event }) => event.type === 'LOADED' && event.expired,
    /** The sid was retired moments ago by a request that regenerated or destroyed its session. */
    sidWasRetired: ({ event }) => event.type === 'TOMBSTONE' && event.found,
    /**
     * A failed store call fails the request: the app's `errorHandler` rethrew an error about the
     * data, or the store was away and the outage policy is `'fail'`.
     */
    failureIsFatal: ({ context, event }) => {
      if (event.type === 'LOAD_FAILED') return !event.swallowed;
      if (event.type !== 'WRITE_FAILED' && event.type !== 'TOUCH_FAILED') return false;
      return event.outage ? !context.degradeOnOutage : !event.swallowed;
    },
    /** The failed write met an outage (which, not being fatal, the outage policy degrades). */
    storeWasAway: ({ event }) => (event.type === 'WRITE_FAILED' || event.type === 'TOUCH_FAILED') && event.outage,
    /** A late request's handler changed its empty session, or forced a save: that is dropped. */
    lateChangeDropped: changedOrForced,
    outagePolicyDegrades: ({ context }) => context.degradeOnOutage,
    /** A new session is stored when forced, when it changed, or with `allowEmpty`. */
    newSessionNeedsSave: ({ context, event }) => {
      const { changed, save } = commitGuardsFor(event);
      return save !== 'skip' && (save === 'force' || changed || context.allowEmpty);
    },
    /**
     * A loaded session is rewritten only when it changed or the save is forced, or when its lifetime
     * began with this request and is not stored yet (see "End of the request" in docs/lifecycle.md).
     */
    loadedSessionNeedsSave: ({ context, event }) =>
      changedOrForced({ event }) || (context.lifetimeUnstored && commitGuardsFor(event).save !== 'skip'),
    /** `rolling` refreshes the TTL of an unchanged session, without rewriting it (`touch`). */
    rollingNeedsTouch: ({ context, event }) => commitGuardsFor(event).save !== 'skip' && context.rolling,
    /** `ctx.sessionSave = false` suppresses every write, the destroy of a removed session too. */
    saveNotSkipped: ({ event }) => commitGuardsFor(event).save !== 'skip',
    requestEnding: ({ context }) => context.ending,
    entryGoneBeforeWrite: ({ event }) => (event.type === 'WRITTEN' || event.type === 'TOUCHED') && !event.stored,
  },
  actions: {
    acquireLock: effect,
    releaseLock: effect,
    readStore: effect,
    createInStore: effect,
    updateInStore: effect,
    touchInStore: effect,
    destroyInStore: effect,
    retireInStore: effect,
    readTombstone: effect,
    sendCookie: effect,
    resetCookie: effect,
    startNewSession: effect,
    issueSid: effect,
    reportLifetimeEnded: effect,
    reportLateChangeDropped: effect,
    reportDegraded: effect,
    throwStoreError: effect,
    markEnding: assign({ ending: () => true }),
    /** Whether the loaded session's lifetime begins with this request (see LOADED). */
    noteLifetime: assign({
      lifetimeUnstored: ({ event }) => event.type === 'LOADED' && event.lifetimeUnstamped,
    }),
    /** A write stores the session with the beginning of its lifetime. */
    markLifetimeStored: assign({ lifetimeUnstored: () => false }),
  },
}).createMachine({
  id: 'session',
  initial: 'uninitialized',
  context: ({ input }) => ({ ...input, ending: false, lifetimeUnstored: false }),
  states: {
    uninitialized: {
      tags: 'unstarted',
      description: 'Nothing read yet (with `defer`, until the session is first used).',
      on: {
        LOAD: [
          { guard: and(['serializeRequests', 'clientSentSid']), target: 'locking', actions: 'acquireLock' },
          { guard: 'clientSentSid', target: 'loading', actions: 'readStore' },
          { guard: 'clientSentForgedSid', target: 'fresh', actions: ['resetCookie', 'startNewSession'] },
          { target: 'fresh', actions: 'startNewSession' },
        ],
        COMMIT: { target: 'unchanged', actions: 'markEnding' },
      },
    },
    locking: {
      description: "Waiting for the lock of the session (`concurrency: 'serialize'`), bounded by `lockTimeout`.",
      on: {
        LOCKED: { target: 'loading', actions: 'readStore' },
        STORE_UNAVAILABLE: [
          { guard: 'outagePolicyDegrades', target: 'degraded', actions: 'reportDegraded' },
          { target: 'failed', actions: 'throwStoreError' },
        ],
      },
    },
    loading: {
      description: 'Reading the session of the client sid from the store.',
      on: {
        LOADED: [
          {
            guard: and(['sessionUsable', 'sessionOutlivedLifetime']),
            target: 'expiring',
            actions: 'reportLifetimeEnded',
          },
          { guard: 'sessionUsable', target: 'loaded', actions: 'noteLifetime' },
          // A sid the store does not know, or whose session is refused, is never adopted: a client
          // cannot choose its sid (session fixation), so a new session gets a new sid, unless the
          // sid was retired moments ago (see checkingTombstone).
          { target: 'checkingTombstone' },
        ],
        LOAD_FAILED: [
          { guard: 'failureIsFatal', target: 'failed', actions: 'throwStoreError' },
          { target: 'fresh', actions: 'startNewSession' },
        ],
        STORE_UNAVAILABLE: [
          { guard: 'outagePolicyDegrades', target: 'degraded', actions: 'reportDegraded' },
          { target: 'failed', actions: 'throwStoreError' },
        ],
      },
    },
    checkingTombstone: {
      description: 'The store does not know the sid: was it retired moments ago by a login or logout?',
      entry: 'readTombstone',
      on: {
        TOMBSTONE: [
          { guard: 'sidWasRetired', target: 'late' },
          { target: 'fresh', actions: ['resetCookie', 'startNewSession'] },
        ],
        // A tombstone that cannot be read counts as none: the request gets what a miss gets.
        TOMBSTONE_FAILED: { target: 'fresh', actions: ['resetCookie', 'startNewSession'] },
      },
    },
    late: {
      tags: 'live',
      description:
        'A request that left with a sid a login or logout has since retired: an empty session, never saved, and no cookie, so that it cannot undo the new cookie.',
      on: {
        // A login in the late request gets a new session of its own, saved as usual.
        REGENERATE: { target: 'fresh', actions: 'startNewSession' },
        COMMIT: [
          { guard: 'lateChangeDropped', target: 'unchanged', actions: ['markEnding', 'reportLateChangeDropped'] },
          { target: 'unchanged', actions: 'markEnding' },
        ],
      },
    },
    expiring: {
      description: 'A session older than `maxLifetime`: deleted from the store, then a new one.',
      entry: 'destroyInStore',
      on: {
        DESTROYED: { target: 'fresh', actions: ['resetCookie', 'startNewSession'] },
        DESTROY_FAILED: { target: 'failed', actions: 'throwStoreError' },
      },
    },
    fresh: {
      tags: 'live',
      description: 'A new session that the store does not hold yet; its sid is issued as it starts.',
      // As koa-generic-session did: `ctx.sessionId` is known in the handlers, an app's async
      // `genSid` included, and koa-generic-session apps read it right after regenerating.
      entry: 'issueSid',
      on: {
        REMOVE: { target: 'abandoned' },
        REGENERATE: { actions: ['startNewSession', 'issueSid'] },
        SAVE_NOW: { guard: 'newSessionNeedsSave', target: 'creating' },
        COMMIT: [
          { guard: 'newSessionNeedsSave', target: 'creating', actions: 'markEnding' },
          { target: 'unchanged', actions: 'markEnding' },
        ],
      },
    },
    loaded: {
      tags: 'live',
      description: 'A session read from the store.',
      on: {
        REMOVE: { target: 'removed' },
        REGENERATE: { target: 'regenerating' },
        SAVE_NOW: { guard: 'loadedSessionNeedsSave', target: 'updating' },
        COMMIT: [
          { guard: 'loadedSessionNeedsSave', target: 'updating', actions: 'markEnding' },
          { guard: 'rollingNeedsTouch', target: 'touching', actions: 'markEnding' },
          { target: 'unchanged', actions: 'markEnding' },
        ],
      },
    },
    abandoned: {
      description: '`ctx.session = null` on a new session: nothing to destroy, nothing to save.',
      on: {
        REPLACE: { target: 'fresh' },
        REGENERATE: { target: 'fresh', actions: 'startNewSession' },
        COMMIT: { target: 'unchanged', actions: 'markEnding' },
      },
    },
    removed: {
      description: '`ctx.session = null` on a loaded session: destroyed at commit.',
      on: {
        REPLACE: { target: 'loaded' },
        REGENERATE: { target: 'regenerating' },
        SAVE_NOW: { guard: 'saveNotSkipped', target: 'destroying', actions: 'resetCookie' },
        COMMIT: [
          { guard: 'saveNotSkipped', target: 'destroying', actions: ['markEnding', 'resetCookie'] },
          { target: 'unchanged', actions: 'markEnding' },
        ],
      },
    },
    degraded: {
      tags: 'live',
      description: 'The store is unavailable and the outage policy degrades: an empty session, never saved.',
      on: { COMMIT: { target: 'unchanged', actions: 'markEnding' } },
    },
    regenerating: {
      description: 'Destroying the old entry (its sid retired) before a new sid is issued.',
      entry: 'retireInStore',
      on: {
        DESTROYED: { target: 'fresh', actions: ['resetCookie', 'startNewSession'] },
        DESTROY_FAILED: { target: 'loaded', actions: 'throwStoreError' },
      },
    },
    creating: {
      description: 'Writing a new session under its sid.',
      entry: ['markLifetimeStored', 'createInStore'],
      on: {
        WRITTEN: [
          { guard: 'requestEnding', target: 'saved', actions: 'sendCookie' },
          { target: 'loaded', actions: 'sendCookie' },
        ],
        WRITE_FAILED: writeFailed('fresh'),
      },
    },
    updating: {
      description: 'Rewriting a loaded session, only if its entry still exists (a logout meanwhile is not undone).',
      entry: ['markLifetimeStored', 'updateInStore'],
      on: {
        WRITTEN: [
          { guard: 'entryGoneBeforeWrite', target: 'superseded' },
          { guard: 'requestEnding', target: 'saved', actions: 'sendCookie' },
          { target: 'loaded', actions: 'sendCookie' },
        ],
        WRITE_FAILED: writeFailed('loaded'),
      },
    },
    touching: {
      description: 'Refreshing the TTL of an unchanged session (rolling), without rewriting it.',
      entry: 'touchInStore',
      on: {
        TOUCHED: [
          { guard: 'entryGoneBeforeWrite', target: 'superseded' },
          { target: 'touched', actions: 'sendCookie' },
        ],
        // A refresh is only asked for at the end of the request.
        TOUCH_FAILED: [
          { guard: 'failureIsFatal', target: 'failed', actions: 'throwStoreError' },
          { guard: 'storeWasAway', target: 'unsaved', actions: 'reportDegraded' },
          { target: 'unsaved' },
        ],
      },
    },
    destroying: {
      description: 'Deleting a removed session from the store (its sid retired).',
      entry: 'retireInStore',
      on: {
        DESTROYED: [
          { guard: 'requestEnding', target: 'destroyed' },
          { target: 'fresh', actions: 'startNewSession' },
        ],
        DESTROY_FAILED: [
          { guard: 'requestEnding', target: 'failed', actions: 'throwStoreError' },
          { target: 'removed', actions: 'throwStoreError' },
        ],
      },
    },
    unchanged: { type: 'final', entry: 'releaseLock', description: 'Nothing to write: no store call, no cookie.' },
    saved: { type: 'final', entry: 'releaseLock', description: 'Written to the store; the cookie was sent.' },
    touched: { type: 'final', entry: 'releaseLock', description: 'TTL refreshed; the cookie was re-sent.' },
    destroyed: { type: 'final', entry: 'releaseLock', description: 'Deleted from the store; the cookie was expired.' },
    superseded: {
      type: 'final',
      entry: 'releaseLock',
      description: 'Another request destroyed or replaced the entry first: nothing written, no cookie.',
    },
    unsaved: {
      type: 'final',
      entry: 'releaseLock',
      description:
        "A write failed and the request goes on without saving (`errorHandler` returned, or `storeOutage: 'degrade'`).",
    },
    failed: {
      type: 'final',
      entry: 'releaseLock',
      description:
        'A store call failed and so does the request: a 503 for an outage, `errorHandler` for anything else.',
    },
  },
});

export type SessionMachine = typeof sessionMachine;

/** What the client sent, as `LOAD` reports it. */
export type SidKind = Extract<SessionEvent, { type: 'LOAD' }>['sid'];

/** Effects nobody can tell ran: an empty session made in memory, a lock released that was not taken. */
const UNSEEN_EFFECTS: ReadonlySet<string> = new Set<SessionEffect>(['startNewSession', 'releaseLock']);

/**
 * Whether a request whose client sent `sid` starts on first use: it may leave its run of the
 * machine until the app first uses the session. Asked of the machine, once per `session(options)`, with a new run of its
 * input: loaded and ended with the session unused, does the run ask for any effect someone could
 * see (a store call, a cookie)? If not, a request that never uses its session can skip the run,
 * and costs no session at all. With a client sid, or `allowEmpty` (a new session is always saved),
 * it does. Issuing a sid is seen only when `appGeneratesSid`: the app's own `genSid` is its code
 * (it may be async, or count its calls), while the default generator's sid is seen by nobody
 * until a handler reads it.
 */
export function startsOnFirstUse(run: SessionRunner, sid: SidKind, appGeneratesSid: boolean): boolean {
  const effects = [...run.send({ type: 'LOAD', sid }), ...run.send({ type: 'COMMIT', changed: false, save: 'auto' })];
  return effects.every((effect) => UNSEEN_EFFECTS.has(effect) || (effect === 'issueSid' && !appGeneratesSid));
}

/** The session machine's state keys: a misspelt state does not compile. */
export type SessionState = StateValueFrom<SessionMachine>;
/** A run of the session machine (the compiled table or an XState actor, see session-runner.ts). */
export type SessionRunner = MachineRunner<SessionEvent, SessionState, SessionTag>;
