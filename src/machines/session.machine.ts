/**
 * The lifecycle of one request's session. Every decision about when to read the store, write it,
 * refresh its TTL, destroy an entry or touch the cookie lives here, as a guarded transition with
 * a named effect. The middleware only performs the effects and reports their results as events.
 *
 * Effects (the actions below) are names, not code: the middleware maps each name to a store call
 * or a cookie operation. That keeps this file free of Koa and of stores, lets the same definition
 * draw the diagrams in docs/, and lets `compile.ts` turn it into a table for the hot path.
 */
import { assign, setup, type StateValueFrom } from 'xstate';
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
   * `expired` is true for a usable session older than `maxLifetime`.
   */
  | { type: 'LOADED'; usable: boolean; expired: boolean }
  /**
   * Whether the sid the store did not know was retired by a request that regenerated or destroyed
   * its session moments ago (a tombstone), so that this request was already on its way then.
   */
  | { type: 'TOMBSTONE'; found: boolean }
  /** The store read failed; `fatal` is false when the app's `errorHandler` swallowed the error. */
  | { type: 'LOAD_FAILED'; fatal: boolean }
  /**
   * The store is unavailable, did not answer in time, or the session's lock could not be had in
   * time; `degrade` is the outage policy's answer (true: an unsaved session).
   */
  | { type: 'STORE_UNAVAILABLE'; degrade: boolean }
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
   * A store write failed; `fatal` is true when the request fails with it (the app's `errorHandler`
   * rethrew, or the store is away and the outage policy is `'fail'`), false when the request goes
   * on without saving (`errorHandler` returned, or `storeOutage: 'degrade'`).
   */
  | { type: 'WRITE_FAILED'; fatal: boolean }
  /** A TTL refresh ended; `stored` is false when the entry was gone. */
  | { type: 'TOUCHED'; stored: boolean }
  /** A TTL refresh failed; `fatal` as for WRITE_FAILED. */
  | { type: 'TOUCH_FAILED'; fatal: boolean }
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
 * or not there yet.
 */
export type SessionTag = 'live';

export interface SessionMachineInput {
  /** `rolling`: refresh the TTL and re-send the cookie whenever an existing session is loaded. */
  rolling: boolean;
  /** `allowEmpty`: save a new session even when nothing was set. */
  allowEmpty: boolean;
  /** `concurrency: 'serialize'`: the requests of one session run one after another, under a lock. */
  serialize: boolean;
  /**
   * The app gave its own `genSid`, which may be async: a new session's sid is then issued as the
   * session starts, before the handlers, as koa-generic-session did, so that `ctx.sessionId` is
   * known in them. The default generator's sid is issued when first needed.
   */
  ownGenSid: boolean;
}

export interface SessionMachineContext extends SessionMachineInput {
  /** True once the request has ended: results of store calls then lead to a final state. */
  ending: boolean;
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
 * The transitions that start a new session as a request loads its own: with the app's own
 * `genSid` the new session's sid is issued at once, before the handlers (`issueSid`).
 */
const startNewSessionOnLoad = (actions: readonly ('resetCookie' | 'startNewSession')[]) =>
  [
    { guard: 'appGeneratesSid', target: 'fresh', actions: [...actions, 'issueSid'] },
    { target: 'fresh', actions: [...actions] },
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
    /** With `concurrency: 'serialize'`, an existing session is locked before it is read, so that no update is lost. */
    sessionMustBeLocked: ({ context, event }) => context.serialize && event.type === 'LOAD' && event.sid === 'present',
    clientSentForgedSid: ({ event }) => event.type === 'LOAD' && event.sid === 'forged',
    /** A forged sid, and the app's own `genSid`: the new session's sid is issued at once. */
    clientSentForgedSidAppGeneratesSid: ({ context, event }) =>
      context.ownGenSid && event.type === 'LOAD' && event.sid === 'forged',
    sessionUsable: ({ event }) => event.type === 'LOADED' && event.usable,
    /** `maxLifetime`: a session created longer ago than that is gone, however active it was. */
    sessionOutlivedLifetime: ({ event }) => event.type === 'LOADED' && event.usable && event.expired,
    /** The sid was retired moments ago by a request that regenerated or destroyed its session. */
    sidWasRetired: ({ event }) => event.type === 'TOMBSTONE' && event.found,
    /** A late request's handler changed its empty session, or forced a save: that is dropped. */
    lateChangeDropped: changedOrForced,
    /** The app's own `genSid` (see SessionMachineInput) issues a new session's sid as the session starts. */
    appGeneratesSid: ({ context }) => context.ownGenSid,
    errorIsFatal: ({ event }) => event.type === 'LOAD_FAILED' && event.fatal,
    outagePolicyDegrades: ({ event }) => event.type === 'STORE_UNAVAILABLE' && event.degrade,
    /** A new session is stored when forced, when it changed, or with `allowEmpty`. */
    newSessionNeedsSave: ({ context, event }) => {
      const { changed, save } = commitGuardsFor(event);
      return save !== 'skip' && (save === 'force' || changed || context.allowEmpty);
    },
    /** A loaded session is rewritten only when it changed or the save is forced (see "End of the request" in docs/lifecycle.md). */
    loadedSessionNeedsSave: changedOrForced,
    /** `rolling` refreshes the TTL of an unchanged session, without rewriting it (`touch`). */
    rollingNeedsTouch: ({ context, event }) => commitGuardsFor(event).save !== 'skip' && context.rolling,
    /** `ctx.sessionSave = false` suppresses every write, the destroy of a removed session too. */
    saveNotSkipped: ({ event }) => commitGuardsFor(event).save !== 'skip',
    requestEnding: ({ context }) => context.ending,
    /** A failed write at the end of the request that fails the request (see WRITE_FAILED). */
    failureFailsRequest: ({ context, event }) =>
      context.ending && (event.type === 'WRITE_FAILED' || event.type === 'TOUCH_FAILED') && event.fatal,
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
    markEnding: assign({ ending: () => true }),
  },
}).createMachine({
  id: 'session',
  initial: 'uninitialized',
  context: ({ input }) => ({ ...input, ending: false }),
  states: {
    uninitialized: {
      description: 'Nothing read yet (with `defer`, until the session is first used).',
      on: {
        LOAD: [
          { guard: 'sessionMustBeLocked', target: 'locking', actions: 'acquireLock' },
          { guard: 'clientSentSid', target: 'loading', actions: 'readStore' },
          {
            guard: 'clientSentForgedSidAppGeneratesSid',
            target: 'fresh',
            actions: ['resetCookie', 'startNewSession', 'issueSid'],
          },
          { guard: 'clientSentForgedSid', target: 'fresh', actions: ['resetCookie', 'startNewSession'] },
          ...startNewSessionOnLoad(['startNewSession']),
        ],
        COMMIT: { target: 'unchanged', actions: 'markEnding' },
      },
    },
    locking: {
      description: "Waiting for the lock of the session (`concurrency: 'serialize'`), bounded by `lockTimeout`.",
      on: {
        LOCKED: { target: 'loading', actions: 'readStore' },
        STORE_UNAVAILABLE: [{ guard: 'outagePolicyDegrades', target: 'degraded' }, { target: 'failed' }],
      },
    },
    loading: {
      description: 'Reading the session of the client sid from the store.',
      on: {
        LOADED: [
          { guard: 'sessionOutlivedLifetime', target: 'expiring', actions: 'reportLifetimeEnded' },
          { guard: 'sessionUsable', target: 'loaded' },
          // A sid the store does not know, or whose session is refused, is never adopted: a client
          // cannot choose its sid (session fixation), so a new session gets a new sid, unless the
          // sid was retired moments ago (see checkingTombstone).
          { target: 'checkingTombstone' },
        ],
        LOAD_FAILED: [{ guard: 'errorIsFatal', target: 'failed' }, ...startNewSessionOnLoad(['startNewSession'])],
        STORE_UNAVAILABLE: [{ guard: 'outagePolicyDegrades', target: 'degraded' }, { target: 'failed' }],
      },
    },
    checkingTombstone: {
      description: 'The store does not know the sid: was it retired moments ago by a login or logout?',
      entry: 'readTombstone',
      on: {
        TOMBSTONE: [
          { guard: 'sidWasRetired', target: 'late' },
          ...startNewSessionOnLoad(['resetCookie', 'startNewSession']),
        ],
      },
    },
    late: {
      tags: 'live',
      description:
        'A request that left with a sid a login or logout has since retired: an empty session, never saved, and no cookie, so that it cannot undo the new cookie.',
      on: {
        // A login in the late request gets a new session of its own, saved as usual.
        REGENERATE: { target: 'fresh', actions: ['startNewSession', 'issueSid'] },
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
        DESTROYED: startNewSessionOnLoad(['resetCookie', 'startNewSession']),
        DESTROY_FAILED: { target: 'failed' },
      },
    },
    fresh: {
      tags: 'live',
      description: 'A new session that the store does not hold yet.',
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
        REGENERATE: { target: 'fresh', actions: ['startNewSession', 'issueSid'] },
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
        DESTROYED: { target: 'fresh', actions: ['resetCookie', 'startNewSession', 'issueSid'] },
        DESTROY_FAILED: { target: 'loaded' },
      },
    },
    creating: {
      description: 'Writing a new session under its sid.',
      entry: 'createInStore',
      on: {
        WRITTEN: [
          { guard: 'requestEnding', target: 'saved', actions: 'sendCookie' },
          { target: 'loaded', actions: 'sendCookie' },
        ],
        WRITE_FAILED: [
          { guard: 'failureFailsRequest', target: 'failed' },
          { guard: 'requestEnding', target: 'unsaved' },
          { target: 'fresh' },
        ],
      },
    },
    updating: {
      description: 'Rewriting a loaded session, only if its entry still exists (a logout meanwhile is not undone).',
      entry: 'updateInStore',
      on: {
        WRITTEN: [
          { guard: 'entryGoneBeforeWrite', target: 'superseded' },
          { guard: 'requestEnding', target: 'saved', actions: 'sendCookie' },
          { target: 'loaded', actions: 'sendCookie' },
        ],
        WRITE_FAILED: [
          { guard: 'failureFailsRequest', target: 'failed' },
          { guard: 'requestEnding', target: 'unsaved' },
          { target: 'loaded' },
        ],
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
        TOUCH_FAILED: [{ guard: 'failureFailsRequest', target: 'failed' }, { target: 'unsaved' }],
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
        DESTROY_FAILED: [{ guard: 'requestEnding', target: 'failed' }, { target: 'removed' }],
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
 * Whether a request whose client sent `sid` may leave its run of the machine until the app first
 * uses the session. Asked of the machine, once per `session(options)`, with a new run of its
 * input: loaded and ended with the session unused, does the run ask for any effect someone could
 * see (a store call, a cookie, a sid)? If not, a request that never uses its session can skip the
 * run, and costs no session at all. With a client sid, `allowEmpty` (a new session is always
 * saved) or the app's own `genSid` (its sid comes before the handlers), it does.
 */
export function quietUntilUsed(run: SessionRunner, sid: SidKind): boolean {
  const effects = [...run.send({ type: 'LOAD', sid }), ...run.send({ type: 'COMMIT', changed: false, save: 'auto' })];
  return effects.every((effect) => UNSEEN_EFFECTS.has(effect));
}

/** The session machine's state keys: a misspelt state does not compile. */
export type SessionState = StateValueFrom<SessionMachine>;
/** A run of the session machine (the compiled table or an XState actor, see session-runner.ts). */
export type SessionRunner = MachineRunner<SessionEvent, SessionState, SessionTag>;
