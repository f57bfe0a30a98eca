/**
 * What the session machine's effects (session-effects.ts) may see and change of one request's
 * session: the request, its sid and data, and the few steps that record a store call's answer. The
 * request's session (request-session.ts) implements it; the effects know nothing else of it.
 */
import type { Context } from 'koa';
import type { SessionLock, StoredSession } from '../stores/types.js';
import type { SidReading } from './sid-carrier.js';

/** A session as a write stores it, and its JSON. */
export interface PreparedWrite {
  readonly session: StoredSession;
  readonly json: string;
}

/** A merged write: also whether the newer entry already holds it (see merge-changes.ts). */
export interface MergedWrite extends PreparedWrite {
  readonly alreadyStored: boolean;
}

export interface EffectTarget {
  readonly ctx: Context;
  /** What the request's cookie (or `sessionIdStore`) said. */
  readonly reading: SidReading;
  /** The sid, once there is one. */
  readonly sid: string | undefined;
  /** The session; `undefined` on a new session until first read, `null` once removed. */
  readonly data: StoredSession | null | undefined;
  /**
   * On a store with `compareAndSet`: the version of the entry this request read or last wrote,
   * which its next write expects to find (`null`: a new session, no entry); `undefined` otherwise.
   */
  readonly version: string | null | undefined;

  /** The sid, generated now if there is none; `undefined` only while an async `genSid` is running. */
  sidNow(): string | undefined;
  /** The sid, once an async `genSid` has given it. */
  ensureSid(): Promise<string>;
  /** A new sid (generated when first needed) and an empty session (built when first read). */
  startNew(): void;

  /** The store gave this session, whose entry is at `version`. */
  loaded(session: StoredSession, version: string | null | undefined): void;
  /** With `maxLifetime`, what a loaded session's lifetime says. */
  lifetimeOf(session: StoredSession): { expired: boolean; lifetimeUnstamped: boolean };
  /** The session as it is written: `beforeSave` runs, the size limit is checked. */
  prepareWrite(): PreparedWrite;
  /** The session to write after a fenced write met a newer entry: that entry with this request's changes. */
  mergeInto(newer: StoredSession): MergedWrite;
  /** The store holds `json` now, as the entry's `version`. */
  written(json: string, version: string | null | undefined): void;

  /** The request holds the session's lock (`concurrency: 'serialize'`). */
  holdLock(lock: SessionLock): void;
  /** The lock the request held, which it holds no more. */
  takeLock(): SessionLock | undefined;

  /** A store call failed with `err`: the error `throwStoreError` and `reportDegraded` refer to. */
  failedWith(err: unknown): void;
  /** Hands an error about the data to the app's `errorHandler`: whether it swallowed it. */
  errorHandlerSwallows(err: unknown, type: 'get' | 'set'): boolean;
  /** The failed call's error is thrown once the machine is settled. */
  throwStoreError(): void;
  /** The `onEvent` notice of a request that goes on without its session store. */
  reportDegraded(): void;
}
