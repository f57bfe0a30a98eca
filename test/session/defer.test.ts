/**
 * SPEC §3 `defer`: `ctx.session` is a promise-returning getter and the store is read only when the
 * session is first used. The rules of §4 hold in this mode too; on Koa 2 and Koa 3.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { StoredSession } from '../../src/index.js';
import {
  closeAll,
  cookieOf,
  KOA_VERSIONS,
  plainPromiseStore,
  RecordingStore,
  startApp,
  type Handler,
} from '../helpers/apps.js';

afterEach(closeAll);

const PREFIX = 'koa:sess:';

const routes: Handler = async (ctx) => {
  switch (ctx.path) {
    case '/none':
      ctx.body = 'unused';
      return;
    case '/inc': {
      const s = (await ctx.session) as StoredSession;
      s.count = ((s.count as number) ?? 0) + 1;
      ctx.body = { count: s.count, sid: ctx.sessionId };
      return;
    }
    case '/read': {
      const s = (await ctx.session) as StoredSession;
      ctx.body = { count: s.count ?? null, sid: ctx.sessionId };
      return;
    }
    case '/logout':
      ctx.session = null;
      ctx.body = { session: await ctx.session };
      return;
    case '/replace':
      ctx.session = { user: 'zoe' } as never;
      ctx.body = 'replaced';
      return;
    case '/regen': {
      await ctx.regenerateSession();
      const s = (await ctx.session) as StoredSession;
      s.user = 'new';
      ctx.body = { sid: ctx.sessionId, keys: Object.keys(s).sort() };
      return;
    }
    case '/save-now': {
      const s = (await ctx.session) as StoredSession;
      s.saved = 'early';
      await ctx.saveSession();
      ctx.set('x-stored', String(((await ctx.sessionStore.get(ctx.sessionId!)) as StoredSession | undefined)?.saved));
      ctx.redirect('/next');
      return;
    }
    case '/skip': {
      const s = (await ctx.session) as StoredSession;
      s.count = 1000;
      ctx.sessionSave = false;
      ctx.body = 'skipped';
      return;
    }
    case '/twice': {
      const [a, b] = await Promise.all([ctx.session, ctx.session]);
      ctx.body = { same: a === b, defined: a !== undefined && a !== null };
      return;
    }
  }
  ctx.status = 404;
};

describe.each(KOA_VERSIONS)('defer on $name', ({ Koa }) => {
  it('keeps a session across requests through `await ctx.session`', async () => {
    const store = new RecordingStore();
    const t = await startApp(Koa, { store, defer: true }, routes);
    const client = t.client();
    const sid = (await client.get('/inc')).body.sid;
    expect(sid).toMatch(/^[\w-]{32}$/);
    expect((await client.get('/inc')).body).toEqual({ count: 2, sid });
    expect(store.inner.get(PREFIX + sid)).toMatchObject({ count: 2 });
  });

  it('never reads or writes the store when the session is not used', async () => {
    const store = new RecordingStore();
    const t = await startApp(Koa, { store, defer: true, rolling: true }, routes);
    const client = t.client();
    await client.get('/inc');
    store.reset();
    const reply = await client.get('/none');
    expect(reply.text).toBe('unused');
    expect(reply.setCookies).toEqual([]);
    expect(store.calls).toEqual([]);
  });

  it('reads the store once, and concurrent reads get the same session', async () => {
    const store = new RecordingStore();
    const t = await startApp(Koa, { store, defer: true }, routes);
    const client = t.client();
    await client.get('/inc');
    store.reset();
    expect((await client.get('/twice')).body).toEqual({ same: true, defined: true });
    expect(store.of('get')).toHaveLength(1);
    expect(store.writes()).toEqual([]);
  });

  it('works with a Promise store', async () => {
    const store = plainPromiseStore();
    const t = await startApp(Koa, { store, defer: true }, routes);
    const client = t.client();
    const sid = (await client.get('/inc')).body.sid;
    expect((await client.get('/inc')).body).toEqual({ count: 2, sid });
    expect(JSON.parse(store.data.get(PREFIX + sid)!)).toMatchObject({ count: 2 });
  });

  it('ctx.session = null destroys a loaded session and expires both cookies', async () => {
    const store = new RecordingStore();
    const t = await startApp(Koa, { store, defer: true }, routes);
    const client = t.client();
    const sid = (await client.get('/inc')).body.sid;
    const reply = await client.get('/logout');
    expect(reply.body).toEqual({ session: null });
    expect(cookieOf(reply, 'koa.sid')?.expired).toBe(true);
    expect(cookieOf(reply, 'koa.sid.sig')?.expired).toBe(true);
    expect(store.of('destroy').map((c) => c.key)).toEqual([PREFIX + sid]);
    expect(store.inner.get(PREFIX + sid)).toBeUndefined();
  });

  it('ctx.session = { ... } without a read first replaces the loaded session under its sid', async () => {
    const store = new RecordingStore();
    const t = await startApp(Koa, { store, defer: true }, routes);
    const client = t.client();
    const sid = (await client.get('/inc')).body.sid;
    await client.get('/replace');
    const stored = store.inner.get(PREFIX + sid)!;
    expect(stored.user).toBe('zoe');
    expect(stored).not.toHaveProperty('count');
    // Never a key built from an undefined sid.
    expect(store.calls.map((c) => c.key).filter((k) => k.includes('undefined'))).toEqual([]);
  });

  it('ctx.session = { ... } on a request without a cookie saves under a new sid', async () => {
    const store = new RecordingStore();
    const t = await startApp(Koa, { store, defer: true }, routes);
    const reply = await t.client().get('/replace');
    const sid = cookieOf(reply, 'koa.sid')?.value;
    expect(sid).toMatch(/^[\w-]{32}$/);
    expect(store.inner.get(PREFIX + sid)).toMatchObject({ user: 'zoe' });
    expect(store.calls.map((c) => c.key).filter((k) => k.includes('undefined'))).toEqual([]);
  });

  it('regenerateSession() destroys the old entry and saves the new session under a new sid', async () => {
    const store = new RecordingStore();
    const t = await startApp(Koa, { store, defer: true }, routes);
    const client = t.client();
    const old = (await client.get('/inc')).body.sid;
    const reply = await client.get('/regen');
    expect(reply.body.keys).toEqual(['cookie', 'user']);
    expect(reply.body.sid).not.toBe(old);
    expect(cookieOf(reply, 'koa.sid')?.value).toBe(reply.body.sid);
    expect(store.inner.get(PREFIX + old)).toBeUndefined();
    expect(store.inner.get(PREFIX + reply.body.sid)).toMatchObject({ user: 'new' });
  });

  it('saveSession() writes before the handler goes on', async () => {
    const store = new RecordingStore();
    const t = await startApp(Koa, { store, defer: true }, routes);
    const reply = await t.client().get('/save-now');
    expect(reply.status).toBe(302);
    expect(reply.headers.get('x-stored')).toBe('early');
    expect(cookieOf(reply, 'koa.sid')?.value).toMatch(/^[\w-]{32}$/);
    expect(store.writes()).toHaveLength(1);
  });

  it('ctx.sessionSave = false suppresses the write', async () => {
    const store = new RecordingStore();
    const t = await startApp(Koa, { store, defer: true }, routes);
    const client = t.client();
    const sid = (await client.get('/inc')).body.sid;
    store.reset();
    const reply = await client.get('/skip');
    expect(reply.setCookies).toEqual([]);
    expect(store.writes()).toEqual([]);
    expect(store.inner.get(PREFIX + sid)).toMatchObject({ count: 1 });
  });

  it('rolling refreshes only the sessions a request used', async () => {
    const store = new RecordingStore();
    const t = await startApp(Koa, { store, defer: true, rolling: true }, routes);
    const client = t.client();
    const sid = (await client.get('/inc')).body.sid;
    store.reset();
    const used = await client.get('/read');
    expect(cookieOf(used, 'koa.sid')?.value).toBe(sid);
    expect(store.writes().map((c) => c.method)).toEqual(['touch']);
    store.reset();
    const unused = await client.get('/none');
    expect(unused.setCookies).toEqual([]);
    expect(store.calls).toEqual([]);
  });

  it('a store get failure rejects `await ctx.session`, through errorHandler, and is reported once', async () => {
    const store = plainPromiseStore();
    const failure = new Error('read failed');
    const t = await startApp(Koa, { store, defer: true }, routes);
    const client = t.client();
    await client.get('/inc');
    store.get = () => Promise.reject(failure);
    const reply = await client.get('/read');
    expect(reply.status).toBe(500);
    expect(t.errors[0]).toBe(failure);
    expect(failure.name).toBe('koa-generic-session get error');
    // The handler's `await ctx.session` and the commit both meet the failed load; the app hears of
    // it once, as the reference reports it.
    expect(t.errors).toEqual([failure]);
    // A request that never uses the session does not touch the failing store.
    expect((await client.get('/none')).status).toBe(200);
  });
});
