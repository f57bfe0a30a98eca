/**
 * How the kit makes each event of the session machine happen over HTTP, the way XState's test
 * models map an event to the `exec` that causes it. Who causes an event is the machine's own
 * `SESSION_EVENT_KINDS`: the kit sends the `request` and `app` events (the cookie the request
 * carries, what the handler does to its session), and for a `result` or `failure` event it
 * arranges, before the store call the event answers, how the store will answer (store-faults.ts).
 *
 * - `LOAD absent | present | forged`: no cookie, a valid cookie (from an earlier request that
 *   saved a session), a cookie whose signature is wrong. A path without `LOAD` runs with `defer`.
 * - `LOCKED`: the session's lock is free (`concurrency: 'serialize'`). `STORE_UNAVAILABLE` while
 *   locking: the kit holds the lock, `lockTimeout` is short. While loading: `get` never answers,
 *   `storeTimeout` is short. What follows is the path's outage policy (`storeOutage`).
 * - `LOADED usable`: the cookie's entry is in the store; not usable: it was destroyed first (how,
 *   the `TOMBSTONE` that follows a miss says). `expired`: the app has a `maxLifetime`, and the kit
 *   rewrote the stored session with a `cookie.createdAt` longer ago than that. `lifetimeUnstamped`:
 *   the app has a `maxLifetime`, and the session, saved by an app without one, says nowhere when it
 *   began.
 * - `TOMBSTONE found`: the session was destroyed by an earlier request of the same browser
 *   (`ctx.session = null`, which retires its sid); not found: the kit destroyed the entry through
 *   the store, as an expiry or a lost entry would.
 * - `TOMBSTONE_FAILED`: the read of the tombstone throws.
 * - `LOAD_FAILED`: `get` throws; the app's `errorHandler` rethrows it, or returns (`swallowed`).
 * - `REMOVE`, `REPLACE`, `REGENERATE`, `SAVE_NOW`: the handler sets `ctx.session = null`,
 *   `ctx.session = { … }`, awaits `ctx.regenerateSession()` or `ctx.saveSession()`; `COMMIT` is the
 *   end of the handler. `changed` is whether the handler modified the session (or restored it as it
 *   was), `save` is `ctx.sessionSave` (`true`, `false` or unset).
 * - `WRITTEN` / `TOUCHED` not stored: the handler destroys the entry through the store right before
 *   (another request's logout). `WRITE_FAILED`, `TOUCH_FAILED`, `DESTROY_FAILED`: that one store
 *   call throws (for a store without `update` / `touch`, the `set` after the read), and the app's
 *   `errorHandler` rethrows it or returns (`swallowed`); an `outage` write or refresh never
 *   answers instead, and `storeTimeout` is short.
 */
import type { SessionOptions } from '../index.js';
import {
  SESSION_EVENT_KINDS,
  type SaveMode,
  type SessionEvent,
  type SessionState,
} from '../machines/session.machine.js';
import type { UserData } from './expected-outcome.js';
import { LIVE_STATES, type LifecycleStep } from './session-paths.js';
import { MAX_LIFETIME, SHORT_TIMEOUT, type StoreFaults } from './store-faults.js';

type EventOf<T extends SessionEvent['type']> = Extract<SessionEvent, { type: T }>;

/**
 * Whether the kit sends the event (the client's request, the handler's call); the others are a
 * store call's result or failure, which the kit arranges before the call.
 */
export function kitSends(event: SessionEvent): boolean {
  const kind = SESSION_EVENT_KINDS[event.type];
  return kind === 'request' || kind === 'app';
}

/** The cookie the client sends with the request (none for `LOAD absent`), and the stored sid in it. */
export interface ClientCookie {
  cookie?: string;
  sid?: string;
}

/** Where the store's answer to a call is arranged. */
export interface Answering {
  store: StoreFaults;
  /** The step whose store call the event answers. */
  previous: LifecycleStep;
  /** The sid of the session the call is about. */
  sid: string | undefined;
}

/** What the kit does to make one type of event happen; each part only where the event needs it. */
export interface EventAction<E extends SessionEvent> {
  /** The session options the app needs for the event to happen (`from`: the state it happens in). */
  options?(event: E, from: SessionState): Partial<SessionOptions>;
  /** `LOAD`: the cookie the client sends. */
  cookie?(event: E, store: StoreFaults): Promise<ClientCookie>;
  /** `SAVE_NOW`, `COMMIT`: how the handler leaves its session before the middleware acts on it. */
  leave?(event: E, handler: HandlerSession, from: SessionState): void;
  /** `app` events: what the handler calls (`COMMIT` has none: it is the handler returning). */
  call?(event: E, handler: HandlerSession): unknown;
  /** `result` and `failure` events: how the store is made to answer. */
  answer?(event: E, at: Answering): void | Promise<void>;
}

/** The handler's session as the kit changes it, and the session as the store last had it. */
export class HandlerSession {
  private counter = 0;
  private base: string | undefined;

  constructor(readonly ctx: Record<string, any>) {}

  /** The session as the store has it now: a later step with `changed: false` leaves it so. */
  remember(): void {
    this.base = JSON.stringify(this.ctx.session);
  }

  change(): void {
    (this.ctx.session as UserData).step = ++this.counter;
  }

  /** Undoes what the handler changed since `remember()`, if anything. */
  restore(): void {
    const session = this.ctx.session as UserData;
    if (JSON.stringify(session) === this.base) return;
    for (const k of Object.keys(session)) delete session[k];
    Object.assign(session, JSON.parse(this.base!) as UserData);
  }

  replace(): void {
    this.ctx.session = { replaced: ++this.counter };
  }
}

/** `ctx.sessionSave` for each `save` of SAVE_NOW and COMMIT. */
const SESSION_SAVE: Readonly<Record<SaveMode, boolean | null>> = { auto: null, force: true, skip: false };

function leave(event: { changed: boolean; save: SaveMode }, handler: HandlerSession, from: SessionState): void {
  handler.ctx.sessionSave = SESSION_SAVE[event.save];
  if (!LIVE_STATES.has(from)) return;
  if (event.changed) handler.change();
  else handler.restore();
}

function failCall(event: SessionEvent, at: Answering): void {
  at.store.failCallOf(at.previous, event.type);
}

/** A write or refresh that meets an outage never answers; one that fails otherwise throws. */
function failWrite(event: { outage: boolean }, at: Answering): void {
  if (event.outage) at.store.hangCallOf(at.previous);
  else at.store.failCallOf(at.previous, 'WRITE_FAILED');
}

/** A rewrite finds its entry gone: another request's logout destroyed it right before. */
async function goneBeforeRewrite(event: { stored: boolean }, at: Answering): Promise<void> {
  if (!event.stored) await at.store.destroyEntry(at.sid!);
}

/** The event → action table (see the file comment). */
const EVENT_ACTIONS: { readonly [T in SessionEvent['type']]: EventAction<EventOf<T>> } = {
  LOAD: {
    options: () => ({ defer: false }),
    cookie: async ({ sid }, store) =>
      sid === 'present' ? store.seedSession() : sid === 'forged' ? store.forgeCookie() : {},
  },
  COMMIT: { leave },
  REMOVE: {
    call: (_, handler) => {
      handler.ctx.session = null;
    },
  },
  REPLACE: { call: (_, handler) => handler.replace() },
  REGENERATE: { call: (_, handler) => handler.ctx.regenerateSession() },
  SAVE_NOW: { leave, call: (_, handler) => handler.ctx.saveSession() },
  // Nothing to arrange: the lock is free, the destroy goes through.
  LOCKED: {},
  DESTROYED: {},
  LOADED: {
    options: ({ expired, lifetimeUnstamped }) => (expired || lifetimeUnstamped ? { maxLifetime: MAX_LIFETIME } : {}),
    answer: async ({ expired }, at) => {
      if (expired) await at.store.ageSeededSession();
    },
  },
  TOMBSTONE: {
    answer: async ({ found }, at) => {
      if (found) await at.store.logOutOfSeededSession();
      else await at.store.destroyEntry(at.sid!);
      await at.store.assertGone(at.sid!);
    },
  },
  WRITTEN: { answer: goneBeforeRewrite },
  TOUCHED: { answer: goneBeforeRewrite },
  STORE_UNAVAILABLE: {
    options: (_, from) => (from === 'locking' ? { lockTimeout: SHORT_TIMEOUT } : { storeTimeout: SHORT_TIMEOUT }),
    answer: (_, at) =>
      at.previous.state === 'locking' ? at.store.holdLock(at.sid!) : at.store.hangCallOf(at.previous),
  },
  LOAD_FAILED: { answer: failCall },
  TOMBSTONE_FAILED: { answer: (_, at) => at.store.failTombstoneRead(at.sid!) },
  WRITE_FAILED: {
    options: ({ outage }) => (outage ? { storeTimeout: SHORT_TIMEOUT } : {}),
    answer: failWrite,
  },
  TOUCH_FAILED: {
    options: ({ outage }) => (outage ? { storeTimeout: SHORT_TIMEOUT } : {}),
    answer: failWrite,
  },
  DESTROY_FAILED: { answer: failCall },
};

/** The table's entry for `event`, typed for it. */
export function actionFor<E extends SessionEvent>(event: E): EventAction<E> {
  return EVENT_ACTIONS[event.type] as unknown as EventAction<E>;
}

/** The state a path is in before its step `i`. */
export function stateBefore(steps: readonly LifecycleStep[], i: number): SessionState {
  return i === 0 ? 'uninitialized' : steps[i - 1]!.state;
}

/** The session options that make the path's events happen: each event's, over the kit's defaults. */
export function eventOptions(steps: readonly LifecycleStep[]): Partial<SessionOptions> {
  // Without a LOAD the session starts when the handler first uses it.
  const defaults: Partial<SessionOptions> = { defer: true };
  return Object.assign(defaults, ...steps.map((s, i) => actionFor(s.event).options?.(s.event, stateBefore(steps, i))));
}

/** Arranges how the store answers the calls of a group: each event after the one the kit sends. */
export async function arrangeAnswers(group: readonly LifecycleStep[], store: StoreFaults, sid: string | undefined) {
  for (let i = 1; i < group.length; i++) {
    const step = group[i]!;
    await actionFor(step.event).answer?.(step.event, { store, previous: group[i - 1]!, sid });
  }
}
