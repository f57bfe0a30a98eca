/**
 * Where the sid travels between client and server: the session cookie by default, or the app's
 * `sessionIdStore`. Reading tells apart "no sid", "a sid" and "a sid that fails its signature",
 * because a forged or tampered cookie must be reset, not silently kept (docs/lifecycle.md, Load).
 * Every cookie write uses the configured `path` and `domain`, resets included (a logout must reach the real cookie).
 */
import type { Context } from 'koa';
import type { SessionIdStore } from './options.js';
import type { SessionCookie, StoredSession } from '../stores/types.js';
import { cookieReader } from './http/cookie-reader.js';
import { sign, signatureIndex } from './http/cookie-signature.js';
import { attributes, configuredAttributes, writeCookies } from './http/set-cookie.js';

/**
 * What the client sent. A present sid signed with the newest key carries its signature, which is
 * sent back as it is when the same sid is re-sent (one HMAC less per saving request).
 */
export type SidReading = { kind: 'absent' } | { kind: 'present'; sid: string; signature?: string } | { kind: 'forged' };

export interface SidCarrier {
  read(ctx: Context): SidReading;
  send(ctx: Context, sid: string, session: StoredSession, reading: SidReading): void;
  reset(ctx: Context): void;
}

const ABSENT: SidReading = Object.freeze({ kind: 'absent' });
const FORGED: SidReading = Object.freeze({ kind: 'forged' });

/** Longer than any sid a generator makes: such a value is not looked up in the store. */
const MAX_SID_LENGTH = 256;

/** The options that identify the cookie come from the configuration; a session may not move it. */
function identity(cookie: Readonly<SessionCookie>) {
  return { path: cookie.path, domain: cookie.domain, signed: cookie.signed !== false };
}

/**
 * Whether a session's own cookie options (those it may change for itself: maxAge, expires,
 * httpOnly, secure, sameSite, priority, partitioned) are the configured ones (the usual case: a
 * copy of them). Each compared by name, in that order: a loop over the names made every saving
 * request pay for fourteen lookups by a computed key (V8's slowest kind).
 */
function sameAsConfigured(own: SessionCookie | undefined, cookie: Readonly<SessionCookie>): boolean {
  if (own === undefined || own === null || typeof own !== 'object') return false;
  return (
    own.maxAge === cookie.maxAge &&
    own.expires === cookie.expires &&
    own.httpOnly === cookie.httpOnly &&
    own.secure === cookie.secure &&
    own.sameSite === cookie.sameSite &&
    own.priority === cookie.priority &&
    own.partitioned === cookie.partitioned
  );
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
  if (
    maxAge === null ||
    maxAge === 'session' ||
    (typeof maxAge === 'number' && Number.isFinite(maxAge) && maxAge >= 0)
  ) {
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

export function cookieCarrier(key: string, cookie: Readonly<SessionCookie>): SidCarrier {
  const fixed = identity(cookie);
  const sigName = `${key}.sig`;
  const readSid = cookieReader(key);
  const readSignature = cookieReader(sigName);
  const overwrite = cookie.overwrite !== false;
  const configured = configuredAttributes({ ...cookie, ...fixed });
  // Read only when the configuration leaves `secure` open (unset or null), as in reset().
  const requestSecure = (ctx: Context) => (cookie.secure === undefined || cookie.secure === null) && ctx.secure;

  return {
    read(ctx) {
      const sid = readSid(ctx);
      if (!sid) return ABSENT;
      if (sid.length > MAX_SID_LENGTH) return FORGED;
      if (!fixed.signed) return { kind: 'present', sid };
      // Checked here rather than by `ctx.cookies.get(key, { signed: true })`, which answers a bad
      // signature with undefined (a forged cookie would look like no cookie) and resets `.sig`
      // with path=/ whatever the configured path.
      const sig = readSignature(ctx);
      const keys = ctx.app.keys as unknown;
      const index = sig && keys ? signatureIndex(keys, `${key}=${sid}`, sig) : -1;
      if (index < 0) return FORGED;
      if (index === 0) return { kind: 'present', sid, signature: sig };
      // Signed with an older key of app.keys: the signature is re-sent signed with the newest key in
      // this response, as Koa's `ctx.cookies.get(name, { signed: true })` does, so that removing the
      // old key later logs no one out. A sid the store does not know gets both cookies reset after.
      if (!ctx.headerSent)
        writeCookies(ctx.res, [[sigName, sign(keys, `${key}=${sid}`)]], configured(requestSecure(ctx)), overwrite);
      return { kind: 'present', sid };
    },
    send(ctx, sid, session, reading) {
      if (ctx.headerSent) return;
      // 'session' and null mean a browser-session cookie: no Max-Age, no Expires (README, Options: cookie).
      // `secure: true` is honoured behind a TLS-terminating proxy too (no 500 after the store was
      // written); unset, it follows the request as Koa sees it (`app.proxy`).
      const secure = requestSecure(ctx);
      const attrs = sameAsConfigured(session.cookie, cookie)
        ? configured(secure)
        : attributes({ ...cookie, ...sessionCookieOptions(session.cookie), ...fixed }, secure, false);
      if (!fixed.signed) return writeCookies(ctx.res, [[key, sid]], attrs, overwrite);
      const known = reading.kind === 'present' && reading.sid === sid ? reading.signature : undefined;
      const signature = known ?? sign(ctx.app.keys, `${key}=${sid}`);
      writeCookies(
        ctx.res,
        [
          [key, sid],
          [sigName, signature],
        ],
        attrs,
        overwrite,
      );
    },
    reset(ctx) {
      if (ctx.headerSent) return;
      const attrs = attributes({ ...cookie, ...fixed }, ctx.secure, true);
      writeCookies(
        ctx.res,
        fixed.signed
          ? [
              [key, ''],
              [sigName, ''],
            ]
          : [[key, '']],
        attrs,
        true,
      );
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
