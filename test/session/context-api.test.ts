/**
 * The context API: ctx.session, ctx.sessionId, ctx.sessionSave, ctx.regenerateSession(),
 * ctx.saveSession() and ctx.sessionStore, as handlers written for koa-generic-session use them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore, type StoredSession } from '../../src/index.js';
import { KOA_VERSIONS } from '../helpers/koa.js';
import { closeApps, counter, startApp } from '../helpers/apps.js';
import { cookieOf } from '../helpers/set-cookies.js';
import { RecordingStore } from '../helpers/recording-store.js';
import { PREFIX } from '../helpers/store-keys.js';

afterEach(closeApps);

describe.each(KOA_VERSIONS)('context API on $name', ({ Koa }) => {
  it('ctx.sessionId is the sid of the session: stable, and the one in the cookie and the store key', async () => {
    const store = new MemoryStore();
    const t = await startApp(Koa, { store }, counter);
    const client = t.client();
    const first = await client.get('/');
    const sid = first.body.sid;
    expect(sid).toMatch(/^[\w-]{32}$/);
    expect(cookieOf(first, 'koa.sid')?.value).toBe(sid);
    expect(store.get(PREFIX + sid)).toMatchObject({ count: 1 });
    expect((await client.get('/')).body).toEqual({ count: 2, sid });
  });

  // Regression: with an async genSid, ctx.sessionId used to read undefined in the handler of a new
  // session. As in the reference, such a sid is generated before next(), so handlers and loggers see it.
  it('ctx.sessionId is known in the handler of a new session even with an async genSid', async () => {
    let n = 0;
    const t = await startApp(
      Koa,
      {
        genSid: async () => {
          await new Promise((resolve) => setImmediate(resolve));
          return `async-sid-${++n}`;
        },
      },
      (ctx) => {
        const seen = ctx.sessionId;
        (ctx.session as StoredSession).user = 'ann';
        ctx.body = { seen: seen ?? null };
      },
    );
    const reply = await t.client().get('/');
    expect(cookieOf(reply, 'koa.sid')?.value).toBe('async-sid-1');
    expect(reply.body).toEqual({ seen: 'async-sid-1' });
  });

  it('ctx.sessionSave is null by default and reflects what the handler set', async () => {
    const t = await startApp(Koa, {}, (ctx) => {
      const before = ctx.sessionSave;
      ctx.sessionSave = ctx.path === '/true';
      ctx.body = { before, after: ctx.sessionSave };
      ctx.sessionSave = null;
    });
    expect((await t.client().get('/true')).body).toEqual({ before: null, after: true });
    expect((await t.client().get('/false')).body).toEqual({ before: null, after: false });
  });

  it('regenerateSession() and saveSession() are functions returning promises', async () => {
    const t = await startApp(Koa, {}, async (ctx) => {
      const saved = ctx.saveSession();
      const regenerated = ctx.regenerateSession();
      ctx.body = { saved: saved instanceof Promise, regenerated: regenerated instanceof Promise };
      await Promise.all([saved, regenerated]);
    });
    expect((await t.client().get('/')).body).toEqual({ saved: true, regenerated: true });
  });

  it('regenerateSession() gives ctx.sessionId the new sid right away', async () => {
    const store = new MemoryStore();
    const t = await startApp(Koa, { store }, async (ctx) => {
      if (ctx.path === '/regen') {
        const before = ctx.sessionId;
        await ctx.regenerateSession();
        (ctx.session as StoredSession).fresh = true;
        ctx.body = { before, after: ctx.sessionId };
        return;
      }
      return counter(ctx, async () => undefined);
    });
    const client = t.client();
    const sid = (await client.get('/')).body.sid;
    const reply = await client.get('/regen');
    expect(reply.body.before).toBe(sid);
    expect(reply.body.after).not.toBe(sid);
    expect(reply.body.after).toMatch(/^[\w-]{32}$/);
    expect(cookieOf(reply, 'koa.sid')?.value).toBe(reply.body.after);
    expect(store.get(PREFIX + reply.body.after)).toMatchObject({ fresh: true });
  });

  it('ctx.session = { ... } replaces the session; it is saved and read back with its cookie options', async () => {
    const store = new MemoryStore();
    const t = await startApp(Koa, { store, cookie: { sameSite: 'strict', maxAge: 120_000 } }, (ctx) => {
      if (ctx.path === '/login') ctx.session = { user: 'ann' } as never;
      const s = ctx.session as StoredSession;
      ctx.body = { user: s.user ?? null, count: s.count ?? null, sid: ctx.sessionId };
    });
    const client = t.client();
    await client.get('/');
    const before = await client.get('/login');
    expect(before.body.user).toBe('ann');
    const c = cookieOf(before, 'koa.sid')!;
    expect(c.attributes.samesite).toBe('strict');
    expect(cookieOf(before, 'koa.sid.sig')).toBeDefined();
    expect(store.get(PREFIX + before.body.sid)).toEqual({
      user: 'ann',
      cookie: expect.objectContaining({ maxAge: 120_000 }),
    });
    expect((await client.get('/')).body).toEqual({ user: 'ann', count: null, sid: before.body.sid });
  });

  it('ctx.session = { ... } on a loaded session drops the old fields under the same sid', async () => {
    const store = new MemoryStore();
    const t = await startApp(Koa, { store }, (ctx) => {
      if (ctx.path === '/replace') {
        ctx.session = { user: 'bob' } as never;
        ctx.body = 'replaced';
        return;
      }
      return counter(ctx, async () => undefined);
    });
    const client = t.client();
    const sid = (await client.get('/')).body.sid;
    await client.get('/replace');
    expect(store.get(PREFIX + sid)).toMatchObject({ user: 'bob' });
    expect(store.get(PREFIX + sid)).not.toHaveProperty('count');
  });

  it('after ctx.session = null, ctx.session reads null', async () => {
    const t = await startApp(Koa, {}, (ctx) => {
      ctx.session = null;
      ctx.body = { session: ctx.session };
    });
    expect((await t.client().get('/')).body).toEqual({ session: null });
  });

  it('ctx.session refuses a value that is not a plain object or null', async () => {
    const store = new RecordingStore();
    const t = await startApp(Koa, { store }, (ctx) => {
      const results: string[] = [];
      for (const value of ['string', 42, ['array'], new Date()]) {
        try {
          ctx.session = value as never;
          results.push('accepted');
        } catch (err) {
          results.push((err as Error).constructor.name);
        }
      }
      ctx.body = results;
    });
    const reply = await t.client().get('/');
    expect(reply.body).toEqual(['TypeError', 'TypeError', 'TypeError', 'TypeError']);
    expect(store.writes()).toEqual([]);
  });

  it('ctx.sessionStore is set on every request, outside cookie.path too', async () => {
    const store = new MemoryStore();
    store.set('koa:sess:known', { cookie: {}, who: 'known' });
    const t = await startApp(Koa, { store, cookie: { path: '/api' } }, async (ctx) => {
      ctx.body = { found: ((await ctx.sessionStore.get('known')) as StoredSession | undefined)?.who ?? null };
    });
    expect((await t.client().get('/elsewhere')).body).toEqual({ found: 'known' });
    expect((await t.client().get('/api/x')).body).toEqual({ found: 'known' });
  });

  it('outside cookie.path, ctx.session and ctx.sessionSave are plain properties, as in the reference', async () => {
    const store = new RecordingStore();
    const t = await startApp(Koa, { store, cookie: { path: '/api' } }, (ctx) => {
      if (ctx.path.startsWith('/api')) return counter(ctx, async () => undefined);
      ctx.session = { local: true } as never;
      ctx.sessionSave = true;
      ctx.body = { session: ctx.session, save: ctx.sessionSave };
    });
    const client = t.client();
    // Before and after the API was first installed by a request under the path.
    expect((await client.get('/home')).body).toEqual({ session: { local: true }, save: true });
    await client.get('/api/x');
    store.reset();
    const reply = await client.get('/home');
    expect(reply.body).toEqual({ session: { local: true }, save: true });
    expect(reply.setCookies).toEqual([]);
    expect(store.calls).toEqual([]);
  });
});
