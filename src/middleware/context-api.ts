/**
 * The context API: `ctx.session`, `ctx.sessionId`, `ctx.sessionSave`, `ctx.regenerateSession()`,
 * `ctx.saveSession()`, `ctx.sessions`. They are accessors installed once on the app's context
 * prototype, so a request pays for one symbol property rather than six `defineProperty` calls.
 * Without a session on the request (another path, no middleware yet) they behave as
 * koa-generic-session's plain properties did: `ctx.session` is undefined and an assignment is kept
 * as it is (`ctx.sessions`, which it did not have, throws an error that says why).
 */
import type { Context } from 'koa';
import { requestSessions } from '../sessions/request-sessions.js';
import type { RequestSession } from './request-session.js';

export const SESSION = Symbol('koa-session-machine.session');
/**
 * A request that starts its session when it first uses it (with `defer`, or without a client sid;
 * see middleware.ts): until then this holds the function that starts it.
 */
export const START_ON_FIRST_USE = Symbol('koa-session-machine.start-on-first-use');
/** A sid set by an earlier middleware before this one ran (docs/lifecycle.md, Start). */
const FORCED_SID = Symbol('koa-session-machine.forced-sid');
const INSTALLED = Symbol('koa-session-machine.installed');

type WithSession = Context & {
  [SESSION]?: RequestSession;
  [START_ON_FIRST_USE]?: (ctx: Context) => RequestSession;
  [FORCED_SID]?: unknown;
};

/** The request's session, started now if it was waiting for its first use. */
export function requestSessionOf(ctx: WithSession): RequestSession | undefined {
  const s = ctx[SESSION];
  if (s !== undefined) return s;
  const start = ctx[START_ON_FIRST_USE];
  if (start === undefined) return undefined;
  ctx[START_ON_FIRST_USE] = undefined;
  return (ctx[SESSION] = start(ctx));
}

function shadow(target: object, name: string, value: unknown): void {
  Object.defineProperty(target, name, { value, writable: true, configurable: true, enumerable: true });
}

const api: PropertyDescriptorMap = {
  session: {
    configurable: true,
    get(this: WithSession) {
      return requestSessionOf(this)?.read();
    },
    set(this: WithSession, value: unknown) {
      const s = requestSessionOf(this);
      if (s) s.write(value);
      else shadow(this, 'session', value);
    },
  },
  sessionId: {
    configurable: true,
    get(this: WithSession) {
      const s = requestSessionOf(this);
      return s ? s.sessionId() : this[FORCED_SID];
    },
    set(this: WithSession, value: unknown) {
      const s = requestSessionOf(this);
      if (s === undefined) this[FORCED_SID] = value;
      else if (value === undefined || value === null || value === '') {
        // A session without a sid would be stored and sent under none (a key and a cookie that
        // read "undefined", shared by every request that did the same).
        throw new TypeError(
          'koa-session-machine: ctx.sessionId cannot be cleared during a request; ' +
            'ctx.regenerateSession() gives the session a new sid, ctx.session = null ends it',
        );
      } else s.setSid(String(value));
    },
  },
  sessionSave: {
    configurable: true,
    get(this: WithSession) {
      const s = requestSessionOf(this);
      if (!s) return undefined;
      return s.saveMode === 'auto' ? null : s.saveMode === 'force';
    },
    set(this: WithSession, value: unknown) {
      const s = requestSessionOf(this);
      if (s) s.setSaveMode(value === true ? 'force' : value === false ? 'skip' : 'auto');
      else shadow(this, 'sessionSave', value);
    },
  },
  regenerateSession: {
    configurable: true,
    get(this: WithSession) {
      const s = requestSessionOf(this);
      return s && (() => s.regenerate());
    },
  },
  saveSession: {
    configurable: true,
    get(this: WithSession) {
      const s = requestSessionOf(this);
      return s && (() => s.saveNow());
    },
  },
  // The sessions of the request's owner (the `owner` option): ../sessions/request-sessions.ts.
  sessions: {
    configurable: true,
    get(this: WithSession) {
      const s = requestSessionOf(this);
      return requestSessions(s, s?.runtime.index);
    },
  },
};

/** Installs the accessors on an app's context prototype, once. */
export function installContextApi(proto: object): void {
  if ((proto as Record<symbol, unknown>)[INSTALLED]) return;
  Object.defineProperties(proto, api);
  (proto as Record<symbol, unknown>)[INSTALLED] = true;
}

/** A sid an earlier middleware forced with `ctx.sessionId = ...`, taken once. */
export function takeForcedSid(ctx: WithSession): string | undefined {
  let forced = ctx[FORCED_SID];
  if (Object.hasOwn(ctx, 'sessionId')) {
    // Set before the accessors were installed: a plain property, which would hide them.
    forced = (ctx as unknown as { sessionId: unknown }).sessionId;
    delete (ctx as unknown as { sessionId?: unknown }).sessionId;
  }
  // Cleared only when set: most requests never get this property at all.
  if (forced !== undefined) ctx[FORCED_SID] = undefined;
  return typeof forced === 'string' && forced !== '' ? forced : undefined;
}
