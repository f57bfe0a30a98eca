/**
 * Which sid a request runs under, on Koa 2 and Koa 3: a sid from the cookie is adopted only when
 * the store knows it, its signature is valid and `valid()` accepts the session; anything else gets
 * a fresh session under a new sid and the old cookie reset. An earlier middleware may set
 * `ctx.sessionId` to force the sid.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/index.js';
import { KOA_VERSIONS } from '../helpers/koa.js';
import { closeApps, counter, startApp } from '../helpers/apps.js';
import { cookieOf, expectResetCookies } from '../helpers/set-cookies.js';
import { PREFIX } from '../helpers/store-keys.js';
import { routes } from './fixtures/routes.js';

afterEach(closeApps);

describe.each(KOA_VERSIONS)('sid adoption on $name', ({ Koa }) => {
  describe('a sid is never adopted unless the store knows it, it is signed and valid', () => {
    it('a sid the store does not know gives a fresh session under a new sid', async () => {
      const store = new MemoryStore();
      const t = await startApp(Koa, { store }, routes);
      const client = t.client();
      const old = (await client.get('/inc')).body.sid;
      store.destroy(PREFIX + old);
      const reply = await client.get('/inc');
      expect(reply.body.count).toBe(1);
      expect(reply.body.sid).not.toBe(old);
      expect(cookieOf(reply, 'koa.sid')?.value).toBe(reply.body.sid);
      expect(store.get(PREFIX + old)).toBeUndefined();
      expect(store.get(PREFIX + reply.body.sid)).toMatchObject({ count: 1 });
    });

    it('an unknown sid on a request that saves nothing gets its cookie reset', async () => {
      const store = new MemoryStore();
      const t = await startApp(Koa, { store }, routes);
      const client = t.client();
      const old = (await client.get('/inc')).body.sid;
      store.destroy(PREFIX + old);
      const reply = await client.get('/read');
      expect(reply.body.count).toBeNull();
      expect(reply.body.sid).not.toBe(old);
      expectResetCookies(reply);
      expect(client.cookie('koa.sid')).toBeUndefined();
    });

    it('a bad signature gives a fresh session under a new sid, leaving the real one alone', async () => {
      const store = new MemoryStore();
      const t = await startApp(Koa, { store }, routes);
      const victim = await t.client().get('/inc');
      const sid = victim.body.sid;
      const sig = cookieOf(victim, 'koa.sid.sig')!.value;
      const forged = `koa.sid=${sid}; koa.sid.sig=${sig.slice(1)}x`;
      const reply = await t.client().get('/inc', { cookie: forged });
      expect(reply.body.count).toBe(1);
      expect(reply.body.sid).not.toBe(sid);
      expect(cookieOf(reply, 'koa.sid')?.value).toBe(reply.body.sid);
      expect(store.get(PREFIX + sid)).toMatchObject({ count: 1 });

      const untouched = await t.client().get('/read', { cookie: forged });
      expect(untouched.body.count).toBeNull();
      expectResetCookies(untouched);

      const unsigned = await t.client().get('/read', { cookie: `koa.sid=${sid}` });
      expect(unsigned.body.count).toBeNull();
      expect(unsigned.body.sid).not.toBe(sid);
      expectResetCookies(unsigned);
    });

    it('valid() returning false gives a fresh session under a new sid, and the old cookie is reset', async () => {
      const store = new MemoryStore();
      const t = await startApp(Koa, { store, valid: (_ctx, s) => s.count !== 2 }, routes);
      const client = t.client();
      const sid = (await client.get('/inc')).body.sid;
      expect((await client.get('/inc')).body).toEqual({ count: 2, sid });
      const reply = await client.get('/read');
      expect(reply.body.count).toBeNull();
      expect(reply.body.sid).not.toBe(sid);
      expectResetCookies(reply);
    });
  });

  describe('the valid option', () => {
    it('is called with ctx and the loaded session; false gives a fresh session with a new sid', async () => {
      const store = new MemoryStore();
      const seen: unknown[] = [];
      const t = await startApp(
        Koa,
        {
          store,
          valid: (ctx, sess) => {
            seen.push([ctx.path, sess.count]);
            return ctx.get('user-agent') !== 'other';
          },
        },
        counter,
      );
      const client = t.client();
      const sid = (await client.get('/one')).body.sid;
      expect(seen).toEqual([]); // a new session is not validated
      expect((await client.get('/two')).body).toEqual({ count: 2, sid });
      const reply = await client.get('/three', { headers: { 'user-agent': 'other' } });
      expect(reply.body.count).toBe(1);
      expect(reply.body.sid).not.toBe(sid);
      expect(cookieOf(reply, 'koa.sid')?.value).toBe(reply.body.sid);
      expect(seen).toEqual([
        ['/two', 1],
        ['/three', 2],
      ]);
      // The refused session is not overwritten: it is simply not adopted.
      expect(store.get(`koa:sess:${sid}`)).toMatchObject({ count: 2 });
    });
  });

  describe('ctx.sessionId set by a handler', () => {
    for (const cleared of [undefined, null, '']) {
      it(`${JSON.stringify(cleared) ?? 'undefined'} is refused with an error that says what to do, and nothing is stored or sent without a sid`, async () => {
        const store = new MemoryStore();
        const t = await startApp(Koa, { store }, (ctx) => {
          const s = ctx.session as Record<string, unknown>;
          s.count = 1;
          (ctx as { sessionId: unknown }).sessionId = cleared;
          ctx.body = 'cleared';
        });
        const client = t.client();
        const reply = await client.get('/');
        expect(reply.status).toBe(500);
        expect(t.errors.map((e) => e.message).join('\n')).toMatch(
          /ctx\.sessionId cannot be cleared.*regenerateSession/,
        );
        // The request still ends its session (as after any handler error), under the sid it had.
        expect(cookieOf(reply, 'koa.sid')?.value).not.toBe('undefined');
        expect(store.get(`${PREFIX}undefined`)).toBeUndefined();
        expect(store.get(`${PREFIX}`)).toBeUndefined();
      });
    }

    it('a sid set while an async genSid is still running is the one stored and sent', async () => {
      const store = new MemoryStore();
      const t = await startApp(Koa, { store, defer: true, genSid: async () => 'generated-sid' }, async (ctx) => {
        // Reading the sid of a deferred session that has none starts the app's genSid.
        const before = ctx.sessionId ?? null;
        ctx.sessionId = 'chosen-sid';
        const s = (await (ctx.session as unknown as Promise<Record<string, unknown>>)) ?? {};
        s.count = 1;
        ctx.body = { before, sid: ctx.sessionId };
      });
      const reply = await t.client().get('/');
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({ before: null, sid: 'chosen-sid' });
      expect(cookieOf(reply, 'koa.sid')?.value).toBe('chosen-sid');
      expect(store.get(`${PREFIX}chosen-sid`)).toMatchObject({ count: 1 });
      expect(store.get(`${PREFIX}generated-sid`)).toBeUndefined();
    });
  });

  describe('ctx.sessionId set by an earlier middleware', () => {
    it('forces the sid that is loaded and saved, on the first request and later ones', async () => {
      const store = new MemoryStore();
      store.set(`${PREFIX}forced-sid`, { cookie: { path: '/' }, count: 41 });
      const t = await startApp(Koa, { store }, routes, {
        before: [
          (ctx, next) => {
            const forced = ctx.get('x-forced-sid');
            if (forced) ctx.sessionId = forced;
            return next();
          },
        ],
      });
      for (const expected of [42, 43]) {
        const reply = await t.client().get('/inc', { headers: { 'x-forced-sid': 'forced-sid' } });
        expect(reply.body).toEqual({ count: expected, sid: 'forced-sid' });
        expect(cookieOf(reply, 'koa.sid')?.value).toBe('forced-sid');
        expect(store.get(`${PREFIX}forced-sid`)).toMatchObject({ count: expected });
      }
      // Without the header, a request gets its own session.
      const own = await t.client().get('/inc');
      expect(own.body.count).toBe(1);
      expect(own.body.sid).not.toBe('forced-sid');
    });
  });
});
