/**
 * What a request does while the store is away, through the middleware, with stores whose connection
 * the test controls (docs/store-outages.md): it waits for a disconnected store, up to
 * `reconnectTimeout`, and a store call that failed because of the connection is repeated once the
 * store is back; after that, 503 "session store is unavailable", fast, until the store is back; a
 * store that never answers is bounded by `storeTimeout`; nothing crashes the process.
 *
 * Elsewhere: the same on a real redis-server stopped, frozen, killed and restarted in
 * redis-server-faults.test.ts; `storeOutage: 'degrade'` instead of the 503 in outage-policy.test.ts;
 * the errors that are not outages in options/error-handler.test.ts; which errors are connection failures in
 * connection-failure-errors.test.ts.
 */
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryStore, type SessionOptions, type StoredSession } from '../../src/index.js';
import { StoreConnection } from '../../src/middleware/connection.js';
import { Client } from '../helpers/http.js';
import { ControlledStore } from './fixtures/controlled-store.js';
import { closeApps } from '../helpers/apps.js';
import { counterApp } from './fixtures/counter-app.js';

afterEach(closeApps);

describe('requests wait for a disconnected store, then fail fast until it is back', () => {
  it('a request made during a disconnect waits and succeeds when the store reconnects', async () => {
    const store = new ControlledStore();
    const app = await counterApp({ store: store as never, reconnectTimeout: 5000 });
    const client = new Client(app.url);
    expect((await client.get('/')).body).toEqual({ n: 1 });
    store.emit('disconnect');
    const pending = client.get('/');
    setTimeout(() => store.emit('connect'), 50);
    const reply = await pending;
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ n: 2 });
  });

  it('after reconnectTimeout, requests get 503 "session store is unavailable" until connect', async () => {
    const store = new ControlledStore();
    const notices: string[] = [];
    const app = await counterApp({
      store: store as never,
      reconnectTimeout: 30,
      onEvent: (e) => void (e.type === 'connection' && notices.push(e.state)),
    });
    const client = new Client(app.url);
    expect((await client.get('/')).status).toBe(200);
    store.emit('disconnect');
    const waited = await client.get('/');
    expect(waited.status).toBe(503);
    expect(waited.text).toBe('session store is unavailable');
    const fast = await client.get('/');
    expect(fast.status).toBe(503);
    store.emit('connect');
    const back = await client.get('/');
    expect(back.status).toBe(200);
    // The session written before the outage survived it.
    expect(back.body).toEqual({ n: 2 });
    expect(notices).toEqual(['connected', 'reconnecting', 'unavailable', 'connected']);
  });

  it('a store that reports not connected at start-up makes the first requests wait for connect', async () => {
    const store = new ControlledStore();
    store.connected = false;
    const app = await counterApp({ store: store as never, reconnectTimeout: 5000 });
    const pending = new Client(app.url).get('/');
    setTimeout(() => store.emit('connect'), 30);
    expect((await pending).status).toBe(200);
  });
});

/**
 * A store call that fails because of the connection waits for the store and is repeated, never
 * reaching `errorHandler`. The order of the error and the store's `disconnect` differs between
 * clients and failures: each order, with a store whose events the test sends. The errors have the
 * shape Node gives a reset connection (the real ones are checked in
 * connection-failure-errors.test.ts; real connections killed mid-command in
 * redis-server-faults.test.ts).
 */
describe('the connection failure and the store events, in any order', () => {
  const reset = () => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });

  /** A store with connection events, on a MemoryStore, whose next get fails as `fail` says. */
  class FlakyStore extends EventEmitter {
    readonly inner = new MemoryStore();
    connected = true;
    /** Runs in place of the next get, which then fails with a connection reset. */
    failNext: (() => void) | undefined;
    gets = 0;
    async get(key: string) {
      this.gets++;
      const fail = this.failNext;
      this.failNext = undefined;
      if (fail) {
        fail();
        throw reset();
      }
      return this.inner.get(key);
    }
    async set(key: string, value: StoredSession, ttl?: number) {
      this.inner.set(key, value, ttl);
    }
    // With update, a rewrite reads nothing first: every get counted is a read of the session.
    async update(key: string, value: StoredSession, ttl?: number) {
      return this.inner.update(key, value, ttl);
    }
    async destroy(key: string) {
      this.inner.destroy(key);
    }
  }

  async function flakyApp(options: Partial<SessionOptions> = {}) {
    const store = new FlakyStore();
    const app = await counterApp({ store: store as never, reconnectTimeout: 5_000, ...options });
    const browser = new Client(app.url);
    expect((await browser.get('/')).body).toEqual({ n: 1 });
    return { store, app, browser };
  }

  it('the error before the disconnect: the request waits for the reconnect, then repeats the read', async () => {
    const { store, app, browser } = await flakyApp();
    const failed = new Promise<void>((resolve) => (store.failNext = resolve));
    const pending = browser.get('/');
    await failed;
    // The failure reaches the middleware in microtasks: all run before the next turn of the loop.
    await new Promise(setImmediate);
    store.emit('disconnect');
    setImmediate(() => store.emit('connect'));
    const reply = await pending;
    expect([reply.status, reply.body]).toEqual([200, { n: 2 }]);
    expect(store.gets).toBe(2);
    expect(app.handled).toEqual([]);
  });

  it('the error after the disconnect and the reconnect: the read is repeated at once', async () => {
    const { store, browser } = await flakyApp();
    store.failNext = () => {
      store.emit('disconnect');
      store.emit('connect');
    };
    const reply = await browser.get('/');
    expect([reply.status, reply.body]).toEqual([200, { n: 2 }]);
    expect(store.gets).toBe(2);
  });

  it('no event at all (a server that answers but cannot serve): the read is repeated after a pause', async () => {
    const { store, browser } = await flakyApp({ reconnectTimeout: 100 });
    store.failNext = () => undefined;
    const reply = await browser.get('/');
    expect([reply.status, reply.body]).toEqual([200, { n: 2 }]);
    expect(store.gets).toBe(2);
  });

  it('failing the same way until reconnectTimeout: 503, errorHandler never called', async () => {
    const { store, app, browser } = await flakyApp({ reconnectTimeout: 100 });
    const keepFailing = () => (store.failNext = keepFailing);
    store.failNext = keepFailing;
    const reply = await browser.get('/');
    expect(reply.status).toBe(503);
    expect(store.gets).toBeGreaterThanOrEqual(2);
    expect(app.handled).toEqual([]);
  });

  it('failing twice, then back within reconnectTimeout: repeated until it answers, 200', async () => {
    const { store, app, browser } = await flakyApp({ reconnectTimeout: 5_000 });
    store.failNext = () => (store.failNext = () => undefined);
    const reply = await browser.get('/');
    expect([reply.status, reply.body]).toEqual([200, { n: 2 }]);
    expect(store.gets).toBe(3);
    expect(app.handled).toEqual([]);
  });

  it('a store without connection events cannot say when it is back: 503 at once', async () => {
    const inner = new MemoryStore();
    let gets = 0;
    const store = {
      get: async (key: string) => {
        if (++gets === 2) throw reset();
        return inner.get(key);
      },
      set: async (key: string, value: StoredSession, ttl?: number) => inner.set(key, value, ttl),
      destroy: async (key: string) => inner.destroy(key),
    };
    const app = await counterApp({ store });
    const browser = new Client(app.url);
    await browser.get('/');
    const reply = await browser.get('/');
    expect(reply.status).toBe(503);
    expect(gets).toBe(2);
    expect(app.handled).toEqual([]);
  });
});

describe('a store that never answers gives a 503, not a hung request', () => {
  it('storeTimeout bounds the read', async () => {
    const store = new ControlledStore();
    const app = await counterApp({ store: store as never, storeTimeout: 50 });
    const client = new Client(app.url);
    await client.get('/');
    store.stall = new Promise(() => undefined);
    const reply = await client.get('/');
    expect(reply.status).toBe(503);
    expect(reply.text).toBe('session store is unavailable');
  });

  it('storeTimeout bounds the write of a new session', async () => {
    const store = new ControlledStore();
    store.stall = new Promise(() => undefined);
    const app = await counterApp({ store: store as never, storeTimeout: 50 });
    const reply = await new Client(app.url).get('/');
    expect(reply.status).toBe(503);
    expect(reply.setCookies).toEqual([]);
  });
});

describe('bounds do not cut each other short', () => {
  it('a request waits the whole reconnectTimeout, even when it is longer than storeTimeout', async () => {
    const store = new ControlledStore();
    const app = await counterApp({ store: store as never, reconnectTimeout: 5000, storeTimeout: 50 });
    const client = new Client(app.url);
    await client.get('/');
    store.emit('disconnect');
    const pending = client.get('/');
    // Well past storeTimeout, still inside reconnectTimeout.
    setTimeout(() => store.emit('connect'), 300);
    expect((await pending).status).toBe(200);
  });
});

describe('a disconnect never crashes the process, and old timers never cut a wait short', () => {
  it('a disconnect with nobody waiting produces no unhandled rejection', async () => {
    const rejections: unknown[] = [];
    const record = (reason: unknown) => rejections.push(reason);
    process.on('unhandledRejection', record);
    try {
      const store = new ControlledStore();
      await counterApp({ store: store as never, reconnectTimeout: 10 });
      store.emit('disconnect');
      await new Promise((r) => setTimeout(r, 60));
      store.emit('connect');
      store.emit('disconnect');
      await new Promise((r) => setTimeout(r, 60));
    } finally {
      process.off('unhandledRejection', record);
    }
    expect(rejections).toEqual([]);
  });

  describe('with a controlled clock', () => {
    afterEach(() => void vi.useRealTimers());

    it('the timer of an earlier disconnect does not end a later wait', async () => {
      vi.useFakeTimers();
      const store = new EventEmitter();
      const states: string[] = [];
      const connection = new StoreConnection(store as never, 1000, (s) => states.push(s));
      store.emit('disconnect'); // t=0: would time out at t=1000
      await vi.advanceTimersByTimeAsync(800);
      store.emit('connect'); // t=800
      await vi.advanceTimersByTimeAsync(100);
      store.emit('disconnect'); // t=900: the new wait lasts until t=1900
      let settled = '';
      const gate = connection.gate();
      expect(gate).toBeInstanceOf(Promise);
      (gate as Promise<void>).then(
        () => (settled = 'served'),
        () => (settled = 'refused'),
      );
      await vi.advanceTimersByTimeAsync(300); // t=1200: past the first timer
      expect(settled).toBe('');
      expect(connection.state).toBe('reconnecting');
      store.emit('connect');
      await vi.advanceTimersByTimeAsync(0);
      expect(settled).toBe('served');
      expect(states).toEqual(['connected', 'reconnecting', 'connected', 'reconnecting', 'connected']);
    });

    it('close ends waiting at once and refuses later calls', async () => {
      vi.useFakeTimers();
      const store = Object.assign(new EventEmitter(), { closed: false });
      const connection = new StoreConnection(store as never, 1000, () => undefined);
      store.emit('disconnect');
      const gate = connection.gate() as Promise<void>;
      const outcome = gate.then(
        () => 'served',
        (err: Error) => err.message,
      );
      // A `close` from a store that is not closed (koa-redis emits one per lost connection) is no shutdown.
      store.emit('close');
      expect(connection.state).toBe('reconnecting');
      store.closed = true;
      store.emit('close');
      expect(await outcome).toBe('session store is unavailable');
      expect(() => connection.gate()).toThrow('session store is unavailable');
    });
  });
});
