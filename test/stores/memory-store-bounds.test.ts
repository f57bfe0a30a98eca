/**
 * SPEC §5.7: the default MemoryStore expires entries at their TTL, is bounded in size, and hands out
 * copies, so a change a handler made but did not save never shows in the next request.
 *
 * Naive: koa-generic-session's MemoryStore is `this.sessions[sid] = sess`: it ignores the TTL
 * (entries live for ever), grows without bound (one entry per client, a memory leak a crawler
 * fills), and returns the very object it stored, so `ctx.session.x = 1; ctx.sessionSave = false`
 * still changes what the next request reads.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/index.js';
import { closeServers, PREFIX, serve } from '../helpers/stores.js';

afterEach(closeServers);

type Sess = Record<string, unknown>;

/** A counter app over `store`; `/peek-unsaved` changes the session and suppresses the save. */
async function counterApp(store: MemoryStore, options: { ttl?: number } = {}) {
  let kept: Sess | undefined;
  const server = await serve({ store, ...options }, (ctx) => {
    const s = ctx.session as Sess;
    if (ctx.path === '/unsaved') {
      s.count = 999;
      s.secret = 'not saved';
      ctx.sessionSave = false;
    } else if (ctx.path === '/keep') {
      // The handler keeps a reference to the object it saved and changes it after the response.
      s.count = ((s.count as number | undefined) ?? 0) + 1;
      kept = s;
    } else if (ctx.path !== '/read') {
      s.count = ((s.count as number | undefined) ?? 0) + 1;
    }
    ctx.body = { count: s.count ?? 0, secret: s.secret ?? null };
  });
  return { server, kept: () => kept };
}

describe('the default MemoryStore expires, is bounded and copies', () => {
  it('is the default store: the middleware works without a store option', async () => {
    const server = await serve(undefined, (ctx) => {
      const s = ctx.session as Sess;
      s.n = ((s.n as number | undefined) ?? 0) + 1;
      ctx.body = { n: s.n };
    });
    const client = server.client();
    expect((await client.get('/')).body).toEqual({ n: 1 });
    expect((await client.get('/')).body).toEqual({ n: 2 });
  });

  it('an entry expires at its TTL (clock injected, no sleeping)', async () => {
    let now = 1_000_000;
    const store = new MemoryStore({ now: () => now });
    const { server } = await counterApp(store, { ttl: 1000 });
    const client = server.client();
    expect((await client.get('/inc')).body.count).toBe(1);
    const sid = client.cookie('koa.sid')!;

    now += 999; // just before the TTL: still there (and rewritten, so due at +1999)
    expect((await client.get('/inc')).body.count).toBe(2);

    now += 999; // 1 ms before the new due time; an unmodified read does not extend it
    expect((await client.get('/read')).body.count).toBe(2);

    now += 1; // due: gone
    expect(store.get(PREFIX + sid)).toBeUndefined();
    const reply = await client.get('/read');
    expect(reply.body.count).toBe(0);
    expect(client.cookie('koa.sid')).toBeUndefined(); // the unknown sid was reset
  });

  it('the TTL comes from cookie.maxAge when no ttl is set', async () => {
    let now = 5_000_000;
    const store = new MemoryStore({ now: () => now });
    const server = await serve({ store, cookie: { maxAge: 60_000 } }, (ctx) => {
      (ctx.session as Sess).user = 'ann';
      ctx.body = {};
    });
    const client = server.client();
    await client.get('/');
    const key = PREFIX + client.cookie('koa.sid')!;
    now += 59_999;
    expect(store.get(key)).toMatchObject({ user: 'ann' });
    now += 1;
    expect(store.get(key)).toBeUndefined();
  });

  it('is bounded: never more than maxEntries, the least recently written go first', async () => {
    const store = new MemoryStore({ maxEntries: 10 });
    const { server } = await counterApp(store);
    const clients = Array.from({ length: 40 }, () => server.client());
    for (const client of clients) await client.get('/inc');
    expect(store.size).toBeLessThanOrEqual(10);
    // The most recent client still has its session, the first one lost it.
    expect((await clients.at(-1)!.get('/inc')).body.count).toBe(2);
    expect((await clients[0]!.get('/inc')).body.count).toBe(1);
    expect(store.size).toBeLessThanOrEqual(10);
  });

  it('the default bound is finite', () => {
    expect(Number.isFinite(new MemoryStore().maxEntries)).toBe(true);
  });

  it('an unsaved change (sessionSave = false) does not leak into the next request', async () => {
    const store = new MemoryStore();
    const { server } = await counterApp(store);
    const client = server.client();
    expect((await client.get('/inc')).body.count).toBe(1);
    expect((await client.get('/unsaved')).body).toEqual({ count: 999, secret: 'not saved' });
    expect((await client.get('/read')).body).toEqual({ count: 1, secret: null });
  });

  it('a saved object changed after the response does not change the store', async () => {
    const store = new MemoryStore();
    const { server, kept } = await counterApp(store);
    const client = server.client();
    await client.get('/keep');
    kept()!.count = 42;
    kept()!.secret = 'after the fact';
    expect((await client.get('/read')).body).toEqual({ count: 1, secret: null });
  });

  it('get hands out a copy and set takes one (store API)', () => {
    const store = new MemoryStore();
    const session = { cookie: {}, list: [1] };
    store.set('k', session, 1000);
    session.list.push(2);
    const first = store.get('k')!;
    expect(first.list).toEqual([1]);
    (first.list as number[]).push(3);
    expect(store.get('k')!.list).toEqual([1]);
    expect(store.get('k')).not.toBe(store.get('k'));
  });
});
