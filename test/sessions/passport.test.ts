/**
 * koa-passport 6 with `owner: (s) => s.passport?.user` (the app of test/apps, plus routes of
 * `ctx.sessions`), on the MemoryStore, Redis and a Redis Cluster: passport's login (regenerate, then
 * save) puts the new session in the user's index and leaves the anonymous one out; revokeOthers
 * after a "password change" logs every other browser of the user out; passport's logout (save, then
 * regenerate) takes the session out of the index.
 */
import Koa from 'koa';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { SessionInfo } from '../../src/index.js';
import { handleOf } from '../../src/sessions/handle.js';
import { Client, listen, type Listening } from '../helpers/http.js';
import { cookieOf } from '../helpers/set-cookies.js';
import { formPost } from '../apps/fixtures/form.js';
import { createPassportApp, PASSWORD, USER, type PassportApp } from '../apps/fixtures/passport-app.js';
import { describeEachIndexedStore } from './fixtures/stores.js';

let suites = 0;

describeEachIndexedStore('koa-passport with owner', 10, ({ store }) => {
  // The fixture has one user: suites that share a Redis Cluster keep apart by their prefix.
  const prefix = `koa:sess:passport-${++suites}:`;
  let served: PassportApp;
  let server: Listening;
  beforeAll(async () => {
    served = createPassportApp(Koa, { store: store(), prefix, owner: (s) => s.passport?.user });
    // After passport's routes: the sessions of whoever is logged in.
    served.app.use(async (ctx, next) => {
      if (ctx.path === '/sessions') ctx.body = await ctx.sessions.list();
      else if (ctx.path === '/password' && ctx.method === 'POST') {
        // A password change: every other browser of the user is logged out.
        ctx.body = { revoked: await ctx.sessions.revokeOthers() };
      } else await next();
    });
    server = await listen(served.app);
  });
  afterAll(() => server.close());
  afterEach(() => {
    expect(served.errors.splice(0).map((e) => e.stack)).toEqual([]);
  });

  async function logIn(client: Client): Promise<string> {
    const reply = await client.request('/login', formPost({ username: USER.username, password: PASSWORD }));
    expect(reply.status).toBe(302);
    return client.cookie('koa.sid')!;
  }

  const handles = (list: SessionInfo[]) => list.map((s) => [s.handle, s.current]);

  it('a login then revokeOthers logs the other browsers out, end to end; logout takes the session out', async () => {
    const phone = new Client(server.url);
    const laptop = new Client(server.url);
    // The laptop had an anonymous session before login (a cart): it never enters the index.
    expect((await laptop.get('/cart')).status).toBe(200);
    const anonymous = laptop.cookie('koa.sid')!;
    const phoneSid = await logIn(phone);
    const laptopSid = await logIn(laptop);
    expect(laptopSid).not.toBe(anonymous);
    const handle = (sid: string) => handleOf(prefix + sid);

    expect(handles((await laptop.get('/sessions')).body)).toEqual([
      [handle(laptopSid), true],
      [handle(phoneSid), false],
    ]);
    expect(await new Client(server.url).get('/sessions').then((r) => r.body)).toEqual([]);

    expect((await laptop.request('/password', { method: 'POST' })).body).toEqual({ revoked: 1 });
    const phoneMe = await phone.get('/me');
    expect(phoneMe.status).toBe(401);
    expect(cookieOf(phoneMe, 'koa.sid')?.expired, 'the revoked browser gets its cookie reset').toBe(true);
    expect(await store().get(prefix + phoneSid)).toBeUndefined();
    expect((await laptop.get('/me')).body).toEqual({ user: USER });
    expect(handles((await laptop.get('/sessions')).body)).toEqual([[handle(laptopSid), true]]);

    // passport's logout: save without the user, then regenerate.
    expect((await laptop.request('/logout', { method: 'POST' })).status).toBe(200);
    expect((await laptop.get('/me')).status).toBe(401);
    expect(await laptop.get('/sessions').then((r) => r.body)).toEqual([]);
    const relogin = new Client(server.url);
    const sid = await logIn(relogin);
    expect(handles((await relogin.get('/sessions')).body)).toEqual([[handle(sid), true]]);
  });
});
