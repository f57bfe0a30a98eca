/**
 * What comes back from a store is untrusted: a session is only a plain object (README, Security).
 * Anything else (a string, an array, a number, a class instance) is no session. Stores that keep
 * JSON give `cookie.expires` back as a string; it is made a Date again, as koa-generic-session did.
 */
import type { StoredSession } from './types.js';

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return false;
  // Built-in prototypes and namespaces (Array.prototype, Map.prototype, Math, JSON…) inherit from
  // Object.prototype too, and so does a class's prototype: none of them is data, and a session
  // that were one would let `ctx.session.x = 1` change it for the whole process.
  return Object.prototype.toString.call(value) === '[object Object]' && !isPrototype(value);
}

/** Whether `value` is some constructor's prototype (Object.prototype, Promise.prototype, a class's). */
export function isPrototype(value: object): boolean {
  const ctor = Object.hasOwn(value, 'constructor') ? (value as { constructor?: unknown }).constructor : undefined;
  return typeof ctor === 'function' && ctor.prototype === value;
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
