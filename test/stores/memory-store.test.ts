/**
 * The embedded MemoryStore, the default store: it expires entries at their TTL, is bounded in size,
 * hands out copies (so a change a handler made but did not save never shows in the next request),
 * has update() and touch() as capabilities, revives Dates, and warns once when it is the default in
 * production. Each behaviour is tested on the store itself and, where an app can see it, through
 * the middleware over HTTP. A fake clock drives expiry: no sleeping.
 *
 * Naive: koa-generic-session's MemoryStore is `this.sessions[sid] = sess`: it ignores the TTL
 * (entries live for ever), grows without bound (one entry per client, a memory leak a crawler
 * fills), and returns the very object it stored, so `ctx.session.x = 1; ctx.sessionSave = false`
 * still changes what the next request reads.
 */
import Koa from 'koa';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryStore, type StoredSession } from '../../src/index.js';
import { closeApps, startApp } from '../helpers/apps.js';
import { PREFIX } from '../helpers/store-keys.js';

afterEach(() => {
  vi.restoreAllMocks();
  return closeApps();
});

/** A clock a test moves by hand, for the store's `now` option. */
function clock(start = 1_000_000) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => void (now += ms),
  };
}

const sess = (fields: Record<string, unknown> = {}): StoredSession => ({ cookie: { path: '/' }, ...fields });

type Sess = Record<string, unknown>;

/**
 * A counter app over `store`: `/read` only reads, `/unsaved` changes the session and suppresses the
 * save, `/keep` keeps the object it saved; any other path counts.
 */
async function counterApp(store: MemoryStore, options: { ttl?: number } = {}) {
  let kept: Sess | undefined;
  const server = await startApp(Koa, { store, ...options }, (ctx) => {
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

describe('MemoryStore', () => {
  describe('storing and reading', () => {
    it('stores and returns sessions; a missing key gives undefined; destroy and clear remove', () => {
      const store = new MemoryStore();
      expect(store.get('nope')).toBeUndefined();
      store.set('a', sess({ n: 1 }), 1000);
      store.set('b', sess({ n: 2 }));
      expect(store.get('a')).toEqual(sess({ n: 1 }));
      expect(store.size).toBe(2);
      store.destroy('a');
      expect(store.get('a')).toBeUndefined();
      expect(store.get('b')).toEqual(sess({ n: 2 }));
      store.clear();
      expect(store.size).toBe(0);
      expect(store.get('b')).toBeUndefined();
    });

    it('gives cookie.expires back as a Date', () => {
      const store = new MemoryStore();
      const expires = new Date('2031-02-03T04:05:06.789Z');
      store.set('k', { cookie: { path: '/', expires, maxAge: 1000 }, n: 1 });
      const got = store.get('k')!;
      expect(got.cookie.expires).toBeInstanceOf(Date);
      expect(got.cookie.expires!.getTime()).toBe(expires.getTime());
      expect(got.cookie.maxAge).toBe(1000);
    });

    it('is the default store: the middleware works without a store option', async () => {
      const server = await startApp(Koa, undefined, (ctx) => {
        const s = ctx.session as Sess;
        s.n = ((s.n as number | undefined) ?? 0) + 1;
        ctx.body = { n: s.n };
      });
      const client = server.client();
      expect((await client.get('/')).body).toEqual({ n: 1 });
      expect((await client.get('/')).body).toEqual({ n: 2 });
    });
  });

  describe('expiry', () => {
    it('keeps an entry until its TTL and drops it at the TTL', () => {
      const c = clock();
      const store = new MemoryStore({ now: c.now });
      store.set('k', sess({ n: 1 }), 1000);
      c.advance(999);
      expect(store.get('k')).toEqual(sess({ n: 1 }));
      c.advance(1);
      expect(store.get('k')).toBeUndefined();
      expect(store.size).toBe(0);
    });

    it('an entry without a TTL does not expire', () => {
      const c = clock();
      const store = new MemoryStore({ now: c.now });
      store.set('k', sess(), undefined);
      c.advance(10 * 365 * 24 * 3600 * 1000);
      expect(store.get('k')).toEqual(sess());
    });

    it('a rewrite sets a new expiry', () => {
      const c = clock();
      const store = new MemoryStore({ now: c.now });
      store.set('k', sess({ v: 1 }), 1000);
      c.advance(800);
      store.set('k', sess({ v: 2 }), 1000);
      c.advance(800);
      expect(store.get('k')).toEqual(sess({ v: 2 }));
      c.advance(200);
      expect(store.get('k')).toBeUndefined();
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
      const server = await startApp(Koa, { store, cookie: { maxAge: 60_000 } }, (ctx) => {
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
  });

  describe('size bound', () => {
    it('evicts the least recently written entry when full', () => {
      const store = new MemoryStore({ maxEntries: 3 });
      store.set('a', sess());
      store.set('b', sess());
      store.set('c', sess());
      store.get('a'); // reading does not make an entry recent: the order is by write
      store.set('d', sess());
      expect(store.size).toBeLessThanOrEqual(3);
      expect(store.get('a')).toBeUndefined();
      expect(['b', 'c', 'd'].map((k) => store.get(k) !== undefined)).toEqual([true, true, true]);
    });

    it('a rewrite makes an entry the most recently written', () => {
      const store = new MemoryStore({ maxEntries: 3 });
      store.set('a', sess());
      store.set('b', sess());
      store.set('c', sess());
      store.set('a', sess({ again: true }));
      store.set('d', sess());
      expect(store.get('b')).toBeUndefined();
      expect(store.get('a')).toEqual(sess({ again: true }));
      expect(store.get('d')).toBeDefined();
    });

    it('sweeps expired entries before evicting live ones', () => {
      const c = clock();
      const store = new MemoryStore({ maxEntries: 3, now: c.now });
      store.set('short', sess(), 100);
      store.set('b', sess());
      store.set('c', sess());
      c.advance(100);
      store.set('d', sess());
      expect(['b', 'c', 'd'].map((k) => store.get(k) !== undefined)).toEqual([true, true, true]);
      expect(store.size).toBe(3);
    });

    it('never holds more than maxEntries, and always the most recent writes', () => {
      const store = new MemoryStore({ maxEntries: 10 });
      for (let i = 0; i < 1000; i++) {
        store.set(`k${i}`, sess({ i }));
        expect(store.size).toBeLessThanOrEqual(10);
      }
      for (let i = 990; i < 1000; i++) expect(store.get(`k${i}`)).toEqual(sess({ i }));
      expect(store.get('k0')).toBeUndefined();
      expect(store.get('k989')).toBeUndefined();
    });

    it('refuses a maxEntries that is not a positive integer', () => {
      for (const maxEntries of [0, -1, 1.5, Number.NaN]) {
        expect(() => new MemoryStore({ maxEntries })).toThrow(TypeError);
      }
      expect(new MemoryStore().maxEntries).toBe(100_000);
    });

    it('the default bound is finite', () => {
      expect(Number.isFinite(new MemoryStore().maxEntries)).toBe(true);
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
  });

  describe('copies in and out', () => {
    it('a change to the object passed to set() does not reach the store', () => {
      const store = new MemoryStore();
      const s = sess({ user: { name: 'ann' }, list: [1] });
      store.set('k', s);
      (s.user as { name: string }).name = 'mallory';
      (s.list as number[]).push(2);
      s.extra = true;
      expect(store.get('k')).toEqual(sess({ user: { name: 'ann' }, list: [1] }));
    });

    it('a change to what get() returned does not reach the store', () => {
      const store = new MemoryStore();
      store.set('k', sess({ user: { name: 'ann' } }));
      const first = store.get('k')!;
      (first.user as { name: string }).name = 'mallory';
      first.cookie.path = '/evil';
      const second = store.get('k')!;
      expect(second).not.toBe(first);
      expect(second).toEqual(sess({ user: { name: 'ann' } }));
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
  });

  describe('update()', () => {
    it('writes only a key that exists, and says whether it did', () => {
      const c = clock();
      const store = new MemoryStore({ now: c.now });
      expect(store.update('missing', sess({ v: 1 }), 1000)).toBe(false);
      expect(store.get('missing')).toBeUndefined();
      expect(store.size).toBe(0);

      store.set('k', sess({ v: 1 }), 1000);
      c.advance(900);
      expect(store.update('k', sess({ v: 2 }), 1000)).toBe(true);
      expect(store.get('k')).toEqual(sess({ v: 2 }));
      c.advance(900); // the update set a new expiry
      expect(store.get('k')).toEqual(sess({ v: 2 }));
    });

    it('does not bring back an expired or destroyed entry', () => {
      const c = clock();
      const store = new MemoryStore({ now: c.now });
      store.set('expired', sess(), 100);
      store.set('destroyed', sess());
      store.destroy('destroyed');
      c.advance(100);
      expect(store.update('expired', sess({ back: true }), 1000)).toBe(false);
      expect(store.update('destroyed', sess({ back: true }), 1000)).toBe(false);
      expect(store.get('expired')).toBeUndefined();
      expect(store.get('destroyed')).toBeUndefined();
    });
  });

  describe('touch()', () => {
    it('refreshes the expiry of an existing key without changing its value', () => {
      const c = clock();
      const store = new MemoryStore({ now: c.now });
      store.set('k', sess({ v: 1 }), 1000);
      c.advance(900);
      expect(store.touch('k', 1000)).toBe(true);
      c.advance(900);
      expect(store.get('k')).toEqual(sess({ v: 1 }));
      c.advance(100);
      expect(store.get('k')).toBeUndefined();
    });

    it('returns false for a missing or expired key and creates nothing', () => {
      const c = clock();
      const store = new MemoryStore({ now: c.now });
      expect(store.touch('missing', 1000)).toBe(false);
      store.set('k', sess(), 100);
      c.advance(100);
      expect(store.touch('k', 1000)).toBe(false);
      expect(store.get('k')).toBeUndefined();
      expect(store.size).toBe(0);
    });
  });

  describe('as the default store in production', () => {
    const env = process.env.NODE_ENV;
    afterEach(() => {
      process.env.NODE_ENV = env;
    });

    it('warns once per process with NODE_ENV=production, and not for a store of the app’s or outside production', async () => {
      vi.resetModules();
      const fresh = (await import('../../src/index.js')).default;
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
      process.env.NODE_ENV = 'development';
      fresh();
      process.env.NODE_ENV = 'production';
      fresh({ store: new MemoryStore() });
      expect(warn).not.toHaveBeenCalled();
      fresh();
      fresh();
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0])).toMatch(/MemoryStore: in this process only, lost on restart/);
    });
  });
});
