/**
 * Every cookie that resets or destroys the session carries the configured `path` and
 * `domain`, for `koa.sid` and `koa.sid.sig` alike.
 *
 * Naive: koa-generic-session resets with `ctx.cookies.set(key, null, { expires: new Date(0) })`
 * (path=/ and no domain), and `cookies.get(key, { signed: true })` resets a bad `.sig` with
 * `{ path: '/' }`. A browser keeps the real cookie scoped to /app on example.test, so a logout does
 * not log out.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Reply, SetCookie } from '../helpers/http.js';
import { KOA_VERSIONS } from '../helpers/koa.js';
import { closeApps, startApp } from '../helpers/apps.js';
import { sessionCookies } from '../helpers/set-cookies.js';
import { PREFIX } from '../helpers/store-keys.js';
import { RecordingStore } from '../helpers/recording-store.js';

afterEach(closeApps);

const cookie = { path: '/app', domain: 'example.test' };

/** Every Set-Cookie of the session pair in `reply` is an expired one scoped to /app on example.test. */
function expectScopedResets(reply: Reply): SetCookie[] {
  const resets = sessionCookies(reply).filter((c) => c.expired);
  expect(resets.map((c) => c.name).sort()).toEqual(['koa.sid', 'koa.sid.sig']);
  for (const c of sessionCookies(reply)) {
    expect(c.attributes.path, `${c.name} path`).toBe('/app');
    expect(c.attributes.domain, `${c.name} domain`).toBe('example.test');
  }
  return resets;
}

describe.each(KOA_VERSIONS)('reset and destroy cookies use the configured path and domain ($name)', ({ Koa }) => {
  async function start() {
    const store = new RecordingStore();
    const server = await startApp(Koa, { store, cookie }, async (ctx) => {
      switch (ctx.path) {
        case '/app/login':
          ctx.session!.user = 'ann';
          break;
        case '/app/logout':
          ctx.session = null;
          break;
        case '/app/regenerate':
          await ctx.regenerateSession();
          break;
        default:
          ctx.body = { user: ctx.session?.user ?? null };
          return;
      }
      ctx.body = { ok: true };
    });
    return { store, server, client: server.client() };
  }

  it('the login cookie is scoped as configured (the baseline the resets must match)', async () => {
    const { client } = await start();
    const login = await client.get('/app/login');
    for (const c of sessionCookies(login)) {
      expect(c.expired).toBe(false);
      expect(c.attributes.path).toBe('/app');
      expect(c.attributes.domain).toBe('example.test');
    }
    expect(sessionCookies(login)).toHaveLength(2);
  });

  it('ctx.session = null (logout) expires koa.sid and koa.sid.sig on /app, example.test', async () => {
    const { client, store } = await start();
    await client.get('/app/login');
    const sid = client.cookie('koa.sid')!;
    const logout = await client.get('/app/logout');
    expect(logout.status).toBe(200);
    expectScopedResets(logout);
    expect(store.peek(PREFIX + sid)).toBeUndefined();
  });

  it('regenerateSession() expires the old cookies on /app, example.test', async () => {
    const { client } = await start();
    await client.get('/app/login');
    const reply = await client.get('/app/regenerate');
    expect(reply.status).toBe(200);
    expectScopedResets(reply);
  });

  it('a sid the store does not know is reset on /app, example.test', async () => {
    const { client, store } = await start();
    await client.get('/app/login');
    const sid = client.cookie('koa.sid')!;
    store.inner.destroy(PREFIX + sid);
    const reply = await client.get('/app/read');
    expect(reply.body).toEqual({ user: null });
    expectScopedResets(reply);
  });

  it('a bad signature is reset on /app, example.test (never path=/)', async () => {
    const { client } = await start();
    await client.get('/app/login');
    const sid = client.cookie('koa.sid')!;
    const reply = await client.get('/app/read', { cookie: `koa.sid=${sid}; koa.sid.sig=forged-signature` });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ user: null });
    expectScopedResets(reply);
  });
});
