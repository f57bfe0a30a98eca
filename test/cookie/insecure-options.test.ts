/**
 * Cookie security: the defaults a security review asks for. The session cookie is
 * HttpOnly and SameSite=Lax unless the app says otherwise; `secure` follows the request protocol as
 * Koa sees it (`app.proxy` + X-Forwarded-Proto); `cookie.secure: true` behind a TLS-terminating
 * proxy without `app.proxy` does not turn into a 500; `sameSite: 'none'` or `partitioned` without
 * `secure: true` is refused when the middleware is created.
 *
 * Naive: koa-generic-session sets no SameSite; with `secure: true` and `app.proxy` off behind a
 * proxy, `cookies` throws 'Cannot send secure cookie over unencrypted connection' after the store
 * was written (a 500 on every login); `sameSite: 'none'` without `secure` is accepted and every
 * modern browser silently drops the cookie.
 */
import { afterEach, describe, expect, it } from 'vitest';
import Koa from 'koa';
import session, { type SessionOptions } from '../../src/index.js';
import type { Reply } from '../helpers/http.js';
import { KOA_VERSIONS } from '../helpers/koa.js';
import { closeApps, startApp } from '../helpers/apps.js';
import { cookieOf, sessionCookies } from '../helpers/set-cookies.js';

afterEach(closeApps);

type Sess = Record<string, unknown>;

describe.each(KOA_VERSIONS)('session cookie security ($name)', ({ Koa }) => {
  async function start(options: SessionOptions = {}, proxy = false) {
    const server = await startApp(
      Koa,
      options,
      (ctx) => {
        if (ctx.path === '/logout') ctx.session = null;
        else (ctx.session as Sess).user = 'ann';
        ctx.body = { secure: ctx.secure };
      },
      { proxy },
    );
    return server;
  }

  function live(reply: Reply) {
    const cookies = sessionCookies(reply).filter((c) => !c.expired);
    expect(cookies.map((c) => c.name).sort()).toEqual(['koa.sid', 'koa.sid.sig']);
    return cookies;
  }

  it('defaults: HttpOnly and SameSite=Lax, not Secure over plain HTTP', async () => {
    const server = await start();
    const reply = await server.client().get('/login');
    expect(reply.status).toBe(200);
    for (const c of live(reply)) {
      expect(c.attributes.httponly, c.name).toBe(true);
      expect(c.attributes.samesite, c.name).toBe('lax');
      expect(c.attributes.secure, c.name).toBeUndefined();
    }
  });

  it("the app's sameSite and httpOnly choices are kept", async () => {
    const server = await start({ cookie: { sameSite: 'strict', httpOnly: false } });
    const reply = await server.client().get('/login');
    const sid = cookieOf(reply, 'koa.sid')!;
    expect(sid.attributes.samesite).toBe('strict');
    expect(sid.attributes.httponly).toBeUndefined();
  });

  it('app.proxy = true and X-Forwarded-Proto: https: the cookie is Secure', async () => {
    const server = await start({}, true);
    const reply = await server.client().get('/login', { headers: { 'x-forwarded-proto': 'https' } });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ secure: true });
    for (const c of live(reply)) expect(c.attributes.secure, c.name).toBe(true);
  });

  it('cookie.secure: null follows the request like unset, when saving and when resetting', async () => {
    const server = await start({ cookie: { secure: null as unknown as boolean } }, true);
    const client = server.client();
    const https = { headers: { 'x-forwarded-proto': 'https' } };
    for (const c of live(await client.get('/login', https))) expect(c.attributes.secure, c.name).toBe(true);
    const logout = await client.get('/logout', https);
    const reset = sessionCookies(logout).filter((c) => c.expired);
    expect(reset.map((c) => c.name).sort()).toEqual(['koa.sid', 'koa.sid.sig']);
    for (const c of reset) expect(c.attributes.secure, c.name).toBe(true);
    for (const c of live(await server.client().get('/login'))) expect(c.attributes.secure, c.name).toBeUndefined();
  });

  it('X-Forwarded-Proto: https without app.proxy is not trusted: not Secure', async () => {
    const server = await start({}, false);
    const reply = await server.client().get('/login', { headers: { 'x-forwarded-proto': 'https' } });
    expect(reply.body).toEqual({ secure: false });
    for (const c of live(reply)) expect(c.attributes.secure, c.name).toBeUndefined();
  });

  it('cookie.secure: true behind a TLS-terminating proxy without app.proxy: no 500, the cookie is sent Secure', async () => {
    const server = await start({ cookie: { secure: true } }, false);
    const client = server.client();
    const login = await client.get('/login', { headers: { 'x-forwarded-proto': 'https' } });
    expect(login.status).toBe(200);
    for (const c of live(login)) expect(c.attributes.secure, c.name).toBe(true);

    // The jar replays the cookie: the next request loads it, a logout resets it, all without a 500.
    const again = await client.get('/login');
    expect(again.status).toBe(200);
    const logout = await client.get('/logout');
    expect(logout.status).toBe(200);
    const resets = sessionCookies(logout).filter((c) => c.expired);
    expect(resets.map((c) => c.name).sort()).toEqual(['koa.sid', 'koa.sid.sig']);
    for (const c of resets) expect(c.attributes.secure, c.name).toBe(true);

    // A forged cookie is reset on the request it arrives with, again without a 500.
    const forged = await server.client().get('/login', { cookie: 'koa.sid=abc; koa.sid.sig=bad' });
    expect(forged.status).toBe(200);
    expect(server.errors).toEqual([]);
  });
});

describe('insecure cookie options are refused at creation', () => {
  it.each([
    ["sameSite: 'none'", { sameSite: 'none' as const }, /sameSite: 'none'.*secure/],
    ["sameSite: 'none', secure: false", { sameSite: 'none' as const, secure: false }, /sameSite: 'none'.*secure/],
    ['partitioned: true', { partitioned: true }, /partitioned.*secure/],
  ])('%s without secure: true is a TypeError naming the fix', (_label, cookie, message) => {
    expect(() => session({ cookie })).toThrow(TypeError);
    expect(() => session({ cookie })).toThrow(message);
  });

  it('with secure: true they are accepted and sent', async () => {
    const server = await startApp(
      Koa,
      { cookie: { sameSite: 'none', partitioned: true, secure: true } },
      (ctx) => {
        (ctx.session as Sess).user = 'ann';
        ctx.body = {};
      },
      { proxy: true },
    );
    const reply = await server.client().get('/', { headers: { 'x-forwarded-proto': 'https' } });
    const sid = cookieOf(reply, 'koa.sid')!;
    expect(sid.attributes.samesite).toBe('none');
    expect(sid.attributes.partitioned).toBe(true);
    expect(sid.attributes.secure).toBe(true);
  });
});
