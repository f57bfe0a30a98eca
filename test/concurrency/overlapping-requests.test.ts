/**
 * Overlapping requests of one session without `concurrency: 'serialize'`, on a store with
 * `compareAndSet` (MemoryStore, RedisStore): a write that meets a newer entry (another request
 * wrote the session since this one read it) is merged into it, key by key, and written again. So
 * requests that change different keys all keep their change; for a key two of them change, the one
 * that writes last wins; and never an error. A store without the capability keeps the last whole
 * write. The interleavings are made with gates in the handler, never with timers.
 */
import { format } from 'node:util';
import createDebug from 'debug';
import Koa from 'koa';
import { afterEach, describe, expect, inject, it } from 'vitest';
import {
  MemoryStore,
  RedisStore,
  type SessionNotice,
  type SessionOptions,
  type SessionStore,
  type StoredSession,
} from '../../src/index.js';
import { MERGES } from '../../src/middleware/session-effects.js';
import { trace } from '../../src/middleware/trace.js';
import { closeApps, startApp, type TestApp } from '../helpers/apps.js';
import { deferred, type Deferred } from '../helpers/deferred.js';
import type { Client } from '../helpers/http.js';

const redisUrl = inject('redisUrl');

const stores: RedisStore[] = [];
afterEach(async () => {
  createDebug.disable();
  await closeApps();
  await Promise.all(stores.splice(0).map((store) => store.close()));
});

/** A request held inside its handler, after its session was read, until `release()`. */
interface Held {
  /** Resolves once the handler runs (the session is read). */
  entered: Promise<void>;
  release(): void;
  reply: ReturnType<Client['get']>;
}

/**
 * An app whose `/set/<key>/<value>` sets one key of the session; with `?gate=<name>` the handler
 * waits there for the test; `/save/<key>/<value>` saves at once and answers the session as it is
 * then; `/read` answers the session's keys.
 */
async function gatedApp(store: SessionStore, onEvent?: (n: SessionNotice) => void, options: SessionOptions = {}) {
  const gates = new Map<string, { entered: Deferred; go: Deferred }>();
  const app = await startApp(Koa, { ...options, store, onEvent }, async (ctx) => {
    const [, action, key, value] = ctx.path.split('/');
    const session = ctx.session!;
    const gate = gates.get(String(ctx.query.gate));
    if (gate) {
      gate.entered.resolve();
      await gate.go.promise;
    }
    if (action === 'set' || action === 'save') session[key!] = value;
    if (action === 'save') await ctx.saveSession();
    const { cookie: _, ...data } = ctx.session!;
    ctx.body = data;
  });
  const hold = (browser: Client, path: string): Held => {
    const name = `${gates.size}`;
    const gate = { entered: deferred(), go: deferred() };
    gates.set(name, gate);
    return {
      entered: gate.entered.promise,
      release: () => gate.go.resolve(),
      reply: browser.get(`${path}?gate=${name}`),
    };
  };
  return { app, hold };
}

/** A browser with a stored session (`start: 1`), and another with the same cookie. */
async function sharedSession(app: TestApp): Promise<[Client, () => Client]> {
  const browser = app.client();
  expect((await browser.get('/set/start/1')).status).toBe(200);
  const cookie = browser.cookieHeader('/');
  const tab = () => {
    const other = app.client();
    for (const pair of cookie.split('; ')) {
      const [name, value] = pair.split('=');
      other.jar.set(name!, { value: value!, path: '/' });
    }
    return other;
  };
  return [browser, tab];
}

const KINDS: { name: string; store: () => SessionStore; skip?: boolean }[] = [
  { name: 'MemoryStore', store: () => new MemoryStore() },
  {
    name: 'RedisStore',
    store: () => {
      const store = new RedisStore({ url: redisUrl });
      stores.push(store);
      return store;
    },
    skip: !redisUrl,
  },
];

for (const kind of KINDS) {
  describe.skipIf(kind.skip)(`overlapping requests of one session (${kind.name})`, () => {
    it('two requests that change different keys both keep their change', async () => {
      const { app, hold } = await gatedApp(kind.store());
      const [browser, tab] = await sharedSession(app);
      const first = hold(browser, '/set/a/1');
      await first.entered;
      // The second reads, changes and writes the session while the first is in its handler.
      expect((await tab().get('/set/b/2')).body).toEqual({ start: '1', b: '2' });
      first.release();
      const reply = await first.reply;
      expect(reply.status).toBe(200);
      expect((await browser.get('/read')).body).toEqual({ start: '1', a: '1', b: '2' });
    });

    it('for a key both change, the request that writes last wins; both answer 200', async () => {
      const { app, hold } = await gatedApp(kind.store());
      const [browser, tab] = await sharedSession(app);
      const first = hold(browser, '/set/x/first');
      await first.entered;
      expect((await tab().get('/set/x/second')).status).toBe(200);
      first.release();
      expect((await first.reply).status).toBe(200);
      expect((await browser.get('/read')).body).toEqual({ start: '1', x: 'first' });
    });

    it(`${MERGES + 1} requests at once, each changing a key of its own, all keep their change`, async () => {
      const { app, hold } = await gatedApp(kind.store());
      const [, tab] = await sharedSession(app);
      const held = Array.from({ length: MERGES + 1 }, (_, i) => hold(tab(), `/set/k${i}/${i}`));
      // All have read the same session before any of them writes.
      await Promise.all(held.map((h) => h.entered));
      for (const h of held) h.release();
      for (const h of held) expect((await h.reply).status).toBe(200);
      const expected = Object.fromEntries(held.map((_, i) => [`k${i}`, String(i)]));
      expect((await tab().get('/read')).body).toEqual({ start: '1', ...expected });
    });

    for (const [what, options] of [
      ['in clear', {}],
      ['sealed (hashIds + seal: no two writes store the same value)', { hashIds: true, seal: true }],
    ] as const) {
      it(`a change another request already wrote is not written again, and not reported (${what})`, async () => {
        const store = kind.store();
        let compareAndSets = 0;
        const compareAndSet = store.compareAndSet!.bind(store);
        store.compareAndSet = (...args) => (compareAndSets++, compareAndSet(...args));
        const notices: SessionNotice[] = [];
        const { app, hold } = await gatedApp(store, (n) => void notices.push(n), options);
        const [browser, tab] = await sharedSession(app);
        compareAndSets = 0;
        const first = hold(browser, '/set/x/same');
        await first.entered;
        expect((await tab().get('/set/x/same')).status).toBe(200);
        first.release();
        expect((await first.reply).body).toEqual({ start: '1', x: 'same' });
        // The second request's write, then the first's, which finds its change already there.
        expect(compareAndSets).toBe(2);
        expect(notices.filter((n) => n.type === 'fenced')).toEqual([]);
        expect((await browser.get('/read')).body).toEqual({ start: '1', x: 'same' });
      });
    }

    it("a save merged into another request's write leaves ctx.session holding both changes", async () => {
      const { app, hold } = await gatedApp(kind.store());
      const [browser, tab] = await sharedSession(app);
      const first = hold(browser, '/save/a/1');
      await first.entered;
      expect((await tab().get('/set/b/2')).status).toBe(200);
      first.release();
      expect((await first.reply).body).toEqual({ start: '1', a: '1', b: '2' });
    });
  });
}

/**
 * A MemoryStore where, once `interfere` is on, another request writes the session right before
 * each of its compare-and-sets: every fenced write meets a newer entry.
 */
class BusyStore extends MemoryStore {
  interfere = false;
  compareAndSets = 0;
  private others = 0;

  override compareAndSet(key: string, session: StoredSession, ttl: number | undefined, expected: string | null) {
    if (this.interfere) {
      this.compareAndSets++;
      this.set(key, { ...this.get(key)!, other: ++this.others }, ttl);
    }
    return super.compareAndSet(key, session, ttl, expected);
  }
}

describe('a write fenced off more often than it merges', () => {
  it(`is dropped after ${MERGES} merges and reported (onEvent and the trace); the request answers 200`, async () => {
    const lines: string[] = [];
    const log = trace.log;
    trace.log = (...args: unknown[]) => void lines.push(format(...args));
    createDebug.enable('koa-session-machine');
    try {
      const store = new BusyStore();
      const notices: SessionNotice[] = [];
      const { app } = await gatedApp(store, (n) => void notices.push(n));
      const [browser] = await sharedSession(app);
      store.interfere = true;
      const reply = await browser.get('/set/a/1');
      expect(reply.status).toBe(200);
      expect(store.compareAndSets).toBe(MERGES + 1);
      store.interfere = false;
      // The other writers' changes are there; this request's is not.
      expect((await browser.get('/read')).body).toEqual({ start: '1', other: MERGES + 1 });
      expect(notices).toEqual([{ type: 'fenced', ctx: expect.anything(), late: false }]);
      expect(lines.some((l) => /GET \/set\/a\/1: the write was fenced off/.test(l))).toBe(true);
      expect(lines.some((l) => /GET \/set\/a\/1 cookie: loading → loaded → updating → superseded/.test(l))).toBe(true);
    } finally {
      trace.log = log;
    }
  });
});

describe('a store without compareAndSet (a koa-generic-session store)', () => {
  it('keeps the last whole write: the earlier request changes are overwritten, as with koa-generic-session', async () => {
    const inner = new MemoryStore();
    const plain: SessionStore = {
      get: (key) => inner.get(key),
      set: (key, session, ttl) => inner.set(key, session, ttl),
      destroy: (key) => inner.destroy(key),
    };
    const { app, hold } = await gatedApp(plain);
    const [browser, tab] = await sharedSession(app);
    const first = hold(browser, '/set/a/1');
    await first.entered;
    expect((await tab().get('/set/b/2')).status).toBe(200);
    first.release();
    expect((await first.reply).status).toBe(200);
    expect((await browser.get('/read')).body).toEqual({ start: '1', a: '1' });
  });
});
