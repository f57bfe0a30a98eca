/**
 * The options of `session(options)`, one entry each: the one place that names an option. From it
 * come the `SessionOptions` type (each entry's doc comment is the option's), the options the
 * middleware uses once resolved (`ResolvedOptions`), the check of each value and its default, the
 * names the misspelling warning knows, and the README's table of options (`npm run docs`).
 */
import type { Context } from 'koa';
import type { InspectionEvent } from 'xstate';
import type { OwnerOfSession } from '../sessions/types.js';
import type { SessionCookie, SessionStore, StoredSession } from '../stores/types.js';
import {
  cookieName,
  cookieOptions,
  defaultErrorHandler,
  defaultGenSid,
  flag,
  oneOf,
  optionalFunction,
  positiveNumber,
  sessionStore,
  sidCarrier,
  storePrefix,
  storeTtl,
  type ErrorType,
  type SessionIdStore,
  type TtlOption,
} from './option-values.js';

/** One option: what an app may pass (`In`), what the middleware uses (`Out`), and its README row. */
export interface OptionSpec<In, Out> {
  /** The default, as the README's table shows it. */
  readonly shown: string;
  /** What it does, in one line (the README's table). */
  readonly summary: string;
  /** The parameters of a function the app gives, when the README's table names them. */
  readonly call?: string;
  /** Checks the app's value (`undefined` when unset) and gives the value the middleware uses. */
  readonly resolve: (value: In | undefined) => Out;
}

/** An option whose app-side type is `In` (written out, since it cannot be inferred from a check). */
const option =
  <In>() =>
  <Out>(spec: OptionSpec<In, Out>): OptionSpec<In, Out> =>
    spec;

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

export const OPTIONS = {
  /** Cookie name (default `'koa.sid'`); a signed cookie comes with `<key>.sig`. */
  key: option<string>()({
    shown: "`'koa.sid'`",
    summary: "the cookie's name (and `<key>.sig` for its signature)",
    resolve: cookieName,
  }),
  /** Where sessions live (default: a new `MemoryStore`). Any koa-generic-session store works. */
  store: option<SessionStore>()({
    shown: 'a new `MemoryStore`',
    summary: 'where sessions live: any koa-generic-session store, `RedisStore`, your own',
    resolve: sessionStore,
  }),
  /** Store key = prefix + sid (default `'koa:sess:'`). */
  prefix: option<string>()({
    shown: "`'koa:sess:'`",
    summary: 'store key = prefix + sid',
    resolve: storePrefix,
  }),
  /**
   * Store expiry in ms, or a function of the session. When unset: `cookie.expires - now`, else
   * `cookie.maxAge` if a number, else one day. `Infinity` asks for entries without expiry.
   */
  ttl: option<TtlOption>()({
    shown: 'from the cookie',
    summary: 'store expiry in ms, a number or `(session) => number`',
    resolve: storeTtl,
  }),
  /** Cookie options; merged over the defaults, never mutated. */
  cookie: option<SessionCookie & { maxage?: number }>()({
    shown: "HttpOnly, `sameSite: 'lax'`, signed, a day",
    summary: "the cookie's attributes, merged over the defaults",
    resolve: cookieOptions,
  }),
  /** Re-send the cookie and refresh the store TTL on every request that loads a session. */
  rolling: option<boolean>()({
    shown: '`false`',
    summary: 're-send the cookie and refresh the TTL on every request that loads a session',
    resolve: flag('rolling'),
  }),
  /** `ctx.session` becomes a getter returning a Promise; the store is read on first use. */
  defer: option<boolean>()({
    shown: '`false`',
    summary: '`ctx.session` is a Promise; the store is read on first use',
    resolve: flag('defer'),
  }),
  /** Save new sessions even when nothing was set. */
  allowEmpty: option<boolean>()({
    shown: '`false`',
    summary: 'save new sessions even when nothing was set',
    resolve: flag('allowEmpty'),
  }),
  /**
   * Session id generator; may be async. Called with `this = ctx` and the length (24). Default:
   * 24 random bytes in base64url (32 characters), as uid-safe made them.
   */
  genSid: option<(this: Context, length: number) => string | Promise<string>>()({
    shown: '32 random url-safe characters',
    summary: 'the sid generator, sync or async',
    resolve: (value) => optionalFunction('genSid')(value) ?? defaultGenSid,
  }),
  /** Sees store `get`/`set` errors; returning swallows them, throwing propagates. */
  errorHandler: option<(err: Error, type: ErrorType, ctx: Context) => void>()({
    shown: 'rethrow',
    summary: 'sees store errors; returning swallows them',
    call: '(err, type, ctx)',
    resolve: (value) => optionalFunction('errorHandler')(value) ?? defaultErrorHandler,
  }),
  /** `false` makes a loaded session be ignored: a fresh session with a new sid is used. */
  valid: option<(ctx: Context, session: StoredSession) => boolean>()({
    shown: 'always true',
    summary: '`false` gives a new session and a new sid',
    call: '(ctx, session)',
    resolve: optionalFunction('valid'),
  }),
  /** Runs right before each store write; its changes are saved. */
  beforeSave: option<(ctx: Context, session: StoredSession) => void>()({
    shown: 'none',
    summary: 'runs right before each write; its changes are saved',
    call: '(ctx, session)',
    resolve: optionalFunction('beforeSave'),
  }),
  /** Where the sid travels (default: the cookie), e.g. a header. */
  sessionIdStore: option<SessionIdStore>()({
    shown: 'the cookie',
    summary: 'where the sid travels, e.g. a header',
    resolve: sidCarrier,
  }),
  /** ms that requests wait for a disconnected store before it is declared unavailable. */
  reconnectTimeout: option<number>()({
    shown: '`10000`',
    summary: 'ms requests wait for a disconnected store',
    resolve: positiveNumber('reconnectTimeout', 10_000, { zero: true }),
  }),
  /** The largest serialized session, in bytes, that may be saved (default 1 MiB). */
  maxSize: option<number>()({
    shown: '`1048576`',
    summary: 'the largest session (bytes) that may be saved',
    resolve: positiveNumber('maxSize', 1024 * 1024, { unit: 'bytes' }),
  }),
  /** ms after which a store call that has not answered fails the request with a 503 (default 3000). */
  storeTimeout: option<number>()({
    shown: '`3000`',
    summary: 'ms after which an unanswered store call fails the request (503)',
    resolve: positiveNumber('storeTimeout', 3000),
  }),
  /**
   * What a request does when the store is unavailable or does not answer in time:
   * `'fail'` (default) answers 503; `'degrade'` gives it an empty session that is never saved.
   */
  storeOutage: option<'fail' | 'degrade'>()({
    shown: "`'fail'`",
    summary: "on an outage: `'fail'` (503) or `'degrade'` (an empty session, not saved)",
    resolve: oneOf('storeOutage', ['fail', 'degrade']),
  }),
  /**
   * `'serialize'` runs the requests of one session one after another (load, handlers, commit)
   * under a lock of the store, so that no update is lost (README, No lost updates). Default `'none'`.
   */
  concurrency: option<'none' | 'serialize'>()({
    shown: "`'none'`",
    summary: "`'serialize'`: the requests of one session run one after another",
    resolve: oneOf('concurrency', ['none', 'serialize']),
  }),
  /** ms a request waits for its session's lock before the outage policy applies (default 5000). */
  lockTimeout: option<number>()({
    shown: '`5000`',
    summary: "ms a request waits for its session's lock",
    resolve: positiveNumber('lockTimeout', 5000),
  }),
  /** ms a lock outlives a holder that died without releasing it (default 10000; renewed while held). */
  lockLease: option<number>()({
    shown: '`10000`',
    summary: 'ms a lock outlives a process that died holding it',
    resolve: positiveNumber('lockLease', 10_000),
  }),
  /** Typed notices: store connection changes, degraded requests, ended lifetimes, late requests, fenced-off writes. */
  onEvent: option<(event: SessionNotice) => void>()({
    shown: 'none',
    summary: 'typed notices: connection, degraded, expired, late, fenced',
    resolve: optionalFunction('onEvent'),
  }),
  /**
   * An XState inspection callback (`createActor(..., { inspect })`): sees every transition of each
   * request's session machine and of the store connection machine. With it, requests run real
   * actors instead of the compiled table, which costs some microseconds per request.
   */
  inspect: option<(event: InspectionEvent) => void>()({
    shown: 'none',
    summary: 'an XState inspection callback that sees every transition',
    resolve: optionalFunction('inspect'),
  }),
  /**
   * Store keys are the prefix plus a SHA-256 hash of the sid, never the sid itself: a store dump or
   * key listing gives no cookie that loads a session. Sessions stored before it was turned on are
   * moved to their hashed key when next used, so turning it on logs no one out. Default `false`.
   */
  hashIds: option<boolean>()({
    shown: '`false`',
    summary: 'store keys hold a hash of the sid, never the sid; recommended',
    resolve: flag('hashIds'),
  }),
  /**
   * Stored sessions are encrypted and authenticated (AES-256-GCM) with a key derived from the sid,
   * which the store never holds: a store dump reveals no session data. Needs `hashIds`. Default `false`.
   */
  seal: option<boolean>()({
    shown: '`false`',
    summary: 'with `hashIds`: stored sessions encrypted with a key the store never holds',
    resolve: flag('seal'),
  }),
  /**
   * An absolute lifetime in ms: a session created longer ago than this is gone whatever its
   * activity (destroyed, its cookie reset, a new session), even with `rolling`; the store TTL never
   * outlives it. `regenerateSession()` (a login) starts a new lifetime. Default: none. The creation
   * time is kept in `session.cookie.createdAt`.
   */
  maxLifetime: option<number>()({
    shown: 'none',
    summary: 'an absolute lifetime in ms, whatever the activity',
    resolve: (value) => (value === undefined ? undefined : positiveNumber('maxLifetime', 0)(value)),
  }),
  /**
   * ms for which the sid of a session that a request regenerated or destroyed (a login, a logout)
   * is remembered (a small entry under a key of its own), so that a request that left with it
   * before gets an empty, unsaved session and no cookie, instead of resetting the new login cookie.
   * Default 60000; 0 turns it off.
   */
  tombstoneTtl: option<number>()({
    shown: '`60000`',
    summary: 'ms a retired sid is remembered, so a late request cannot undo a login or logout',
    resolve: positiveNumber('tombstoneTtl', 60_000, { zero: true }),
  }),
  /**
   * Who a session belongs to (a user id), or `undefined` for nobody: with it, the sessions of an
   * owner can be listed and revoked (`ctx.sessions`, `middleware.sessions`; docs/managing-sessions.md).
   * Needs a store with the `index` capability (MemoryStore and RedisStore have it).
   */
  owner: option<OwnerOfSession>()({
    shown: 'none',
    summary: "who a session belongs to, for [managing a user's sessions](#managing-a-users-sessions)",
    call: '(session)',
    resolve: optionalFunction('owner'),
  }),
  /** What the session list shows about a session besides its dates, taken at each write (needs `owner`). */
  describe: option<(ctx: Context) => Record<string, unknown> | undefined>()({
    shown: 'none',
    summary: 'what `list()` shows about each session',
    call: '(ctx)',
    resolve: optionalFunction('describe'),
  }),
};

type Options = typeof OPTIONS;
export type OptionName = keyof Options;

/** The options an app passes to `session(options)`; each is documented in the option table. */
export type SessionOptions = {
  [K in OptionName]?: Options[K] extends OptionSpec<infer In, unknown> ? In : never;
};

/** The options as the middleware uses them: what each option's check gives. */
export type ResolvedOptions = {
  readonly [K in OptionName]: ReturnType<Options[K]['resolve']>;
};
