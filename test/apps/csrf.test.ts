/**
 * koa-csrf 5 over real HTTP, on the MemoryStore and on Redis, on Koa 2 and 3: its secret lives in
 * the session, so a token handed out by a GET must pass on the next POST of the same session, and
 * only there.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Client, listen, type Listening } from '../helpers/http.js';
import { KOA_VERSIONS } from '../helpers/koa.js';
import { PREFIX } from '../helpers/store-keys.js';
import { createCsrfApp, type CsrfApp } from './fixtures/csrf-app.js';
import { describeEachStore } from '../helpers/store-kinds.js';
import { formPost } from './fixtures/form.js';

describeEachStore('koa-csrf', 14, ({ store }) => {
  for (const { name, Koa } of KOA_VERSIONS) {
    describe(name, () => {
      let served: CsrfApp;
      let server: Listening;
      beforeAll(async () => {
        served = createCsrfApp(Koa, { store: store() });
        server = await listen(served.app);
      });
      afterAll(() => server.close());
      afterEach(() => {
        // koa-csrf refuses with ctx.throw(403), which Koa reports; nothing else may be reported.
        expect(
          served.errors
            .splice(0)
            .filter((e) => e.status !== 403)
            .map((e) => e.stack),
        ).toEqual([]);
      });

      /** A browser that loaded the form: its client and the token the form carries. */
      async function loadForm() {
        const client = new Client(server.url);
        const form = await client.get('/form');
        expect(form.status).toBe(200);
        expect(form.body.csrf).toEqual(expect.any(String));
        return { client, token: form.body.csrf as string };
      }

      it('the secret is kept in the stored session, and only the token goes to the browser', async () => {
        const { client, token } = await loadForm();
        const stored = await store().get(PREFIX + client.cookie('koa.sid')!);
        expect(stored?.secret).toEqual(expect.any(String));
        expect(token).not.toContain(stored!.secret);
      });

      it('a POST with the token in the form passes', async () => {
        const { client, token } = await loadForm();
        const reply = await client.request('/transfer', formPost({ _csrf: token }));
        expect(reply.status).toBe(200);
        expect(reply.body).toEqual({ transferred: true });
      });

      it('a POST with the token in a header passes, and the token works again on a later POST', async () => {
        const { client, token } = await loadForm();
        for (let i = 0; i < 2; i++) {
          const reply = await client.request('/transfer', { method: 'POST', headers: { 'x-csrf-token': token } });
          expect(reply.status).toBe(200);
        }
      });

      it('a POST without a token gets 403', async () => {
        const { client } = await loadForm();
        const reply = await client.request('/transfer', formPost({ amount: '100' }));
        expect(reply.status).toBe(403);
        expect(reply.text).toBe('Invalid CSRF token');
      });

      it('a POST with a bad token gets 403', async () => {
        const { client, token } = await loadForm();
        const reply = await client.request(
          '/transfer',
          formPost({ _csrf: `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}` }),
        );
        expect(reply.status).toBe(403);
      });

      it("a POST with another session's token gets 403", async () => {
        const mine = await loadForm();
        const theirs = await loadForm();
        const reply = await mine.client.request('/transfer', formPost({ _csrf: theirs.token }));
        expect(reply.status).toBe(403);
        // …while the token passes in the session it was made for.
        expect((await theirs.client.request('/transfer', formPost({ _csrf: theirs.token }))).status).toBe(200);
      });
    });

    describe(`${name}, defer: true`, () => {
      let served: CsrfApp;
      let server: Listening;
      beforeAll(async () => {
        served = createCsrfApp(Koa, { store: store(), defer: true });
        server = await listen(served.app);
      });
      afterAll(() => server.close());

      it('koa-csrf cannot work: it reads its secret from ctx.session, a Promise there, and the form fails with 500', async () => {
        const reply = await new Client(server.url).get('/form');
        expect(reply.status).toBe(500);
        expect(served.errors).toHaveLength(1);
      });
    });
  }
});
