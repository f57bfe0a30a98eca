/**
 * koa-passport 6 (passport's session manager, passport-local, @koa/router, @koa/bodyparser) over
 * real HTTP, on the MemoryStore and on Redis, on Koa 2 and 3. Passport calls express-session's
 * `req.session.regenerate(cb)` at login and `save(cb)` then `regenerate(cb)` at logout: login must
 * issue a new sid (session fixation defence), logout must leave the logged-in cookie dead, and the
 * methods must never become session data. koa-csrf's secret, kept in the session, follows login's
 * `keepSessionInfo`.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Client, listen, type Listening, type Reply } from '../helpers/http.js';
import { KOA_VERSIONS } from '../helpers/koa.js';
import { cookieOf } from '../helpers/set-cookies.js';
import { PREFIX } from '../helpers/store-keys.js';
import { describeEachStore } from '../helpers/store-kinds.js';
import { formPost } from './fixtures/form.js';
import { createPassportApp, PASSWORD, USER, type PassportApp } from './fixtures/passport-app.js';

const CREDENTIALS = { username: USER.username, password: PASSWORD };

/** The session cookie's value a reply set, failing when it set none. */
function sidSetBy(reply: Reply): string {
  const set = cookieOf(reply, 'koa.sid');
  expect(set, 'the reply sets the session cookie').toBeDefined();
  expect(set!.expired).toBe(false);
  return set!.value;
}

describeEachStore('koa-passport', 15, ({ store }) => {
  const stored = async (sid: string) => (await store().get(PREFIX + sid)) as Record<string, unknown> | undefined;

  for (const { name, Koa } of KOA_VERSIONS) {
    describe(name, () => {
      let served: PassportApp;
      let server: Listening;
      beforeAll(async () => {
        served = createPassportApp(Koa, { store: store() });
        server = await listen(served.app);
      });
      afterAll(() => server.close());
      afterEach(() => {
        // Every step of these flows is a success or a 401/302 the app sets itself: no error at all.
        expect(served.errors.splice(0).map((e) => e.stack)).toEqual([]);
      });

      /** A browser that put a cart in an anonymous session; its sid and its cookies then. */
      async function anonymousWithCart() {
        const client = new Client(server.url);
        const cart = await client.get('/cart');
        expect(cart.status).toBe(200);
        const sid = sidSetBy(cart);
        expect((await stored(sid))?.cart).toEqual(['apple']);
        return { client, sid, cookie: client.cookieHeader('/') };
      }

      async function logIn(client: Client, path = '/login') {
        const reply = await client.request(path, formPost(CREDENTIALS));
        expect(reply.status).toBe(302);
        expect(reply.headers.get('location')).toBe('/');
        return { sid: sidSetBy(reply), cookie: client.cookieHeader('/') };
      }

      it('login redirects to / with a new sid, and the user is logged in afterwards', async () => {
        const before = await anonymousWithCart();
        const after = await logIn(before.client);
        expect(after.sid).not.toBe(before.sid);
        const me = await before.client.get('/me');
        expect(me.status).toBe(200);
        expect(me.body).toEqual({ user: USER });
        expect((await stored(after.sid))?.passport).toEqual({ user: USER.id });
      });

      it('the pre-login cookie is not logged in, and its entry is gone (session fixation defence)', async () => {
        const before = await anonymousWithCart();
        await logIn(before.client);
        expect((await before.client.get('/me', { cookie: before.cookie })).status).toBe(401);
        expect(await stored(before.sid)).toBeUndefined();
      });

      it('without keepSessionInfo, pre-login data is gone after login', async () => {
        const before = await anonymousWithCart();
        const after = await logIn(before.client);
        const sess = await before.client.get('/session');
        expect(sess.body.data.cart).toBeUndefined();
        expect(sess.body.data.passport).toEqual({ user: USER.id });
        expect((await stored(after.sid))?.cart).toBeUndefined();
      });

      it('with keepSessionInfo: true, pre-login data is kept, under the new sid only', async () => {
        const before = await anonymousWithCart();
        const after = await logIn(before.client, '/login/keep');
        expect(after.sid).not.toBe(before.sid);
        const sess = await before.client.get('/session');
        expect(sess.body.data.cart).toEqual(['apple']);
        expect(sess.body.data.passport).toEqual({ user: USER.id });
        expect((await stored(after.sid))?.cart).toEqual(['apple']);
        expect(await stored(before.sid)).toBeUndefined();
        expect((await before.client.get('/me', { cookie: before.cookie })).status).toBe(401);
      });

      it('a wrong password redirects to /login and logs nobody in', async () => {
        const { client } = await anonymousWithCart();
        const reply = await client.request('/login', formPost({ ...CREDENTIALS, password: 'guess' }));
        expect(reply.status).toBe(302);
        expect(reply.headers.get('location')).toBe('/login');
        expect((await client.get('/me')).status).toBe(401);
      });

      it('logout answers 200, logs the user out, and the logged-in cookie is dead afterwards', async () => {
        const { client } = await anonymousWithCart();
        const loggedIn = await logIn(client);
        expect((await client.get('/me')).status).toBe(200);

        const out = await client.request('/logout', { method: 'POST' });
        expect(out.status).toBe(200);
        expect(out.body).toEqual({ loggedOut: true });
        expect((await client.get('/me')).status).toBe(401);
        // A copy of the logged-in cookie (a stolen one, another tab) no longer logs anyone in.
        expect((await client.get('/me', { cookie: loggedIn.cookie })).status).toBe(401);
        expect(await stored(loggedIn.sid)).toBeUndefined();
      });

      it('the session has regenerate() and save(), but they are never data: not stored, not in its keys or JSON', async () => {
        const { client } = await anonymousWithCart();
        const { sid } = await logIn(client);
        const entry = await stored(sid);
        expect(entry).toBeDefined();
        expect(Object.keys(entry!)).not.toContain('save');
        expect(Object.keys(entry!)).not.toContain('regenerate');

        const sess = await client.get('/session');
        expect(sess.body.save).toBe('function');
        expect(sess.body.regenerate).toBe('function');
        expect(sess.body.keys).toEqual(expect.not.arrayContaining(['save', 'regenerate']));
        expect(Object.keys(sess.body.data)).toEqual(sess.body.keys);
      });

      it('a koa-csrf token of the anonymous session is refused after login; with keepSessionInfo it passes', async () => {
        for (const [path, status] of [
          ['/login', 403],
          ['/login/keep', 200],
        ] as const) {
          const client = new Client(server.url);
          const token = (await client.get('/form')).body.csrf as string;
          expect((await client.request('/form', formPost({ _csrf: token }))).status).toBe(200);
          await logIn(client, path);
          expect((await client.request('/form', formPost({ _csrf: token }))).status, path).toBe(status);
          // A form rendered after login carries a token that passes.
          const fresh = (await client.get('/form')).body.csrf as string;
          expect((await client.request('/form', formPost({ _csrf: fresh }))).status).toBe(200);
        }
        // Only koa-csrf's refusal was reported.
        expect(served.errors.splice(0).map((e) => (e as Error & { status?: number }).status)).toEqual([403]);
      });

      it('session data of its own named `save` is kept as data, stored and read back', async () => {
        const client = new Client(server.url);
        const draft = await client.get('/draft');
        expect(draft.status).toBe(200);
        const sid = sidSetBy(draft);
        expect((await stored(sid))?.save).toBe('draft');

        const sess = await client.get('/session');
        expect(sess.body.data.save).toBe('draft');
        expect(sess.body.save).toBe('string');
        expect(sess.body.keys).toContain('save');
        // The other method is still there.
        expect(sess.body.regenerate).toBe('function');
      });
    });

    describe(`${name}, defer: true`, () => {
      let served: PassportApp;
      let server: Listening;
      beforeAll(async () => {
        served = createPassportApp(Koa, { store: store(), defer: true });
        server = await listen(served.app);
      });
      afterAll(() => server.close());

      it('login fails with an error that names defer (ctx.session is a Promise, which passport cannot use)', async () => {
        const client = new Client(server.url);
        const reply = await client.request('/login', formPost(CREDENTIALS));
        expect(reply.status).toBe(500);
        expect(served.errors).toHaveLength(1);
        expect(served.errors[0]!.message).toMatch(/defer: true/);
        expect((await client.get('/me')).status).toBe(401);
      });
    });
  }
});
