/**
 * The names the session index uses. A handle names a session in the sessions API only: derived
 * from the session's store key, never from the sid itself, so it loads nothing as a cookie, and with
 * `hashIds` (where the key is already a hash of the sid) the index holds no sid at all.
 */
import { hashSid } from '../stores/sid-hash.js';

/** The handle of the session stored under `key`: the first 22 characters (132 bits) of its SHA-256 in base64url. */
export function handleOf(key: string): string {
  return hashSid(key).slice(0, 22);
}

/** The error of the sessions API (`subject`) used without the `owner` option. */
export function ownerOptionMissing(subject: string): TypeError {
  return new TypeError(
    `koa-session-machine: ${subject} needs the "owner" option, which says who a session belongs to, ` +
      'e.g. session({ owner: (s) => s.passport?.user }) (docs/managing-sessions.md)',
  );
}

/** The key of `owner`'s index in the store: the session prefix, then `owner:` and the owner. */
export function ownerKeyOf(prefix: string, owner: string): string {
  return `${prefix}owner:${owner}`;
}

/** An owner as the index names it; `undefined` for a session that belongs to nobody. */
export function ownerName(value: unknown, from: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw new TypeError(`koa-session-machine: ${from} must be a string, a number or undefined, got ${typeof value}`);
}
