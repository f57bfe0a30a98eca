/**
 * Types of the context API, added to Koa's `Context` by declaration merging. The session's own
 * fields come from `SessionData`, which an app augments (see src/stores/types.ts).
 */
import type { BaseContext } from 'koa';
import type { StoreAdapter } from '../stores/adapter.js';
import type { SessionData } from '../stores/types.js';

/**
 * express-session's methods on the session object, for passport ≥ 0.6 (see session-methods.ts):
 * with a callback they call it, without one they return a Promise. Not enumerable, never stored.
 */
export interface SessionMethods {
  /** What `ctx.regenerateSession()` does; `ctx.session` is then the new session object. */
  regenerate(callback: (err?: unknown) => void): void;
  regenerate(): Promise<void>;
  /** What `ctx.saveSession()` does. */
  save(callback: (err?: unknown) => void): void;
  save(): Promise<void>;
}

/** A session as handlers see it: the app's declared fields, the cookie, and anything else set. */
export type Session = SessionData & Record<string, unknown> & SessionMethods;

/** `T` without its index signatures: its named members only. */
type NamedMembers<T> = { [K in keyof T as string extends K ? never : number extends K ? never : K]: T[K] };

/**
 * What another package declares `ctx.session` to be on Koa's `BaseContext`, its named members
 * only: @types/koa-session does (@types/koa-redis brings it in). Koa's `ExtendableContext` extends
 * `BaseContext`, so ours must be a subtype of it for the declarations to compile side by side with
 * `skipLibCheck: false`; without such a package, nothing. The app's own fields keep their types.
 */
type DeclaredElsewhere = BaseContext extends { session: infer Other } ? NamedMembers<NonNullable<Other>> : unknown;

declare module 'koa' {
  interface ExtendableContext {
    /**
     * The session: an object, or `null` after `ctx.session = null`. With `defer: true` reading it
     * gives a Promise of that: write `await ctx.session` (which type-checks either way).
     */
    session: (Session & DeclaredElsewhere) | null;
    /** The sid; an earlier middleware may set it to force one. */
    sessionId: string | undefined;
    /** `true` forces a save at the end of the request, `false` suppresses every write. */
    sessionSave: boolean | null;
    /** Destroys the stored session and starts a new one under a new sid; resolves to the new session. */
    regenerateSession(): Promise<Session | null>;
    /** Writes the session now (for example before a redirect). */
    saveSession(): Promise<void>;
    /** The store, with the key prefix applied: `get(sid)`, `set(sid, session)`, `destroy(sid)`. */
    sessionStore: StoreAdapter;
  }
}
