/**
 * Replacing the whole session (`ctx.session = { user }`) keeps it readable on the next
 * request: the cookie is signed like any other, with the configured options, and the store entry
 * gets its TTL.
 *
 * Naive: koa-generic-session saves the replacement as is; it has no `cookie`, so the sid cookie is
 * set with `cookies.set(key, sid, undefined)`: unsigned (no `.sig`), no httpOnly/maxAge, and the
 * store entry gets no TTL. The next request reads the cookie with `signed: true`, finds no `.sig`,
 * and the user is logged out.
 */
import { afterEach, describe, expect, it } from 'vitest';
import Koa from 'koa';
import type { Reply } from '../helpers/http.js';
import { closeApps, startApp } from '../helpers/apps.js';
import { cookieOf } from '../helpers/set-cookies.js';
import { PREFIX } from '../helpers/store-keys.js';
import { RecordingStore } from '../helpers/recording-store.js';

afterEach(closeApps);

const cookie = { path: '/', maxAge: 3_600_000, sameSite: 'strict' as const };

function expectConfiguredCookie(reply: Reply): void {
  const sid = cookieOf(reply, 'koa.sid');
  const sig = cookieOf(reply, 'koa.sid.sig');
  expect(sid?.expired).toBe(false);
  expect(sig?.expired, 'the replacement is signed').toBe(false);
  for (const c of [sid!, sig!]) {
    expect(c.attributes.path).toBe('/');
    expect(c.attributes.httponly).toBe(true);
    expect(c.attributes.samesite).toBe('strict');
    expect(typeof c.attributes.expires).toBe('string');
  }
}

describe('a replaced session stays readable', () => {
  async function start(defer = false) {
    const store = new RecordingStore();
    const server = await startApp(Koa, { store, cookie, defer }, async (ctx) => {
      const current = defer ? await ctx.session : ctx.session;
      switch (ctx.path) {
        case '/replace':
          ctx.session = { user: 'ann' } as never;
          break;
        case '/replace-with-cookie':
          // A replacement that brings its own cookie options may not move or unsign the cookie.
          ctx.session = { user: 'bob', cookie: { path: '/elsewhere', signed: false, domain: 'evil.test' } } as never;
          break;
      }
      ctx.body = { user: (current as { user?: string } | null)?.user ?? null };
    });
    return { store, server };
  }

  it('a new session replaced by { user } is signed, keeps the cookie options and is read back', async () => {
    const { store, server } = await start();
    const client = server.client();
    const reply = await client.get('/replace');
    expect(reply.status).toBe(200);
    expectConfiguredCookie(reply);
    const sid = client.cookie('koa.sid')!;
    const written = store.of('set').at(-1)!;
    expect(written.key).toBe(PREFIX + sid);
    expect(written.ttl).toBe(3_600_000);
    expect((await client.get('/read')).body).toEqual({ user: 'ann' });
    expect(server.errors).toEqual([]);
  });

  it('a loaded session replaced by { user } is read back on the next request', async () => {
    const { server } = await start();
    const client = server.client();
    await client.get('/replace');
    const reply = await client.get('/replace-with-cookie');
    expect(reply.status).toBe(200);
    expect(cookieOf(reply, 'koa.sid')?.attributes.path ?? '/').toBe('/');
    expect(cookieOf(reply, 'koa.sid')?.attributes.domain).toBeUndefined();
    expect((await client.get('/read')).body).toEqual({ user: 'bob' });
  });

  it('a replacement carrying its own cookie options keeps the configured path, domain and signing', async () => {
    const { server } = await start();
    const client = server.client();
    const reply = await client.get('/replace-with-cookie');
    expect(reply.status).toBe(200);
    const sid = cookieOf(reply, 'koa.sid')!;
    expect(sid.attributes.path).toBe('/');
    expect(sid.attributes.domain).toBeUndefined();
    expect(cookieOf(reply, 'koa.sid.sig')?.expired).toBe(false);
    expect((await client.get('/read')).body).toEqual({ user: 'bob' });
  });

  it('with defer, a replacement is read back too', async () => {
    const { server } = await start(true);
    const client = server.client();
    const reply = await client.get('/replace');
    expect(reply.status).toBe(200);
    expectConfiguredCookie(reply);
    expect((await client.get('/read')).body).toEqual({ user: 'ann' });
  });
});
