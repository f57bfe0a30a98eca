/**
 * What comes back from a store is untrusted: a session is only a plain object (SPEC §5.11).
 * Anything else (a string, an array, a number, a class instance) is no session. Stores that keep
 * JSON give `cookie.expires` back as a string; it is made a Date again, as koa-generic-session did.
 */
import type { StoredSession } from './types.js';

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** The session in `value`, or `undefined` when `value` is not one. */
export function reviveSession(value: unknown): StoredSession | undefined {
  // An own `__proto__` key (JSON.parse makes one) would change a prototype if the session were
  // ever copied with Object.assign: such a value is refused rather than carried along.
  if (!isPlainObject(value) || Object.hasOwn(value, '__proto__')) return undefined;
  const cookie = value.cookie;
  if (cookie !== undefined && (!isPlainObject(cookie) || Object.hasOwn(cookie, '__proto__'))) return undefined;
  if (cookie && typeof cookie.expires === 'string') {
    const expires = new Date(cookie.expires);
    if (Number.isNaN(expires.getTime())) delete cookie.expires;
    else cookie.expires = expires;
  }
  return value as StoredSession;
}
