/**
 * The words the diagrams use. Machines name their guards, actions, events, delays and tags for
 * programmers (`loadedSessionNeedsSave`, `updateInStore`); a user reading the docs needs what they
 * mean ("changed or sessionSave = true", "write if still stored"). Every name a machine uses must
 * have a phrase here: a name without one stops `npm run docs` (and the docs test) with a message
 * saying which, so that a new guard or effect can never reach the diagrams unexplained.
 */

import { CONNECTION_EVENT_KINDS, type ConnectionEvent } from '../../src/machines/connection.machine.js';
import { SESSION_EVENT_KINDS, type SessionEvent, type SessionEventKind } from '../../src/machines/session.machine.js';

/** How an edge's trigger is grouped (and coloured in the SVG): who causes an event, or a timer, or nothing. */
export type TriggerKind = SessionEventKind | 'timer' | 'automatic';

export interface EventPhrase {
  /** What the edge says. */
  text: string;
  /** Who causes it (from the machine's module). */
  kind: TriggerKind;
  /** What sends it, for the event tables of the docs. */
  meaning: string;
}

type EventType = SessionEvent['type'] | ConnectionEvent['type'];

/** Who causes each event, as the machines classify them. */
const EVENT_KINDS: Readonly<Record<EventType, TriggerKind>> = { ...SESSION_EVENT_KINDS, ...CONNECTION_EVENT_KINDS };

const EVENT_WORDS: Readonly<Record<EventType, Omit<EventPhrase, 'kind'>>> = {
  // The session lifecycle of one request.
  LOAD: { text: 'load', meaning: 'the request starts using its session (with `defer`, its first read)' },
  LOCKED: { text: 'lock held', meaning: "the session's lock was acquired (`concurrency: 'serialize'`)" },
  LOADED: { text: 'store answered', meaning: 'the store read ended' },
  TOMBSTONE: {
    text: 'tombstone read',
    meaning: "the read of the sid's tombstone ended (left by a login or logout less than `tombstoneTtl` ago)",
  },
  TOMBSTONE_FAILED: {
    text: 'tombstone read failed',
    meaning: 'the read of the tombstone threw, rejected or timed out',
  },
  LOAD_FAILED: {
    text: 'read failed',
    meaning: 'the store read threw or rejected, and `errorHandler` saw the error (`swallowed`: it returned)',
  },
  STORE_UNAVAILABLE: {
    text: 'store unavailable',
    meaning: 'the store is down or did not answer within `storeTimeout`',
  },
  REMOVE: { text: 'ctx.session = null', meaning: 'the handler removed the session' },
  REPLACE: { text: 'ctx.session = {…}', meaning: 'the handler set a new session object' },
  REGENERATE: { text: 'regenerateSession()', meaning: '`await ctx.regenerateSession()`' },
  SAVE_NOW: { text: 'saveSession()', meaning: '`await ctx.saveSession()`' },
  COMMIT: { text: 'end of request', meaning: 'the handlers returned or threw' },
  WRITTEN: { text: 'written', meaning: 'the store write ended' },
  WRITE_FAILED: {
    text: 'write failed',
    meaning:
      'the store write timed out or found the store away (`outage`), or threw or rejected and `errorHandler` saw the error (`swallowed`: it returned)',
  },
  TOUCHED: { text: 'TTL refreshed', meaning: 'the TTL refresh ended' },
  TOUCH_FAILED: {
    text: 'refresh failed',
    meaning: 'the TTL refresh failed, as a write does (`outage`, `swallowed`)',
  },
  DESTROYED: { text: 'deleted', meaning: 'the store delete ended' },
  DESTROY_FAILED: { text: 'delete failed', meaning: 'the store delete threw, rejected or timed out' },
  // The store connection lifecycle.
  CONNECT: { text: 'store connects', meaning: 'the store emitted `connect`' },
  DISCONNECT: { text: 'store disconnects', meaning: 'the store emitted `disconnect`' },
  CLOSE: {
    text: 'store closed',
    meaning: 'the store emitted `close` and its `closed` property is true (`await store.close()`)',
  },
};

export const EVENTS: Readonly<Record<string, EventPhrase>> = Object.fromEntries(
  Object.entries(EVENT_WORDS).map(([type, words]) => [type, { ...words, kind: EVENT_KINDS[type as EventType] }]),
);

/** Guards, as the condition under which the edge is taken. */
export const GUARDS: Readonly<Record<string, string>> = {
  serializeRequests: "concurrency: 'serialize'",
  clientSentSid: 'the client sent a signed sid',
  clientSentForgedSid: 'bad signature or not a sid',
  sessionUsable: 'found, and valid() accepts it',
  sessionOutlivedLifetime: 'older than maxLifetime',
  sidWasRetired: 'retired by a login or logout',
  lateChangeDropped: 'changed or sessionSave = true',
  failureIsFatal: "errorHandler rethrew, or the store was away with storeOutage: 'fail'",
  storeWasAway: 'the store was away or too slow',
  outagePolicyDegrades: "storeOutage: 'degrade'",
  newSessionNeedsSave: 'changed, sessionSave = true or allowEmpty',
  loadedSessionNeedsSave: 'changed, sessionSave = true, or a lifetime begun now',
  rollingNeedsTouch: 'rolling',
  saveNotSkipped: 'sessionSave is not false',
  requestEnding: 'at the end of the request',
  entryGoneBeforeWrite: 'the entry was gone',
  startsConnected: 'the store was ready',
};

/**
 * Actions, as the effect they have. `null` hides an action that is bookkeeping of the machine
 * rather than something a user could observe.
 */
export const ACTIONS: Readonly<Record<string, string | null>> = {
  acquireLock: 'lock the session',
  releaseLock: 'release the lock, if held',
  readStore: 'read the store',
  createInStore: 'write the new session',
  updateInStore: 'write if still stored',
  touchInStore: 'refresh the TTL',
  destroyInStore: 'delete the entry',
  retireInStore: 'delete the entry, leave a tombstone',
  readTombstone: 'read the tombstone',
  sendCookie: 'send the cookie',
  resetCookie: 'expire the cookie',
  startNewSession: 'new sid, empty session',
  issueSid: 'issue the sid',
  reportLifetimeEnded: "onEvent 'expired'",
  reportLateChangeDropped: "onEvent 'late' (not saved)",
  reportDegraded: "onEvent 'degraded'",
  throwStoreError: 'throw the error',
  // Records that the request has ended; every COMMIT edge carries it, "end of request" says it.
  markEnding: null,
  // Keep whether a loaded session's lifetime is stored yet; the guard on the commit says what it decides.
  noteLifetime: null,
  markLifetimeStored: null,
};

/** Delays of `after` transitions, named in the options. */
export const DELAYS: Readonly<Record<string, string>> = {
  reconnectTimeout: 'after reconnectTimeout',
};

/** State tags, as what a request does while the machine is in the state. */
export const TAGS: Readonly<Record<string, string>> = {
  live: 'ctx.session usable',
  unstarted: 'session not started yet',
  serving: 'requests go ahead',
  waiting: 'requests wait',
  refusing: 'requests get a 503 or degrade',
};

function lookup<T>(table: Readonly<Record<string, T>>, kind: string, name: string): T {
  if (!Object.hasOwn(table, name)) {
    throw new Error(
      `scripts/diagrams/labels.ts has no phrase for the ${kind} "${name}": add one so the diagrams can explain it`,
    );
  }
  return table[name]!;
}

export const eventPhrase = (type: string): EventPhrase => lookup(EVENTS, 'event', type);
export const guardPhrase = (name: string): string => lookup(GUARDS, 'guard', name);
export const actionPhrase = (name: string): string | null => lookup(ACTIONS, 'action', name);
export const delayPhrase = (name: string): string => lookup(DELAYS, 'delay', name);
export const tagPhrase = (name: string): string => lookup(TAGS, 'tag', name);
