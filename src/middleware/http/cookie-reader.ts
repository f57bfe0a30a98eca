/**
 * Reads one cookie from the request's Cookie header as Koa's cookies module does, without the
 * Cookies and Keygrip objects `ctx.cookies` builds on each request (test/cookie/differential.test.ts
 * pins it to `Cookies#get`).
 */
import type { Context } from 'koa';

/**
 * A reader of one cookie from the request's Cookie header, exactly as Koa's cookies module reads it
 * (the first `name=` after the start or a `;`, surrounding quotes removed), without the Cookies and
 * Keygrip objects `ctx.cookies` builds on each request.
 */
export function cookieReader(name: string): (ctx: Context) => string | undefined {
  const pattern = new RegExp(`(?:^|;) *${name.replace(/[-[\]{}()*+?.,\\^$|#\s]/g, '\\$&')}=([^;]*)`);
  return (ctx) => {
    const header = ctx.req.headers.cookie;
    if (!header) return undefined;
    const value = pattern.exec(header)?.[1];
    return value !== undefined && value[0] === '"' ? value.slice(1, -1) : value;
  };
}
