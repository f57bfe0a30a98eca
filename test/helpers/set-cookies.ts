/**
 * Reading the Set-Cookie headers of a reply, as a browser would apply them.
 */
import { expect } from 'vitest';
import type { Reply, SetCookie } from './http.js';

/** The Set-Cookie header for `name` in a reply, if any (the last one wins, as in a browser). */
export function cookieOf(reply: Reply, name: string): SetCookie | undefined {
  return reply.setCookies.filter((c) => c.name === name).at(-1);
}

/** The names of the cookies a reply sets (expired ones included). */
export function cookieNames(reply: Reply): string[] {
  return reply.setCookies.map((c) => c.name);
}

/** The Set-Cookie headers of the session cookie and its signature. */
export function sessionCookies(reply: Reply, key = 'koa.sid'): SetCookie[] {
  return reply.setCookies.filter((c) => c.name === key || c.name === `${key}.sig`);
}

/** Checks that the reply expires the session cookie and its `.sig` (a reset), the cookie's value emptied. */
export function expectResetCookies(reply: Reply, key = 'koa.sid'): void {
  for (const name of [key, `${key}.sig`]) {
    const c = cookieOf(reply, name);
    expect(c, `a Set-Cookie for ${name}`).toBeDefined();
    expect(c!.expired, `${name} expired`).toBe(true);
  }
  expect(cookieOf(reply, key)!.value).toBe('');
}
