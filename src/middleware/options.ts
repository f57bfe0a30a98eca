/**
 * The middleware's options: their types, their defaults (koa-generic-session's names and
 * meanings; README, Options) and their validation. Everything is checked once, when the middleware is
 * created, so that a mistake is a clear error at start-up instead of a 500 on some request.
 */
import type { Context } from 'koa';
import type { InspectionEvent } from 'xstate';
import { MemoryStore } from '../stores/memory.js';
import { warnOfUnknownOptions } from './option-names.js';
import { randomSid } from './http/random-sid.js';
import type { SessionCookie, SessionStore, StoredSession } from '../stores/types.js';
import type { OwnerOfSession } from '../sessions/types.js';

export type ErrorType = 'get' | 'set';

export interface SessionIdStore {
  get(this: Context): string | null | undefined;
  set(this: Context, sid: string, session: StoredSession): void;
  reset(this: Context): void;
}

export interface SessionOptions {
  /** Cookie name (default `'koa.sid'`); a signed cookie comes with `<key>.sig`. */
  key?: string;
  /** Where sessions live (default: a new `MemoryStore`). Any koa-generic-session store works. */
  store?: SessionStore;
  /** Store key = prefix + sid (default `'koa:sess:'`). */
  prefix?: string;
  /**
   * Store expiry in ms, or a function of the session. When unset: `cookie.expires - now`, else
   * `cookie.maxAge` if a number, else one day. `Infinity` asks for entries without expiry.
   */
  ttl?: number | ((session: StoredSession) => number);
  /** Cookie options; merged over the defaults, never mutated. */
  cookie?: SessionCookie & { maxage?: number };
  /** Re-send the cookie and refresh the store TTL on every request that loads a session. */
  rolling?: boolean;
  /** `ctx.session` becomes a getter returning a Promise; the store is read on first use. */
  defer?: boolean;
  /** Save new sessions even when nothing was set. */
  allowEmpty?: boolean;
  /**
   * Session id generator; may be async. Called with `this = ctx` and the length (24). Default:
   * 24 random bytes in base64url (32 characters), as uid-safe made them.
   */
  genSid?: (this: Context, length: number) => string | Promise<string>;
  /** Sees store `get`/`set` errors; returning swallows them, throwing propagates. */
  errorHandler?: (err: Error, type: ErrorType, ctx: Context) => void;
  /** `false` makes a loaded session be ignored: a fresh session with a new sid is used. */
  valid?: (ctx: Context, session: StoredSession) => boolean;
  /** Runs right before each store write; its changes are saved. */
  beforeSave?: (ctx: Context, session: StoredSession) => void;
  /** Where the sid travels (default: the cookie), e.g. a header. */
  sessionIdStore?: SessionIdStore;
  /** ms that requests wait for a disconnected store before it is declared unavailable. */
  reconnectTimeout?: number;
  /** The largest serialized session, in bytes, that may be saved (default 1 MiB). */
  maxSize?: number;
  /** ms after which a store call that has not answered fails the request with a 503 (default 3000). */
  storeTimeout?: number;
  /**
   * What a request does when the store is unavailable or does not answer in time:
   * `'fail'` (default) answers 503; `'degrade'` gives it an empty session that is never saved.
   */
  storeOutage?: 'fail' | 'degrade';
  /**
   * `'serialize'` runs the requests of one session one after another (load, handlers, commit)
   * under a lock of the store, so that no update is lost (README, No lost updates). Default `'none'`.
   */
  concurrency?: 'none' | 'serialize';
  /** ms a request waits for its session's lock before the outage policy applies (default 5000). */
  lockTimeout?: number;
  /** ms a lock outlives a holder that died without releasing it (default 10000; renewed while held). */
  lockLease?: number;
  /**
   * Store keys are the prefix plus a SHA-256 hash of the sid, never the sid itself: a store dump or
   * key listing gives no cookie that loads a session. Sessions stored before it was turned on are
   * moved to their hashed key when next used, so turning it on logs no one out. Default `false`.
   */
  hashIds?: boolean;
  /**
   * Stored sessions are encrypted and authenticated (AES-256-GCM) with a key derived from the sid,
   * which the store never holds: a store dump reveals no session data. Needs `hashIds`. Default `false`.
   */
  seal?: boolean;
  /**
   * Who a session belongs to (a user id), or `undefined` for nobody: with it, the sessions of an
   * owner can be listed and revoked (`ctx.sessions`, `middleware.sessions`; docs/managing-sessions.md).
   * Needs a store with the `index` capability (MemoryStore and RedisStore have it).
   */
  owner?: OwnerOfSession;
  /** What the session list shows about a session besides its dates, taken at each write (needs `owner`). */
  describe?: (ctx: Context) => Record<string, unknown> | undefined;
  /**
   * An absolute lifetime in ms: a session created longer ago than this is gone whatever its
   * activity (destroyed, its cookie reset, a new session), even with `rolling`; the store TTL never
   * outlives it. `regenerateSession()` (a login) starts a new lifetime. Default: none. The creation
   * time is kept in `session.cookie.createdAt`.
   */
  maxLifetime?: number;
  /**
   * ms for which the sid of a session that a request regenerated or destroyed (a login, a logout)
   * is remembered (a small entry under a key of its own), so that a request that left with it
   * before gets an empty, unsaved session and no cookie, instead of resetting the new login cookie.
   * Default 60000; 0 turns it off.
   */
  tombstoneTtl?: number;
  /** Typed notices: store connection changes, degraded requests, ended lifetimes, late requests, fenced-off writes. */
  onEvent?: (event: SessionNotice) => void;
  /**
   * An XState inspection callback (`createActor(..., { inspect })`): sees every transition of each
   * request's session machine and of the store connection machine. With it, requests run real
   * actors instead of the compiled table, which costs some microseconds per request.
   */
  inspect?: (event: InspectionEvent) => void;
}

export type SessionNotice =
  | { type: 'connection'; state: 'connected' | 'reconnecting' | 'unavailable' | 'closed' }
  | { type: 'degraded'; ctx: Context; reason: string }
  /** A session outlived `maxLifetime`: it was destroyed and the request got a new one. */
  | { type: 'expired'; ctx: Context }
  /** A late request (its sid retired by a login or logout meanwhile) changed its session: not saved. */
  | { type: 'late'; ctx: Context }
  /**
   * A write of the request was fenced off and dropped, never applied: the session had been written
   * since the request read it (a store with `compareAndSet`). `late`: the write outlived its
   * request, which had answered already (a 503 after `storeTimeout`); otherwise other requests kept
   * writing the session while this one merged its changes, and it ended without saving them.
   */
  | { type: 'fenced'; ctx: Context; late: boolean };

/** The options that always have a value once resolved: the others stay `undefined` when unset. */
type Defaulted =
  | 'key'
  | 'store'
  | 'prefix'
  | 'rolling'
  | 'defer'
  | 'allowEmpty'
  | 'genSid'
  | 'errorHandler'
  | 'reconnectTimeout'
  | 'maxSize'
  | 'storeTimeout'
  | 'storeOutage'
  | 'concurrency'
  | 'lockTimeout'
  | 'lockLease'
  | 'hashIds'
  | 'seal'
  | 'tombstoneTtl';

/** The options as the middleware uses them: derived from {@link SessionOptions}, so the two cannot drift. */
export type ResolvedOptions = { [K in Defaulted]-?: Exclude<SessionOptions[K], undefined> } & {
  [K in Exclude<keyof SessionOptions, Defaulted | 'cookie'>]-?: SessionOptions[K] | undefined;
} & {
  /** Merged over the defaults, validated, frozen. */
  cookie: Readonly<SessionCookie>;
};

export const DEFAULT_COOKIE: Readonly<SessionCookie> = Object.freeze({
  httpOnly: true,
  path: '/',
  overwrite: true,
  signed: true,
  maxAge: 24 * 60 * 60 * 1000,
  sameSite: 'lax',
});

/** The reference's error handler: names the error after the failed operation, then rethrows. */
export function defaultErrorHandler(err: Error, type: ErrorType): void {
  try {
    err.name = `koa-generic-session ${type} error`;
  } catch {
    // An error whose name is read-only keeps its name.
  }
  throw err;
}

/** Synchronous, so that a sid is known without an await (24 bytes, 32 characters). */
export function defaultGenSid(length: number): string {
  return randomSid(length);
}

// Cookie name, path and domain as Koa's cookies module accepts them (a name is any header field
// content without ";" or "=", so `koa:sess` and `koss:test_sid` work as they do with the reference).
// eslint-disable-next-line no-control-regex -- a tab is field content, as in the cookies module
const COOKIE_NAME = /^[\u0009\u0020-\u007e\u0080-\u00ff]+$/;
const COOKIE_NAME_RESTRICTED = /[;=]/;
const COOKIE_PATH = /^[\u0020-\u003A\u003D-\u007E]*$/;
const COOKIE_DOMAIN = /^([.]?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)([.][a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

let warnedOfMemoryStore = false;

/** Once per process: the default store keeps sessions in this process only, as koa-session warns. */
function warnOfMemoryStoreInProduction(): void {
  if (warnedOfMemoryStore || process.env.NODE_ENV !== 'production') return;
  warnedOfMemoryStore = true;
  console.warn(
    'koa-session-machine: no store was given, so sessions are kept in a MemoryStore: in this process only, ' +
      'lost on restart and not shared between processes. Pass a store (e.g. RedisStore) in production.',
  );
}

function fail(message: string): never {
  throw new TypeError(`koa-session-machine: ${message}`);
}

function optionalFunction<T>(name: string, value: T | undefined): T | undefined {
  if (value !== undefined && typeof value !== 'function') fail(`option "${name}" must be a function`);
  return value;
}

/**
 * A number option: its value, or `fallback` when unset. `zero` says whether 0 is allowed (it turns
 * the option off); `unit` is what the error names.
 */
function numberOption(name: string, value: unknown, fallback: number, { zero = false, unit = 'ms' } = {}): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(zero ? value >= 0 : value > 0)) {
    fail(
      `option "${name}" must be a ${zero ? 'non-negative' : 'positive'} number of ${unit}${zero ? ' (0 turns it off)' : ''}, got ${String(value)}`,
    );
  }
  return value;
}

function optionalBoolean(name: string, value: unknown): boolean {
  if (value !== undefined && typeof value !== 'boolean') fail(`option "${name}" must be a boolean`);
  return value === true;
}

function resolveCookie(cookie: SessionOptions['cookie']): SessionCookie {
  if (cookie !== undefined && (cookie === null || typeof cookie !== 'object'))
    fail('option "cookie" must be an object');
  const resolved: SessionCookie = { ...DEFAULT_COOKIE };
  for (const [name, value] of Object.entries(cookie ?? {})) if (value !== undefined) resolved[name] = value;
  // connect's spelling `maxage` still works, as in koa-generic-session.
  if ('maxage' in resolved) {
    resolved.maxAge = resolved.maxage as number;
    delete resolved.maxage;
  }
  const { maxAge, path, domain, sameSite, secure, partitioned } = resolved;
  if (maxAge !== undefined && maxAge !== null && maxAge !== 'session' && !(typeof maxAge === 'number' && maxAge >= 0)) {
    fail(`cookie.maxAge must be a non-negative number of ms, 'session' or null, got ${String(maxAge)}`);
  }
  if (typeof path !== 'string' || !path.startsWith('/') || !COOKIE_PATH.test(path)) {
    fail('cookie.path must be a string starting with "/", without ";" or control characters');
  }
  if (domain !== undefined && (typeof domain !== 'string' || !COOKIE_DOMAIN.test(domain)))
    fail('cookie.domain must be a domain name');
  if (resolved.sameSite !== undefined && !['strict', 'lax', 'none', true, false].includes(resolved.sameSite)) {
    fail(`cookie.sameSite must be 'strict', 'lax', 'none' or a boolean`);
  }
  if (resolved.priority !== undefined && !['low', 'medium', 'high'].includes(resolved.priority)) {
    fail(`cookie.priority must be 'low', 'medium' or 'high'`);
  }
  if ((sameSite === 'none' || partitioned === true) && secure !== true) {
    fail(
      `cookie.${sameSite === 'none' ? "sameSite: 'none'" : 'partitioned'} needs cookie.secure: true (browsers drop such cookies otherwise)`,
    );
  }
  return resolved;
}

function resolveTtl(ttl: SessionOptions['ttl']): ResolvedOptions['ttl'] {
  if (ttl === undefined || ttl === null || ttl === 0) return undefined;
  if (typeof ttl === 'function') return ttl;
  if (typeof ttl !== 'number' || Number.isNaN(ttl) || ttl < 0)
    fail(`option "ttl" must be a number of ms or a function, got ${String(ttl)}`);
  return ttl;
}

export function resolveOptions(options: SessionOptions = {}): ResolvedOptions {
  if (options === null || typeof options !== 'object') fail('options must be an object');
  warnOfUnknownOptions(options);
  const key = options.key ?? 'koa.sid';
  if (typeof key !== 'string' || !COOKIE_NAME.test(key) || COOKIE_NAME_RESTRICTED.test(key)) {
    fail(`option "key" must be a cookie name (no ";", "=" or control characters), got ${String(key)}`);
  }
  const prefix = options.prefix ?? 'koa:sess:';
  if (typeof prefix !== 'string') fail('option "prefix" must be a string');
  const reconnectTimeout = numberOption('reconnectTimeout', options.reconnectTimeout, 10_000, { zero: true });
  const maxSize = numberOption('maxSize', options.maxSize, 1024 * 1024, { unit: 'bytes' });
  const storeTimeout = numberOption('storeTimeout', options.storeTimeout, 3000);
  const storeOutage = options.storeOutage ?? 'fail';
  if (storeOutage !== 'fail' && storeOutage !== 'degrade') fail(`option "storeOutage" must be 'fail' or 'degrade'`);
  const concurrency = options.concurrency ?? 'none';
  if (concurrency !== 'none' && concurrency !== 'serialize') fail(`option "concurrency" must be 'none' or 'serialize'`);
  const lockTimeout = numberOption('lockTimeout', options.lockTimeout, 5000);
  const lockLease = numberOption('lockLease', options.lockLease, 10_000);
  const sessionIdStore = options.sessionIdStore;
  if (
    sessionIdStore !== undefined &&
    (sessionIdStore === null ||
      typeof sessionIdStore.get !== 'function' ||
      typeof sessionIdStore.set !== 'function' ||
      typeof sessionIdStore.reset !== 'function')
  ) {
    fail('option "sessionIdStore" must have get, set and reset methods');
  }
  if (options.store === undefined) warnOfMemoryStoreInProduction();
  const store = options.store ?? new MemoryStore();
  const hashIds = optionalBoolean('hashIds', options.hashIds);
  const seal = optionalBoolean('seal', options.seal);
  const maxLifetime =
    options.maxLifetime === undefined ? undefined : numberOption('maxLifetime', options.maxLifetime, 0);
  const tombstoneTtl = numberOption('tombstoneTtl', options.tombstoneTtl, 60_000, { zero: true });
  if (seal && !hashIds)
    fail('option "seal" needs hashIds: true (a store key that is the sid would give the sealing key away)');
  if (store === null || typeof store !== 'object') fail('option "store" must be a store object');
  const owner = optionalFunction('owner', options.owner);
  const describe = optionalFunction('describe', options.describe);
  if (describe && !owner) fail('option "describe" needs the option "owner" (it describes the sessions of an owner)');
  return {
    key,
    store,
    prefix,
    ttl: resolveTtl(options.ttl),
    cookie: Object.freeze(resolveCookie(options.cookie)),
    rolling: optionalBoolean('rolling', options.rolling),
    defer: optionalBoolean('defer', options.defer),
    allowEmpty: optionalBoolean('allowEmpty', options.allowEmpty),
    genSid: optionalFunction('genSid', options.genSid) ?? defaultGenSid,
    errorHandler: optionalFunction('errorHandler', options.errorHandler) ?? defaultErrorHandler,
    valid: optionalFunction('valid', options.valid),
    beforeSave: optionalFunction('beforeSave', options.beforeSave),
    sessionIdStore,
    reconnectTimeout,
    maxSize,
    storeTimeout,
    storeOutage,
    concurrency,
    lockTimeout,
    lockLease,
    onEvent: optionalFunction('onEvent', options.onEvent),
    inspect: optionalFunction('inspect', options.inspect),
    hashIds,
    seal,
    maxLifetime,
    tombstoneTtl,
    owner,
    describe,
  };
}
