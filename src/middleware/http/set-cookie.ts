/**
 * Writes `Set-Cookie` headers the way Koa's cookies module does (same attribute order and spelling,
 * `overwrite` dropping earlier headers of the same name), without building its objects and
 * re-validating the configuration on every request: the session cookie is written on every
 * request that saves, and this was a large share of its cost in the profile. The name, path and
 * domain are validated once, when the middleware is created (options.ts).
 */
import type { ServerResponse } from 'node:http';
import type { SessionCookie } from '../../stores/types.js';

// RFC 6265 cookie-octets: what a value may hold without quoting.
const COOKIE_VALUE = /^[\u0021\u0023-\u002b\u002d-\u003a\u003c-\u005b\u005d-\u007e]*$/;

/**
 * `Expires` has a resolution of one second, and every saving request of the same second writes the
 * same date: it is formatted once per second (`toUTCString` was about a µs per request).
 */
let lastSecond = Number.NaN;
let lastDate = '';
function httpDate(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== lastSecond) {
    lastDate = new Date(second * 1000).toUTCString();
    lastSecond = second;
  }
  return lastDate;
}

/** The attributes after `name=value`, for cookie options and the request's `secure`. */
export function attributes(options: SessionCookie, requestSecure: boolean, expired: boolean, now = Date.now()): string {
  let header = '';
  if (options.path) header += `; path=${options.path}`;
  const expires = expired
    ? httpDate(0)
    : typeof options.maxAge === 'number' && options.maxAge
      ? httpDate(now + options.maxAge)
      : options.expires?.toUTCString();
  if (expires) header += `; expires=${expires}`;
  if (options.domain) header += `; domain=${options.domain}`;
  if (options.priority) header += `; priority=${options.priority.toLowerCase()}`;
  const sameSite = options.sameSite;
  if (sameSite) header += `; samesite=${sameSite === true ? 'strict' : sameSite.toLowerCase()}`;
  if (options.secure ?? requestSecure) header += '; secure';
  if (options.httpOnly !== false) header += '; httponly';
  if (options.partitioned) header += '; partitioned';
  return header;
}

/**
 * `attributes(options, secure, false)` for options fixed at start-up, remembered per second of
 * `Expires` and per value of the request's `secure`: most saving requests use the configured
 * options, and then only the date can change, once a second.
 */
export function configuredAttributes(options: SessionCookie): (requestSecure: boolean) => string {
  const maxAge = typeof options.maxAge === 'number' && options.maxAge ? options.maxAge : undefined;
  const made: [second: number, attrs: string][] = [
    [Number.NaN, ''],
    [Number.NaN, ''],
  ];
  return (requestSecure) => {
    const now = Date.now();
    const second = maxAge === undefined ? 0 : Math.floor((now + maxAge) / 1000);
    const slot = made[requestSecure ? 1 : 0]!;
    if (slot[0] !== second) {
      slot[1] = attributes(options, requestSecure, false, now);
      slot[0] = second;
    }
    return slot[1];
  };
}

/** Adds `name=value<attrs>` for each pair, replacing earlier headers of those names when `overwrite`. */
export function writeCookies(
  res: ServerResponse,
  pairs: readonly (readonly [string, string])[],
  attrs: string,
  overwrite: boolean,
): void {
  const current = res.getHeader('Set-Cookie');
  let headers = current === undefined ? [] : Array.isArray(current) ? current : [String(current)];
  if (overwrite && headers.length > 0) {
    headers = headers.filter((h) => !pairs.some(([name]) => h.startsWith(`${name}=`)));
  }
  for (const [name, value] of pairs) {
    if (!COOKIE_VALUE.test(value))
      throw new TypeError(`koa-session-machine: the cookie value for ${name} is not a valid cookie value`);
    headers.push(`${name}=${value}${attrs}`);
  }
  res.setHeader('Set-Cookie', headers);
}
