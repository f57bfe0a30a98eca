/**
 * How the value of each option is checked and given its default, one function per kind of value:
 * the building blocks of the option table (option-table.ts). Every check runs once, when the
 * middleware is created, so that a mistake is a clear error at start-up instead of a 500 on some
 * request.
 */
import type { Context } from 'koa';
import { MemoryStore } from '../stores/memory.js';
import type { SessionCookie, SessionStore, StoredSession } from '../stores/types.js';
import { randomSid } from './http/random-sid.js';

export type ErrorType = 'get' | 'set';

export interface SessionIdStore {
  get(this: Context): string | null | undefined;
  set(this: Context, sid: string, session: StoredSession): void;
  reset(this: Context): void;
}

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

export function fail(message: string): never {
  throw new TypeError(`koa-session-machine: ${message}`);
}

/** A function option, or `undefined` when unset. */
export const optionalFunction =
  (name: string) =>
  <T>(value: T | undefined): T | undefined => {
    if (value !== undefined && typeof value !== 'function') fail(`option "${name}" must be a function`);
    return value;
  };

/** A boolean option, `false` when unset. */
export const flag =
  (name: string) =>
  (value: unknown): boolean => {
    if (value !== undefined && typeof value !== 'boolean') fail(`option "${name}" must be a boolean`);
    return value === true;
  };

/**
 * A number option: its value, or `fallback` when unset. `zero` says whether 0 is allowed (it turns
 * the option off); `unit` is what the error names.
 */
export const positiveNumber =
  (name: string, fallback: number, { zero = false, unit = 'ms' } = {}) =>
  (value: unknown): number => {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !(zero ? value >= 0 : value > 0)) {
      fail(
        `option "${name}" must be a ${zero ? 'non-negative' : 'positive'} number of ${unit}${zero ? ' (0 turns it off)' : ''}, got ${String(value)}`,
      );
    }
    return value;
  };

/** One of `choices` (the first when unset). */
export const oneOf =
  <T extends string>(name: string, choices: readonly [T, ...T[]]) =>
  (value: unknown): T => {
    if (value === undefined) return choices[0];
    if (!choices.includes(value as T)) fail(`option "${name}" must be ${choices.map((c) => `'${c}'`).join(' or ')}`);
    return value as T;
  };

// Cookie name, path and domain as Koa's cookies module accepts them (a name is any header field
// content without ";" or "=", so `koa:sess` and `koss:test_sid` work as they do with the reference).
// eslint-disable-next-line no-control-regex -- a tab is field content, as in the cookies module
const COOKIE_NAME = /^[\u0009\u0020-\u007e\u0080-\u00ff]+$/;
const COOKIE_NAME_RESTRICTED = /[;=]/;
const COOKIE_PATH = /^[\u0020-\u003A\u003D-\u007E]*$/;
const COOKIE_DOMAIN = /^([.]?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)([.][a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

export function cookieName(key: unknown = 'koa.sid'): string {
  if (typeof key !== 'string' || !COOKIE_NAME.test(key) || COOKIE_NAME_RESTRICTED.test(key)) {
    fail(`option "key" must be a cookie name (no ";", "=" or control characters), got ${String(key)}`);
  }
  return key;
}

export function storePrefix(prefix: unknown = 'koa:sess:'): string {
  if (typeof prefix !== 'string') fail('option "prefix" must be a string');
  return prefix;
}

/** The cookie options merged over the defaults, checked, frozen. */
export function cookieOptions(cookie: (SessionCookie & { maxage?: number }) | undefined): Readonly<SessionCookie> {
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
  return Object.freeze(resolved);
}

export type TtlOption = number | ((session: StoredSession) => number);

/** The `ttl` option; `undefined` (unset, `0` or `null`) lets the cookie decide. */
export function storeTtl(ttl: TtlOption | undefined): TtlOption | undefined {
  if (ttl === undefined || ttl === null || ttl === 0) return undefined;
  if (typeof ttl === 'function') return ttl;
  if (typeof ttl !== 'number' || Number.isNaN(ttl) || ttl < 0)
    fail(`option "ttl" must be a number of ms or a function, got ${String(ttl)}`);
  return ttl;
}

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

/** The `store` option: the app's store, or a new MemoryStore (with a warning in production). */
export function sessionStore(store: SessionStore | undefined): SessionStore {
  if (store === undefined) {
    warnOfMemoryStoreInProduction();
    return new MemoryStore();
  }
  if (store === null || typeof store !== 'object') fail('option "store" must be a store object');
  return store;
}

export function sidCarrier(sessionIdStore: SessionIdStore | undefined): SessionIdStore | undefined {
  if (
    sessionIdStore !== undefined &&
    (sessionIdStore === null ||
      typeof sessionIdStore.get !== 'function' ||
      typeof sessionIdStore.set !== 'function' ||
      typeof sessionIdStore.reset !== 'function')
  ) {
    fail('option "sessionIdStore" must have get, set and reset methods');
  }
  return sessionIdStore;
}
