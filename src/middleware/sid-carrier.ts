/**
 * Where the sid travels between client and server: the session cookie by default, or the app's
 * `sessionIdStore`. Reading tells apart "no sid", "a sid" and "a sid that fails its signature",
 * because a forged or tampered cookie must be reset, not silently kept (SPEC §4.2, §5.11).
 * Every cookie write uses the configured `path` and `domain`, resets included (SPEC §5.2).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import type { SessionIdStore } from './options.js';
import type { SessionCookie, StoredSession } from '../stores/types.js';

export type SidReading = { kind: 'absent' } | { kind: 'present'; sid: string } | { kind: 'forged' };

export interface SidCarrier {
  read(ctx: Context): SidReading;
  send(ctx: Context, sid: string, session: StoredSession): void;
  reset(ctx: Context): void;
}

const ABSENT: SidReading = Object.freeze({ kind: 'absent' });
const FORGED: SidReading = Object.freeze({ kind: 'forged' });

/** Longer than any sid a generator makes: such a value is not looked up in the store. */
const MAX_SID_LENGTH = 256;

interface Keygrip {
  index(data: string, digest: string): number;
}

/**
 * Whether `sig` signs `data` with one of the app's keys, as Keygrip (Koa's signer) signs: HMAC-SHA1
 * in base64url. Done here because Keygrip's check (tsscmp) costs two more HMACs and random bytes
 * per request; the comparison stays constant-time. A Keygrip instance of the app's is used as is.
 */
function signedBy(keys: unknown, data: string, sig: string): boolean {
  if (!Array.isArray(keys)) return (keys as Keygrip).index(data, sig) >= 0;
  const given = Buffer.from(sig);
  for (const key of keys) {
    const expected = createHmac('sha1', key as string).update(data).digest();
    const encoded = Buffer.from(expected.toString('base64url'));
    if (encoded.length === given.length && timingSafeEqual(encoded, given)) return true;
  }
  return false;
}

/** The options that identify the cookie come from the configuration; a session may not move it. */
function identity(cookie: Readonly<SessionCookie>) {
  return { path: cookie.path, domain: cookie.domain, signed: cookie.signed !== false };
}

const SAME_SITE: readonly unknown[] = ['strict', 'lax', 'none', true, false];
const PRIORITY: readonly unknown[] = ['low', 'medium', 'high'];

/**
 * The cookie options a session may change for itself (a handler setting `session.cookie.maxAge`
 * for "remember me"), each taken only when valid: a session comes back from a store, and a bad
 * value there must not make `cookies.set` throw after the store was written.
 */
function sessionCookieOptions(own: SessionCookie | undefined): SessionCookie {
  const picked: SessionCookie = {};
  if (own === undefined || own === null || typeof own !== 'object') return picked;
  const { maxAge, expires, httpOnly, secure, sameSite, priority, partitioned } = own;
  if (maxAge === null || maxAge === 'session' || (typeof maxAge === 'number' && Number.isFinite(maxAge) && maxAge >= 0)) {
    picked.maxAge = maxAge;
  }
  if (expires instanceof Date && !Number.isNaN(expires.getTime())) picked.expires = expires;
  if (typeof httpOnly === 'boolean') picked.httpOnly = httpOnly;
  if (typeof secure === 'boolean') picked.secure = secure;
  if (SAME_SITE.includes(sameSite)) picked.sameSite = sameSite;
  if (PRIORITY.includes(priority)) picked.priority = priority;
  if (typeof partitioned === 'boolean') picked.partitioned = partitioned;
  return picked;
}

type CookieSetOptions = Parameters<Context['cookies']['set']>[2];

/**
 * `cookies` refuses a `secure: true` cookie on a request it sees as plain HTTP, which is every
 * request behind a TLS-terminating proxy when `app.proxy` is off: a 500 after the store was
 * written. An app that sets `secure: true` says the client connection is encrypted, so the
 * cookie is sent as asked.
 */
function setCookie(ctx: Context, name: string, value: string | null, options: SessionCookie): void {
  const jar = ctx.cookies as unknown as { secure?: boolean };
  if (options.secure !== true || jar.secure) {
    ctx.cookies.set(name, value, options as CookieSetOptions);
    return;
  }
  const seen = jar.secure;
  jar.secure = true;
  try {
    ctx.cookies.set(name, value, options as CookieSetOptions);
  } finally {
    jar.secure = seen;
  }
}

export function cookieCarrier(key: string, cookie: Readonly<SessionCookie>): SidCarrier {
  const fixed = identity(cookie);
  const sigName = `${key}.sig`;
  const resetOptions = { ...cookie, ...fixed, maxAge: undefined, expires: new Date(0), overwrite: true };

  return {
    read(ctx) {
      const sid = ctx.cookies.get(key, { signed: false });
      if (!sid) return ABSENT;
      if (sid.length > MAX_SID_LENGTH) return FORGED;
      if (!fixed.signed) return { kind: 'present', sid };
      // Checked here rather than by `cookies.get(key, { signed: true })`, which answers a bad
      // signature with undefined (a forged cookie would look like no cookie) and resets `.sig`
      // with path=/ whatever the configured path.
      const sig = ctx.cookies.get(sigName, { signed: false });
      const keys = ctx.app.keys as unknown;
      if (!sig || !keys || !signedBy(keys, `${key}=${sid}`, sig)) return FORGED;
      return { kind: 'present', sid };
    },
    send(ctx, sid, session) {
      if (ctx.headerSent) return;
      const options: SessionCookie = { ...cookie, ...sessionCookieOptions(session.cookie), ...fixed };
      // 'session' and null mean a browser-session cookie: no Max-Age, no Expires (SPEC §5.9).
      if (typeof options.maxAge !== 'number') delete options.maxAge;
      setCookie(ctx, key, sid, options);
    },
    reset(ctx) {
      if (ctx.headerSent) return;
      setCookie(ctx, key, null, resetOptions);
    },
  };
}

/** The app's `sessionIdStore`, called with `this = ctx` as in koa-generic-session. */
export function customCarrier(store: SessionIdStore): SidCarrier {
  return {
    read(ctx) {
      const sid = store.get.call(ctx);
      if (sid === undefined || sid === null || sid === '') return ABSENT;
      if (typeof sid !== 'string' || sid.length > MAX_SID_LENGTH) return FORGED;
      return { kind: 'present', sid };
    },
    send(ctx, sid, session) {
      store.set.call(ctx, sid, session);
    },
    reset(ctx) {
      store.reset.call(ctx);
    },
  };
}
