/**
 * The words the diagrams use. Machines name their guards, actions, events, delays and tags for
 * programmers (`loadedSessionNeedsSave`, `updateInStore`); a user reading the docs needs what they
 * mean ("changed or sessionSave = true", "write if still stored"). Every name a machine uses must
 * have a phrase here: a name without one stops `npm run docs` (and the docs test) with a message
 * saying which, so that a new guard or effect can never reach the diagrams unexplained.
 */

/** How an edge's trigger is grouped (and coloured in the SVG). */
export type TriggerKind = 'request' | 'app' | 'result' | 'failure' | 'timer' | 'automatic';

export interface EventPhrase {
  /** What the edge says. */
  text: string;
  kind: TriggerKind;
  /** What sends it, for the event tables of the docs. */
  meaning: string;
}

export const EVENTS: Readonly<Record<string, EventPhrase>> = {
  // The session lifecycle of one request.
  LOAD: { text: 'load', kind: 'request', meaning: 'the request starts using its session (with `defer`, its first read)' },
  LOCKED: { text: 'lock held', kind: 'result', meaning: "the session's lock was acquired (`concurrency: 'serialize'`)" },
  LOADED: { text: 'store answered', kind: 'result', meaning: 'the store read ended' },
  LOAD_FAILED: { text: 'read failed', kind: 'failure', meaning: 'the store read threw or rejected' },
  STORE_UNAVAILABLE: {
    text: 'store unavailable',
    kind: 'failure',
    meaning: 'the store is down or did not answer within `storeTimeout`',
  },
  REMOVE: { text: 'ctx.session = null', kind: 'app', meaning: 'the handler removed the session' },
  REPLACE: { text: 'ctx.session = {…}', kind: 'app', meaning: 'the handler set a new session object' },
  REGENERATE: { text: 'regenerateSession()', kind: 'app', meaning: '`await ctx.regenerateSession()`' },
  SAVE_NOW: { text: 'saveSession()', kind: 'app', meaning: '`await ctx.saveSession()`' },
  COMMIT: { text: 'end of request', kind: 'request', meaning: 'the handlers returned or threw' },
  WRITTEN: { text: 'written', kind: 'result', meaning: 'the store write ended' },
  WRITE_FAILED: { text: 'write failed', kind: 'failure', meaning: 'the store write threw, rejected or timed out' },
  TOUCHED: { text: 'TTL refreshed', kind: 'result', meaning: 'the TTL refresh ended' },
  TOUCH_FAILED: { text: 'refresh failed', kind: 'failure', meaning: 'the TTL refresh threw, rejected or timed out' },
  DESTROYED: { text: 'deleted', kind: 'result', meaning: 'the store delete ended' },
  DESTROY_FAILED: { text: 'delete failed', kind: 'failure', meaning: 'the store delete threw, rejected or timed out' },
  // The store connection lifecycle.
  CONNECT: { text: 'store connects', kind: 'result', meaning: 'the store emitted `connect`' },
  DISCONNECT: { text: 'store disconnects', kind: 'failure', meaning: 'the store emitted `disconnect`' },
  CLOSE: {
    text: 'store closed',
    kind: 'app',
    meaning: 'the store emitted `close` and its `closed` property is true (`await store.close()`)',
  },
};

/** Guards, as the condition under which the edge is taken. */
export const GUARDS: Readonly<Record<string, string>> = {
  sessionMustBeLocked: "a sid came, concurrency: 'serialize'",
  clientSentSid: 'the client sent a signed sid',
  clientSentForgedSid: 'bad signature or not a sid',
  sessionUsable: 'found, and valid() accepts it',
  errorIsFatal: 'errorHandler rethrew',
  outagePolicyDegrades: "storeOutage: 'degrade'",
  newSessionNeedsSave: 'changed, sessionSave = true or allowEmpty',
  loadedSessionNeedsSave: 'changed or sessionSave = true',
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
  sendCookie: 'send the cookie',
  resetCookie: 'expire the cookie',
  startNewSession: 'new sid, empty session',
  // Records that the request has ended; every COMMIT edge carries it, "end of request" says it.
  markEnding: null,
};

/** Delays of `after` transitions, named in the options. */
export const DELAYS: Readonly<Record<string, string>> = {
  reconnectTimeout: 'after reconnectTimeout',
};

/** State tags, as what a request does while the machine is in the state. */
export const TAGS: Readonly<Record<string, string>> = {
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
