/**
 * express-session's `session.regenerate(cb?)` and `session.save(cb?)` on `ctx.session`, which
 * passport ≥ 0.6 calls (the whole koa-passport flow is in test/apps/passport.test.ts):
 * what they do, in both forms, and that they are never data.
 */
import type { Context } from 'koa';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore, type Session } from '../../src/index.js';
import { KOA_VERSIONS } from '../helpers/koa.js';
import { closeApps, startApp } from '../helpers/apps.js';
import { cookieOf } from '../helpers/set-cookies.js';
import { PREFIX } from '../helpers/store-keys.js';

afterEach(closeApps);

const stored = (store: MemoryStore, sid: string | undefined) =>
  store.get(`${PREFIX}${sid}`) as Record<string, unknown> | undefined;

describe.each(KOA_VERSIONS)('session.regenerate() and session.save() ($name)', ({ Koa }) => {
  it('are there, invisible as data: not enumerable, not in JSON, not stored, not a change', async () => {
    const store = new MemoryStore();
    const served = await startApp(Koa, { store }, (ctx) => {
      const s = ctx.session!;
      if (ctx.path === '/set') s.user = 'ann';
      ctx.body = {
        keys: Object.keys(s),
        forIn: (() => {
          const seen: string[] = [];
          for (const k in s) seen.push(k);
          return seen;
        })(),
        json: JSON.stringify(s),
        types: [typeof s.regenerate, typeof s.save],
      };
    });
    const browser = served.client();
    const first = await browser.get('/set');
    expect(first.body.types).toEqual(['function', 'function']);
    expect(first.body.keys).toEqual(['cookie', 'user']);
    expect(first.body.forIn).toEqual(['cookie', 'user']);
    expect(first.body.json).not.toMatch(/regenerate|save/);
    const entry = stored(store, browser.cookie('koa.sid'));
    expect(entry).toBeDefined();
    expect(Object.keys(entry!).sort()).toEqual(['cookie', 'user']);
    // A loaded session that the app only looked at is not rewritten and gets no cookie.
    const again = await browser.get('/');
    expect(again.body.types).toEqual(['function', 'function']);
    expect(cookieOf(again, 'koa.sid')).toBeUndefined();
    expect(served.errors).toEqual([]);
  });

  it('regenerate(cb) issues a new sid, destroys the old entry, and ctx.session is the new object', async () => {
    const store = new MemoryStore();
    const served = await startApp(Koa, { store }, async (ctx) => {
      if (ctx.path === '/login') {
        const before = ctx.session!;
        const oldSid = ctx.sessionId;
        await new Promise<void>((resolve, reject) => {
          before.regenerate((err) => (err ? reject(err as Error) : resolve()));
        });
        const after = ctx.session!;
        after.user = 'ann';
        ctx.body = { oldSid, newSid: ctx.sessionId, same: before === after, afterHasCart: 'cart' in after };
        return;
      }
      ctx.session!.cart = 3;
      ctx.body = { sid: ctx.sessionId };
    });
    const browser = served.client();
    const { body: anon } = await browser.get('/');
    const login = await browser.get('/login');
    expect(login.body.oldSid).toBe(anon.sid);
    expect(login.body.newSid).not.toBe(anon.sid);
    expect(login.body.same).toBe(false);
    expect(login.body.afterHasCart).toBe(false);
    expect(browser.cookie('koa.sid')).toBe(login.body.newSid);
    expect(stored(store, anon.sid)).toBeUndefined();
    expect(stored(store, login.body.newSid)).toMatchObject({ user: 'ann' });
  });

  it('regenerate() and save() without a callback return Promises; save writes before the handler ends', async () => {
    const store = new MemoryStore();
    let seenMidRequest: unknown;
    const served = await startApp(Koa, { store }, async (ctx) => {
      const s = ctx.session!;
      let promise: boolean;
      if (ctx.path === '/regen') {
        const result = s.regenerate();
        promise = result instanceof Promise;
        await result;
        ctx.session!.n = 1;
      } else {
        s.n = ((s.n as number) ?? 0) + 1;
        const result = s.save();
        promise = result instanceof Promise;
        await result;
        seenMidRequest = stored(store, ctx.sessionId)?.n;
      }
      ctx.body = { sid: ctx.sessionId, n: ctx.session!.n, promise };
    });
    const browser = served.client();
    const regen = await browser.get('/regen');
    expect(regen.body.promise).toBe(true);
    expect(stored(store, regen.body.sid)).toMatchObject({ n: 1 });
    const saved = await browser.get('/count');
    expect(saved.body).toEqual({ sid: regen.body.sid, n: 2, promise: true });
    expect(seenMidRequest).toBe(2);
  });

  it('save(cb) calls back with the store error when the write fails', async () => {
    const failing = new MemoryStore();
    // Every way the middleware writes a session fails (a new session goes through compareAndSet).
    failing.set = failing.compareAndSet = () => {
      throw new Error('disk full');
    };
    let callbackError: unknown;
    /** Changes the session and saves it with a callback, which records the error it gets. */
    const saveWithCallback = async (ctx: Context) => {
      ctx.session!.n = 1;
      await new Promise<void>((resolve) => {
        ctx.session!.save((err) => {
          callbackError = err;
          resolve();
        });
      });
      ctx.body = 'ok';
    };
    const served = await startApp(Koa, { store: failing, errorHandler: () => undefined }, saveWithCallback);
    // The app's errorHandler swallowed the error: the callback is called without one.
    expect((await served.client().get('/')).status).toBe(200);
    expect(callbackError).toBeUndefined();

    const rethrowing = await startApp(Koa, { store: failing }, saveWithCallback);
    await rethrowing.client().get('/');
    expect((callbackError as Error).message).toBe('disk full');
  });

  it("data wins: a session's own save or regenerate key is data, stored and read back", async () => {
    const store = new MemoryStore();
    const served = await startApp(Koa, { store }, (ctx) => {
      const s = ctx.session! as Session & Record<string, unknown>;
      if (ctx.path === '/write') (s as Record<string, unknown>).save = 'draft';
      ctx.body = { save: typeof s.save === 'function' ? 'method' : s.save, regenerate: typeof s.regenerate };
    });
    const browser = served.client();
    expect((await browser.get('/write')).body).toEqual({ save: 'draft', regenerate: 'function' });
    expect(stored(store, browser.cookie('koa.sid'))).toMatchObject({ save: 'draft' });
    expect((await browser.get('/read')).body).toEqual({ save: 'draft', regenerate: 'function' });
  });

  it('a replaced session gets them too', async () => {
    const served = await startApp(Koa, {}, (ctx) => {
      ctx.session = { user: 'bob' } as never;
      const s = ctx.session as unknown as Session;
      ctx.body = { types: [typeof s.regenerate, typeof s.save], keys: Object.keys(s) };
    });
    const reply = await served.client().get('/');
    expect(reply.body.types).toEqual(['function', 'function']);
    expect(reply.body.keys).toEqual(['user', 'cookie']);
  });

  it('with defer: true, ctx.session is a Promise and the methods answer with a clear error, not a TypeError', async () => {
    let callbackError: unknown;
    let promiseError: unknown;
    const served = await startApp(Koa, { defer: true }, async (ctx) => {
      const pending = ctx.session as unknown as {
        regenerate(cb?: (err?: unknown) => void): unknown;
        save(): Promise<void>;
      };
      await new Promise<void>((resolve) => {
        pending.regenerate((err) => {
          callbackError = err;
          resolve();
        });
      });
      await pending.save().catch((err: unknown) => (promiseError = err));
      // Once awaited, the session object has them.
      const s = (await ctx.session)!;
      ctx.body = { types: [typeof s.regenerate, typeof s.save] };
    });
    const reply = await served.client().get('/');
    expect(reply.body.types).toEqual(['function', 'function']);
    expect(String(callbackError)).toMatch(/with defer: true, ctx\.session is a Promise.*regenerate/);
    expect(String(promiseError)).toMatch(/defer: true.*save/);
  });
});
