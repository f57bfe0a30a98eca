/** The sessions API's types: what `ctx.sessions` and `middleware.sessions` give and take. */
import type { Context } from 'koa';
import type { SessionData, StoredSession } from '../stores/types.js';

/** Who a session belongs to, as the `owner` option returns it. */
export type SessionOwner = string | number;

/**
 * The `owner` option. The session's own fields are typed loosely (`any`), so that
 * `(s) => s.passport?.user` type-checks without declaring passport's field in `SessionData`.
 */
export type OwnerOfSession = (session: SessionData & Record<string, any>) => SessionOwner | null | undefined;

/** One session of an owner, as `list()` gives it. */
export interface SessionInfo {
  /** Names the session in this API only: not its sid, and no use as a cookie. */
  handle: string;
  /** ms since the epoch when the session first had this owner. */
  createdAt: number;
  /** ms since the epoch of its last write, or of its last use (refreshed at most once a minute). */
  lastSeenAt: number;
  /** Whether it is the session of the request that asked (always `false` from `middleware.sessions`). */
  current: boolean;
  /** What the `describe` option returned at its last write. */
  [field: string]: unknown;
}

/** `ctx.sessions`: the sessions of the request's owner (none when the request's session has no owner). */
export interface RequestSessions {
  /** The owner's sessions, newest first; the request's own is `current`. */
  list(): Promise<SessionInfo[]>;
  /** Ends one of the owner's sessions (this request's too: `ctx.session` is then `null`); whether it was there. */
  revoke(handle: string): Promise<boolean>;
  /** Ends every session of the owner but this request's (after a password change); how many. */
  revokeOthers(): Promise<number>;
}

/** `middleware.sessions`: any owner's sessions, outside a request (an admin route, a job). */
export interface OwnerSessions {
  /** The owner's sessions, newest first. */
  list(owner: SessionOwner): Promise<SessionInfo[]>;
  /** Ends one session of the owner; whether it was there. */
  revoke(owner: SessionOwner, handle: string): Promise<boolean>;
  /** Ends every session of the owner; how many. */
  revokeAll(owner: SessionOwner): Promise<number>;
}

/**
 * What the owner index needs of the middleware's options. A narrow view, so that this folder
 * depends on the stores below it and never on the middleware above it.
 */
export interface OwnerIndexOptions {
  owner?: OwnerOfSession;
  describe?: (ctx: Context) => Record<string, unknown> | undefined;
  prefix: string;
  /** With `storeTimeout`, bounds how long a session write may land after its index entry. */
  reconnectTimeout: number;
  storeTimeout: number;
}

/** What `ctx.sessions` needs of the request's session (the middleware's RequestSession has it). */
export interface SessionOfRequest {
  /** The sid, once the session has one. */
  readonly sid: string | undefined;
  read(): StoredSession | null | undefined | Promise<StoredSession | null | undefined>;
  /** `null`: the session is gone (`ctx.session = null`). */
  write(value: null): void;
}
