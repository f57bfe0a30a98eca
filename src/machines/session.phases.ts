/**
 * The phases of a session's life, in the words other session libraries use for it (uninitialized,
 * loaded, saved, destroyed, regenerated…), and the phase each state of the session machine is in.
 * Nothing at run time reads this: it groups the machine's states for people, as the overview
 * diagram at the head of docs/lifecycle.md, which `npm run docs` draws from it and the machine.
 *
 * The phase is given per state, never per transition: a transition added between states that
 * already have a phase needs nothing here. `SESSION_PHASE_OF` is typed by the machine's state keys,
 * so a state added without a phase does not compile (and test/lifecycle/phases.test.ts compares
 * the table with the machine's definition at run time too).
 */
import type { SessionState } from './session.machine.js';

/** Each phase, in reading order, with what happens to the session in it. */
export const SESSION_PHASES = {
  uninitialized: 'nothing read yet',
  loading: 'the store is read',
  loaded: 'ctx.session in use',
  degraded: 'an empty session, never saved',
  removed: 'ctx.session = null, then deleted',
  regenerating: 'the old entry deleted, a new sid',
  saving: 'a changed (dirty) session written, or its TTL refreshed',
  saved: 'written, the cookie sent',
  unchanged: 'nothing written',
  destroyed: 'deleted, the cookie expired',
  failed: 'the request fails, or goes on unsaved',
} as const;

export type SessionPhase = keyof typeof SESSION_PHASES;

/** The phase of every state of the session machine. */
export const SESSION_PHASE_OF: Readonly<Record<SessionState, SessionPhase>> = {
  uninitialized: 'uninitialized',
  locking: 'loading',
  loading: 'loading',
  checkingTombstone: 'loading',
  // A session past `maxLifetime` is deleted on its way in: part of loading, which then starts a new one.
  expiring: 'loading',
  fresh: 'loaded',
  loaded: 'loaded',
  late: 'degraded',
  degraded: 'degraded',
  abandoned: 'removed',
  removed: 'removed',
  regenerating: 'regenerating',
  creating: 'saving',
  updating: 'saving',
  touching: 'saving',
  destroying: 'removed',
  saved: 'saved',
  touched: 'saved',
  destroyed: 'destroyed',
  unchanged: 'unchanged',
  // Another request deleted or replaced the entry first: nothing is written.
  superseded: 'unchanged',
  unsaved: 'failed',
  failed: 'failed',
};
