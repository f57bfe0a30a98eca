/**
 * The store connection lifecycle through the middleware (SPEC §4.12, §5.1, §5.8, §6.3), with a
 * store whose connection the test controls: an EventEmitter that emits `connect` / `disconnect`
 * like koa-redis does, backed by a MemoryStore. The real-Redis fault tests are in
 * test/outages/redis-restart.test.ts.
 */
import { EventEmitter } from 'node:events';
import Koa from 'koa';
import { afterEach, describe, expect, it, vi } from 'vitest';
import session, { MemoryStore, type SessionOptions } from '../../src/index.js';
import { StoreConnection } from '../../src/middleware/connection.js';
import { Client, listen, type Listening } from '../helpers/http.js';

class ControlledStore extends EventEmitter {
  readonly inner = new MemoryStore();
  connected = true;
  /** When set, every call waits for this promise first (a store that does not answer). */
  stall: Promise<void> | undefined;
  async get(key: string) {
    await this.stall;
    return this.inner.get(key);
  }
  async set(key: string, value: never, ttl?: number) {
    await this.stall;
    this.inner.set(key, value, ttl);
  }
  async destroy(key: string) {
    await this.stall;
    this.inner.destroy(key);
  }
}

function counterApp(options: SessionOptions) {
  const app = new Koa();
  app.keys = ['k'];
  app.silent = true;
  app.use(session(options));
  app.use((ctx) => {
    const s = ctx.session!;
    s.n = ((s.n as number) ?? 0) + 1;
    ctx.body = { n: s.n };
  });
  return app;
}

let server: Listening | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A counter app with `storeOutage: 'degrade'` and a 50 ms `storeTimeout`; the reasons it reports. */
async function degradingServer() {
  const store = new ControlledStore();
  const notices: string[] = [];
  const listening = await listen(
    counterApp({
      store: store as never,
      storeTimeout: 50,
      storeOutage: 'degrade',
      onEvent: (e) => void (e.type === 'degraded' && notices.push(e.reason)),
    }),
  );
  server = listening;
  return { store, notices, url: listening.url };
}

describe('requests wait for a disconnected store, then fail fast until it is back', () => {
  it('a request made during a disconnect waits and succeeds when the store reconnects', async () => {
    const store = new ControlledStore();
    server = await listen(counterApp({ store: store as never, reconnectTimeout: 5000 }));
    const client = new Client(server.url);
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
    server = await listen(
      counterApp({
        store: store as never,
        reconnectTimeout: 30,
        onEvent: (e) => void (e.type === 'connection' && notices.push(e.state)),
      }),
    );
    const client = new Client(server.url);
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
    server = await listen(counterApp({ store: store as never, reconnectTimeout: 5000 }));
    const pending = new Client(server.url).get('/');
    setTimeout(() => store.emit('connect'), 30);
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
      counterApp({ store: store as never, reconnectTimeout: 10 });
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

describe('a store that never answers gives a 503, not a hung request', () => {
  it('storeTimeout bounds the read', async () => {
    const store = new ControlledStore();
    server = await listen(counterApp({ store: store as never, storeTimeout: 50 }));
    const client = new Client(server.url);
    await client.get('/');
    store.stall = new Promise(() => undefined);
    const reply = await client.get('/');
    expect(reply.status).toBe(503);
    expect(reply.text).toBe('session store is unavailable');
  });

  it('storeTimeout bounds the write of a new session', async () => {
    const store = new ControlledStore();
    store.stall = new Promise(() => undefined);
    server = await listen(counterApp({ store: store as never, storeTimeout: 50 }));
    const reply = await new Client(server.url).get('/');
    expect(reply.status).toBe(503);
    expect(reply.setCookies).toEqual([]);
  });
});

describe('outage policy', () => {
  it("'degrade' serves an empty session that is never saved, and says so", async () => {
    const { store, notices, url } = await degradingServer();
    const client = new Client(url);
    expect((await client.get('/')).body).toEqual({ n: 1 });
    const sid = client.cookie('koa.sid')!;
    store.stall = new Promise(() => undefined);
    const degraded = await client.get('/');
    expect(degraded.status).toBe(200);
    expect(degraded.body).toEqual({ n: 1 });
    expect(degraded.setCookies).toEqual([]);
    expect(notices).toEqual(['get got no answer within 50 ms']);
    // Nothing overwrote the stored session.
    expect(store.inner.get('koa:sess:' + sid)?.n).toBe(1);
  });

  it('errorHandler still sees store errors that are not outages', async () => {
    const store = new ControlledStore();
    const seen: string[] = [];
    store.get = async () => {
      throw new Error('boom');
    };
    server = await listen(
      counterApp({ store: store as never, errorHandler: (err, type) => void seen.push(`${type}:${err.message}`) }),
    );
    const reply = await new Client(server.url).get('/', { cookie: 'koa.sid=abc; koa.sid.sig=bad' });
    expect(reply.status).toBe(200);
    expect(seen).toEqual([]); // a forged cookie is never looked up
    const client = new Client(server.url);
    await client.get('/');
    await client.get('/');
    expect(seen).toEqual(['get:boom']);
  });
});

describe('bounds do not cut each other short', () => {
  it('a request waits the whole reconnectTimeout, even when it is longer than storeTimeout', async () => {
    const store = new ControlledStore();
    server = await listen(counterApp({ store: store as never, reconnectTimeout: 5000, storeTimeout: 50 }));
    const client = new Client(server.url);
    await client.get('/');
    store.emit('disconnect');
    const pending = client.get('/');
    // Well past storeTimeout, still inside reconnectTimeout.
    setTimeout(() => store.emit('connect'), 300);
    expect((await pending).status).toBe(200);
  });
});

describe("'degrade' covers writes too", () => {
  it('a write that meets an outage leaves the session unsaved and the request answered', async () => {
    const { store, notices, url } = await degradingServer();
    store.stall = new Promise(() => undefined);
    const reply = await new Client(url).get('/');
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ n: 1 });
    expect(reply.setCookies).toEqual([]);
    expect(notices).toEqual(['set got no answer within 50 ms']);
  });

  it("with 'fail', a closed store answers 503, not 500", async () => {
    const store = new ControlledStore();
    server = await listen(counterApp({ store: store as never }));
    const client = new Client(server.url);
    await client.get('/');
    store.get = async () => {
      throw Object.assign(new Error('RedisStore: the store is closed'), { code: 'ERR_STORE_CLOSED' });
    };
    const reply = await client.get('/');
    expect(reply.status).toBe(503);
    expect(reply.text).toBe('session store is unavailable');
  });
});
