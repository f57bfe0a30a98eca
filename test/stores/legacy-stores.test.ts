/**
 * Thunk and generator stores (the co / Koa 1 era) either work or are refused when the
 * middleware is created, with a message that says why; never a silent misbehaviour.
 *
 * Naive: koa-generic-session 2 does `yield store.get(key)` inside a Promise-based runner, which
 * resolves a thunk (a function) or a generator object as the value itself: the "session" is a
 * function or a generator, `store.set` is never actually run (the returned thunk or generator is
 * never called/iterated), and the app sees sessions vanish without any error.
 */
import { afterEach, describe, expect, it } from 'vitest';
import Koa from 'koa';
import session, { type SessionStore } from '../../src/index.js';
import { closeApps, startApp } from '../helpers/apps.js';
import { isSessionKey, PREFIX, sessionKeys } from '../helpers/store-keys.js';
import { thunkStore } from '../helpers/legacy-stores.js';

afterEach(closeApps);

type Sess = Record<string, unknown>;

const noop = () => undefined;

describe('thunk stores work, generator stores are refused at creation', () => {
  describe('generator stores are refused when the middleware is created', () => {
    const cases: [string, Record<string, unknown>][] = [
      ['get is a generator function', { *get() {}, set: noop, destroy: noop }],
      ['set is a generator function', { get: noop, *set() {}, destroy: noop }],
      ['destroy is a generator function', { get: noop, set: noop, *destroy() {} }],
      ['an optional method (touch) is a generator function', { get: noop, set: noop, destroy: noop, *touch() {} }],
      ['the add capability is a generator function', { get: noop, set: noop, destroy: noop, *add() {} }],
      ['the lock capability is a generator function', { get: noop, set: noop, destroy: noop, *lock() {} }],
      [
        'the compareAndSet capability is a generator function',
        { get: noop, set: noop, destroy: noop, getVersioned: noop, *compareAndSet() {} },
      ],
      [
        'an owner index method is a generator function',
        { get: noop, set: noop, destroy: noop, indexAdd: noop, *indexRemove() {}, indexList: noop },
      ],
      ['get is an async generator function', { async *get() {}, set: noop, destroy: noop }],
    ];
    it.each(cases)('%s', (_label, store) => {
      expect(() => session({ store: store as unknown as SessionStore })).toThrow(TypeError);
      expect(() => session({ store: store as unknown as SessionStore })).toThrow(/generator/i);
    });

    it("regenerator-compiled generators (constructor.displayName 'GeneratorFunction') too", () => {
      function GeneratorFunction() {}
      GeneratorFunction.displayName = 'GeneratorFunction';
      const compiled = function get() {};
      Object.setPrototypeOf(compiled, { constructor: GeneratorFunction });
      expect(() => session({ store: { get: compiled, set: noop, destroy: noop } as unknown as SessionStore })).toThrow(
        /generator/i,
      );
    });

    it('a store missing a method is refused with its name', () => {
      expect(() => session({ store: { get: noop, set: noop } as unknown as SessionStore })).toThrow(/destroy/);
    });
  });

  describe.each([
    { label: 'synchronous callbacks', async: false },
    { label: 'asynchronous callbacks', async: true },
  ])('a thunk store works end to end ($label)', ({ async }) => {
    async function start() {
      const store = thunkStore({ async });
      const server = await startApp(Koa, { store }, async (ctx) => {
        const s = ctx.session as Sess | null;
        if (ctx.path === '/inc') s!.count = ((s!.count as number | undefined) ?? 0) + 1;
        if (ctx.path === '/logout') ctx.session = null;
        if (ctx.path === '/regenerate') {
          await ctx.regenerateSession();
          (ctx.session as Sess).count = 10;
        }
        ctx.body = { count: (ctx.session as Sess | null)?.count ?? null };
      });
      return { store, server };
    }

    it('counts, regenerates and logs out, with the TTL passed to set', async () => {
      const { store, server } = await start();
      const client = server.client();
      expect((await client.get('/inc')).body).toEqual({ count: 1 });
      expect((await client.get('/inc')).body).toEqual({ count: 2 });
      const sid = client.cookie('koa.sid')!;
      expect(JSON.parse(store.data.get(PREFIX + sid)!)).toMatchObject({ count: 2 });

      expect((await client.get('/regenerate')).body).toEqual({ count: 10 });
      const newSid = client.cookie('koa.sid')!;
      expect(newSid).not.toBe(sid);
      expect(store.data.has(PREFIX + sid)).toBe(false);
      expect((await client.get('/inc')).body).toEqual({ count: 11 });

      expect((await client.get('/logout')).status).toBe(200);
      expect(sessionKeys(store.data)).toEqual([]);
      expect((await client.get('/read')).body).toEqual({ count: null });

      // Session writes only: the logout's and the regeneration's tombstones are entries of their own.
      const sets = store.calls.filter((c) => c.method === 'set' && isSessionKey(c.key));
      expect(sets.length).toBe(4);
      for (const c of sets) expect(c.ttl).toBe(86_400_000);
      expect(server.errors).toEqual([]);
    });

    it("a thunk's error reaches errorHandler with its type", async () => {
      const store = thunkStore({ async });
      const seen: string[] = [];
      store.get = () => (cb: (err: unknown) => void) => cb(new Error('get broke'));
      const server = await startApp(
        Koa,
        { store, errorHandler: (err, type) => void seen.push(`${type}: ${err.message}`) },
        (ctx) => {
          (ctx.session as Sess).x = 1;
          ctx.body = {};
        },
      );
      const client = server.client();
      await client.get('/');
      expect((await client.get('/')).status).toBe(200);
      expect(seen).toEqual(['get: get broke']);
    });
  });

  // Regression: results used to be awaited only when `instanceof Promise`, so a store returning
  // another library's promises (Bluebird, any thenable) answered "no session" on every request. Any
  // thenable is awaited now, as the reference's `yield` did.
  it('a store returning thenables (non-native promises) works end to end', async () => {
    const data = new Map<string, string>();
    const thenable = <T>(value: () => T) => ({
      then(resolve: (v: T) => void, reject: (e: unknown) => void) {
        setImmediate(() => {
          try {
            resolve(value());
          } catch (err) {
            reject(err);
          }
        });
      },
    });
    const store = {
      get: (key: string) => thenable(() => (data.has(key) ? JSON.parse(data.get(key)!) : null)),
      set: (key: string, sess: unknown) => thenable(() => void data.set(key, JSON.stringify(sess))),
      destroy: (key: string) => thenable(() => void data.delete(key)),
    };
    const server = await startApp(Koa, { store }, (ctx) => {
      const s = ctx.session as Sess;
      s.count = ((s.count as number | undefined) ?? 0) + 1;
      ctx.body = { count: s.count };
    });
    const client = server.client();
    expect((await client.get('/')).body).toEqual({ count: 1 });
    expect((await client.get('/')).body).toEqual({ count: 2 });
  });
});
