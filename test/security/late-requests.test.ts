/**
 * A late request never logs the user out (a bug express-session users reported as
 * expressjs/session#923 on GitHub). A page fires a login (or a logout) and, in parallel, requests
 * with the old cookie; those that reach the server after the login carry a sid the store no longer
 * knows. koa-generic-session answers them with a reset `Set-Cookie` that expires `koa.sid`: if that
 * response reaches the browser last, the new login cookie is gone. Here the old sid leaves a
 * tombstone (under a key of its own, for `tombstoneTtl`), and a request carrying it gets an empty
 * session, no cookie, and nothing saved, unless it logs in itself. Run on the MemoryStore and
 * RedisStore.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import Koa from 'koa';
import type { SessionNotice, SessionOptions } from '../../src/index.js';
import type { Client, Reply } from '../helpers/http.js';
import { storeKinds, useStoreKind } from '../helpers/store-kinds.js';
import { closeApps, startApp } from '../helpers/apps.js';
import { sessionCookies } from '../helpers/set-cookies.js';
import { PREFIX } from '../helpers/store-keys.js';
import { plainSyncStore } from '../helpers/legacy-stores.js';
import { waitUntil } from '../helpers/wait-until.js';

afterEach(closeApps);

const KINDS = storeKinds(12);

/**
 * /visit puts a cart in the session; /login regenerates it and stores the user (a login);
 * /logout removes it; /touch changes whatever session it has; /relogin regenerates and logs in.
 */
const app = async (ctx: {
  path: string;
  session: Record<string, unknown> | null;
  regenerateSession(): Promise<unknown>;
  body: unknown;
}) => {
  if (ctx.path === '/login' || ctx.path === '/relogin') {
    await ctx.regenerateSession();
    ctx.session!.user = 'ann';
  } else if (ctx.path === '/logout') {
    ctx.session = null;
  } else if (ctx.path === '/visit') {
    ctx.session!.cart = 3;
  } else if (ctx.path === '/touch') {
    ctx.session!.seen = true;
  }
  ctx.body = { user: ctx.session?.user ?? null, cart: ctx.session?.cart ?? null };
};

/** Another tab of the same browser: the same cookies, sent as they are now. */
function snapshot(browser: Client): string {
  return browser.cookieHeader('/');
}

const sidOf = (browser: Client) => browser.cookie('koa.sid')!;

describe.each(KINDS)('late requests ($name)', (kind) => {
  const made = useStoreKind(kind);

  async function start(options: SessionOptions = {}) {
    const notices: SessionNotice[] = [];
    const served = await startApp(
      Koa,
      { store: made.store(), onEvent: (n) => void notices.push(n), ...options },
      app as never,
    );
    return { served, notices, browser: served.client() };
  }

  it('a request with the pre-login cookie that arrives after the login sends no cookie and gets an empty session', async () => {
    const { served, browser } = await start();
    await browser.get('/visit');
    const before = snapshot(browser);
    const oldSid = sidOf(browser);
    const login = await browser.get('/login');
    expect(login.body).toEqual({ user: 'ann', cart: null });
    const newSid = sidOf(browser);
    expect(newSid).not.toBe(oldSid);

    const late = await browser.get('/read', { cookie: before });
    expect(late.status).toBe(200);
    expect(late.body).toEqual({ user: null, cart: null });
    expect(sessionCookies(late)).toEqual([]);
    // The old entry is destroyed as before; the tombstone is an entry of its own.
    expect(await made.raw(PREFIX + oldSid)).toBeUndefined();
    expect(await made.raw(`${PREFIX}retired:${oldSid}`)).toMatchObject({ retired: true });
    // The browser is still logged in.
    expect((await browser.get('/read')).body).toEqual({ user: 'ann', cart: null });
    expect(served.errors).toEqual([]);
  });

  it('a request with the logged-in cookie that arrives after the logout sends no cookie either', async () => {
    const { browser } = await start();
    await browser.get('/login');
    const loggedIn = snapshot(browser);
    const logout = await browser.get('/logout');
    expect(sessionCookies(logout).every((c) => c.expired)).toBe(true);
    const late = await browser.get('/read', { cookie: loggedIn });
    expect(late.body).toEqual({ user: null, cart: null });
    expect(sessionCookies(late)).toEqual([]);
  });

  it('a late request that changes its session saves nothing, sends no cookie, and says so in a notice', async () => {
    const { browser, notices } = await start();
    await browser.get('/visit');
    const before = snapshot(browser);
    await browser.get('/login');
    const keysBefore = (await made.dump()).map(([k]) => k).sort();
    const late = await browser.get('/touch', { cookie: before });
    expect(late.status).toBe(200);
    expect(sessionCookies(late)).toEqual([]);
    expect((await made.dump()).map(([k]) => k).sort()).toEqual(keysBefore);
    expect(notices.filter((n) => n.type === 'late')).toHaveLength(1);
  });

  it('a late request that logs in itself gets its new session saved and its cookie sent', async () => {
    const { browser } = await start();
    await browser.get('/visit');
    const before = snapshot(browser);
    await browser.get('/login');
    const loginSid = sidOf(browser);
    const late: Reply = await browser.get('/relogin', { cookie: before });
    const sent = sessionCookies(late).find((c) => c.name === 'koa.sid');
    expect(sent?.expired).toBe(false);
    expect(await made.raw(PREFIX + sent!.value)).toMatchObject({ user: 'ann' });
    // It never gets the session that replaced the old one.
    expect(sent!.value).not.toBe(loginSid);
  });

  it('a sid the store never issued still gets a fresh session and a reset cookie', async () => {
    const { served } = await start({ cookie: { signed: false } });
    const reply = await served.client().get('/read', { cookie: 'koa.sid=never-issued-sid' });
    expect(reply.body).toEqual({ user: null, cart: null });
    expect(sessionCookies(reply).find((c) => c.name === 'koa.sid')?.expired).toBe(true);
  });

  it('a session destroyed from outside the request (a revocation) leaves no tombstone: its next request is reset', async () => {
    const { served, browser } = await start();
    await browser.get('/login');
    const sid = sidOf(browser);
    const admin = await startApp(Koa, { store: made.store() }, async (ctx) => {
      await ctx.sessionStore.destroy(sid);
      ctx.body = 'revoked';
    });
    await admin.client().get('/');
    expect(await made.raw(`${PREFIX}retired:${sid}`)).toBeUndefined();
    const next = await browser.get('/read');
    expect(next.body).toEqual({ user: null, cart: null });
    expect(sessionCookies(next).find((c) => c.name === 'koa.sid')?.expired).toBe(true);
    expect(served.errors).toEqual([]);
  });

  it('tombstoneTtl: 0 keeps the reference behaviour: the late request resets the cookie', async () => {
    const { browser } = await start({ tombstoneTtl: 0 });
    await browser.get('/visit');
    const before = snapshot(browser);
    const oldSid = sidOf(browser);
    await browser.get('/login');
    expect(await made.raw(`${PREFIX}retired:${oldSid}`)).toBeUndefined();
    const late = await browser.get('/read', { cookie: before });
    expect(sessionCookies(late).find((c) => c.name === 'koa.sid')?.expired).toBe(true);
  });

  it('the tombstone lasts tombstoneTtl: after it, the old sid is a sid the store does not know', async () => {
    const tombstoneTtl = 300;
    const { browser } = await start({ tombstoneTtl });
    await browser.get('/visit');
    const before = snapshot(browser);
    const oldSid = sidOf(browser);
    await browser.get('/login');
    // Waited for by the store itself: the tombstone is there, then gone after its ttl.
    expect(await made.raw(`${PREFIX}retired:${oldSid}`)).toBeDefined();
    await waitUntil(
      async () => (await made.raw(`${PREFIX}retired:${oldSid}`)) === undefined,
      tombstoneTtl + 5_000,
      () => `the tombstone was still there after its ttl (${tombstoneTtl} ms)`,
    );
    const late = await browser.get('/read', { cookie: before });
    expect(sessionCookies(late).find((c) => c.name === 'koa.sid')?.expired).toBe(true);
  });

  it('with hashIds, the tombstone key holds the hash of the sid, never the sid', async () => {
    const { browser } = await start({ hashIds: true });
    await browser.get('/visit');
    const before = snapshot(browser);
    const oldSid = sidOf(browser);
    await browser.get('/login');
    const hash = createHash('sha256').update(oldSid).digest('base64url');
    expect(await made.raw(`${PREFIX}retired:${hash}`)).toMatchObject({ retired: true });
    for (const [key] of await made.dump()) expect(key).not.toContain(oldSid);
    const late = await browser.get('/read', { cookie: before });
    expect(sessionCookies(late)).toEqual([]);
  });
});

describe('a store that cannot write the tombstone', () => {
  it('still logs out: the session is destroyed, the request answers 200, nothing is left unhandled', async () => {
    const inner = plainSyncStore();
    const store = {
      get: (key: string) => inner.get(key),
      destroy: (key: string) => inner.destroy(key),
      set: (key: string, value: unknown, ttl?: number) =>
        key.includes(':retired:') ? Promise.reject(new Error('disk full')) : inner.set(key, value, ttl),
    };
    const served = await startApp(Koa, { store }, app as never);
    const browser = served.client();
    await browser.get('/login');
    const sid = browser.cookie('koa.sid')!;
    const logout = await browser.get('/logout');
    expect(logout.status).toBe(200);
    expect(await inner.get(PREFIX + sid)).toBeUndefined();
    expect(served.errors).toEqual([]);
  });
});
