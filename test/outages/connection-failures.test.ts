/**
 * Connection failures mid-request, through the middleware (issue 17 §1; docs/store-outages.md,
 * "Connection failures mid-request"): a store call that fails because of the connection waits for
 * the store and is repeated once, or ends in the outage policy (503 or degrade); it never reaches
 * the app's `errorHandler`, which still gets errors about the data.
 *
 * The Redis tests kill a real redis-server (SIGKILL) while commands are on the wire: the server is
 * frozen first, the requests' commands are sent and wait there unread, then it is killed, so that
 * ioredis (`maxRetriesPerRequest: 1`) rejects them with MaxRetriesPerRequestError and node-redis
 * with the connection's reset. The ordering tests use a store whose connection events the test
 * sends itself.
 */
import { EventEmitter, once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import Koa from 'koa';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { createClient as createClient4 } from 'redis4';
import { afterEach, describe, expect, inject, it } from 'vitest';
import session, { MemoryStore, RedisStore, type SessionOptions, type StoredSession } from '../../src/index.js';
import { Client, listen, type Listening, type Reply } from '../helpers/http.js';
import { commandsArrived, frozen } from '../helpers/kernel.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

const redisUrl = inject('redisUrl');

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await (async () => cleanup())().catch(() => undefined);
});

/** A promise the test settles itself. */
function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Resolves when `check()` holds, re-checked each time `emitter` says something changed. */
function when(emitter: EventEmitter, check: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const test = () => {
      if (!check()) return;
      emitter.off('change', test);
      resolve();
    };
    emitter.on('change', test);
    test();
  });
}

/** A RedisStore that tells the test which commands it sent and how they failed. */
class WatchedStore extends RedisStore {
  readonly sent: string[] = [];
  readonly failures: Error[] = [];
  readonly changes = new EventEmitter();

  private watch<T>(command: string, reply: Promise<T>): Promise<T> {
    this.sent.push(command);
    this.changes.emit('change');
    return reply.catch((err: Error) => {
      this.failures.push(err);
      this.changes.emit('change');
      throw err;
    });
  }

  override get(key: string) {
    return this.watch('get', super.get(key));
  }

  override set(key: string, session: StoredSession, ttl?: number) {
    return this.watch('set', super.set(key, session, ttl));
  }

  override update(key: string, session: StoredSession, ttl?: number) {
    return this.watch('update', super.update(key, session, ttl));
  }

  override lock(key: string, options: { lease: number; wait: number }) {
    return this.watch('lock', super.lock(key, options));
  }

  count(command: string): number {
    return this.sent.filter((c) => c === command).length;
  }
}

interface CounterApp {
  url: string;
  /** What the app's `errorHandler` was given ("type: message"); it rethrows, as the default does. */
  handled: string[];
  degraded: string[];
  /** Requests to /slow wait in the handler until this is resolved. */
  release: () => void;
  /** How many requests to /slow are waiting in the handler. */
  waiting: () => number;
  changes: EventEmitter;
}

/** A counter app on `store`: every request adds one to the session's `n` and answers it. */
async function counterApp(options: SessionOptions): Promise<CounterApp> {
  const handled: string[] = [];
  const degraded: string[] = [];
  const changes = new EventEmitter();
  let gate = signal();
  let waiting = 0;
  const app = new Koa();
  app.keys = ['k'];
  app.silent = true;
  app.use(
    session({
      ...options,
      errorHandler: (err, type) => {
        handled.push(`${type}: ${err.message}`);
        throw err;
      },
      onEvent: (notice) => void (notice.type === 'degraded' && degraded.push(notice.reason)),
    }),
  );
  app.use(async (ctx) => {
    const s = ctx.session!;
    if (ctx.path === '/slow') {
      waiting++;
      changes.emit('change');
      await gate.promise;
    }
    s.n = ((s.n as number | undefined) ?? 0) + 1;
    ctx.body = { n: s.n };
  });
  const server: Listening = await listen(app);
  cleanups.push(() => server.close());
  return {
    url: server.url,
    handled,
    degraded,
    changes,
    release: () => {
      gate.resolve();
      gate = signal();
      waiting = 0;
    },
    waiting: () => waiting,
  };
}

/** Kills the server (SIGKILL) and resolves once it has exited. */
async function kill(redis: RedisServer): Promise<void> {
  const exited = once(redis.process, 'exit');
  redis.process.kill('SIGKILL');
  await exited;
}

async function redisServer(options: Parameters<typeof startRedisServer>[0] = {}): Promise<RedisServer> {
  const started = await startRedisServer(options);
  cleanups.push(() => started.dispose());
  return started;
}

function watchedStore(redis: RedisServer, ioredis: object = {}): WatchedStore {
  const store = new WatchedStore({
    url: redis.url,
    redis: { maxRetriesPerRequest: 1, retryStrategy: () => 50, ...ioredis },
  });
  cleanups.push(() => store.close());
  return store;
}

/**
 * The clients the SIGKILL test runs on, with what their commands on the wire fail with: the
 * store's own ioredis client (`maxRetriesPerRequest: 1`, the case), and node-redis 5 and 4
 * clients of the app's, which see the reset connection.
 */
const CLIENT_KINDS: { name: string; failure: string; store(redis: RedisServer): Promise<WatchedStore> }[] = [
  { name: 'ioredis', failure: 'MaxRetriesPerRequestError', store: async (redis) => watchedStore(redis) },
  ...[
    { name: 'node-redis 5', create: createClient },
    { name: 'node-redis 4', create: createClient4 as unknown as typeof createClient },
  ].map(({ name, create }) => ({
    name,
    failure: 'ECONNRESET',
    async store(redis: RedisServer) {
      const client = create({ url: redis.url, socket: { reconnectStrategy: () => 50 } });
      // The store listens for errors once it has the client; until then, this does.
      client.on('error', () => undefined);
      await client.connect();
      const store = new WatchedStore({ client });
      cleanups.push(() => store.close());
      return store;
    },
  })),
];

/** What a store call failed with: its code, or its name. */
function failureOf(err: Error): string {
  return (err as NodeJS.ErrnoException).code ?? err.name;
}

/**
 * A TCP proxy on loopback in front of a redis-server, which the test can make withhold the
 * server's replies (the commands still reach Redis and run), cut every connection and refuse new
 * ones, and then let clients in again on the same port.
 */
class Proxy {
  readonly changes = new EventEmitter();
  /** Replies the server sent while they were withheld. */
  withheld = 0;
  holdReplies = false;
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;
  port = 0;

  constructor(private readonly target: number) {
    this.server = createServer((client) => {
      const upstream = connect(target, '127.0.0.1');
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => {
          this.sockets.delete(socket);
          client.destroy();
          upstream.destroy();
        });
      }
      client.on('data', (chunk) => upstream.write(chunk));
      upstream.on('data', (chunk) => {
        if (!this.holdReplies) return void client.write(chunk);
        this.withheld++;
        this.changes.emit('change');
      });
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  /** Every connection is cut, and new ones are refused until {@link Proxy.listen}. */
  async cut(): Promise<void> {
    const closed = new Promise((resolve) => this.server.close(resolve));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}

/** The session of `sid` as Redis holds it. */
async function stored(redis: RedisServer, sid: string): Promise<{ n?: number } | null> {
  const client = new Redis(redis.url);
  try {
    const json = await client.get(`koa:sess:${sid}`);
    return json === null ? null : JSON.parse(json);
  } finally {
    client.disconnect();
  }
}

describe.skipIf(!redisUrl)('a redis-server killed with commands on the wire', () => {
  it.each(CLIENT_KINDS)(
    '$name: restarted on its AOF within reconnectTimeout: no 500, the requests answer 200 after one repeat, and Redis holds every counted 200',
    async (kind) => {
      const redis = await redisServer({ persist: true });
      const store = await kind.store(redis);
      const app = await counterApp({ store, reconnectTimeout: 10_000, storeTimeout: 5_000 });
      const browsers = [1, 2, 3, 4].map(() => new Client(app.url));
      const replies = new Map<Client, Reply[]>(browsers.map((b) => [b, []]));
      const request = async (browser: Client, path: string) => {
        const reply = await browser.get(path);
        replies.get(browser)!.push(reply);
        return reply;
      };
      for (const browser of browsers) {
        await request(browser, '/');
        await request(browser, '/');
      }

      // Reads on the wire: each request's GET reaches the frozen server, which is then killed.
      await frozen(redis);
      const getsBefore = store.count('get');
      const reads = browsers.map((b) => request(b, '/'));
      await when(store.changes, () => store.count('get') === getsBefore + browsers.length);
      await commandsArrived(redis.port);
      await kill(redis);
      await when(store.changes, () => store.failures.length === browsers.length);
      await redis.restart();
      expect((await Promise.all(reads)).map((r) => r.status)).toEqual([200, 200, 200, 200]);

      // Writes on the wire: the handlers wait while the server is frozen, then each request's
      // SET XX reaches it, and it is killed.
      const writes = browsers.map((b) => request(b, '/slow'));
      await when(app.changes, () => app.waiting() === browsers.length);
      await frozen(redis);
      const updatesBefore = store.count('update');
      app.release();
      await when(store.changes, () => store.count('update') === updatesBefore + browsers.length);
      await commandsArrived(redis.port);
      await kill(redis);
      await when(store.changes, () => store.failures.length === 2 * browsers.length);
      await redis.restart();
      expect((await Promise.all(writes)).map((r) => r.status)).toEqual([200, 200, 200, 200]);

      expect(store.failures.map(failureOf)).toEqual(Array(2 * browsers.length).fill(kind.failure));
      expect(app.handled).toEqual([]);
      for (const browser of browsers) {
        const seen = replies.get(browser)!;
        const oks = seen.filter((r) => r.status === 200).length;
        expect(seen.map((r) => r.status)).toEqual([200, 200, 200, 200]);
        // Nothing acknowledged was lost, nothing was counted twice: Redis holds one increment per 200.
        expect(seen.at(-1)!.body).toEqual({ n: oks });
        expect((await stored(redis, browser.cookie('koa.sid')!))?.n).toBe(oks);
      }
    },
    60_000,
  );

  it('a write that ran in Redis before its connection was cut (its reply lost): repeated once the store is back, 200, counted once', async () => {
    const redis = await redisServer();
    const proxy = new Proxy(redis.port);
    await proxy.listen();
    cleanups.push(() => proxy.cut());
    const store = new WatchedStore({
      url: `redis://127.0.0.1:${proxy.port}`,
      redis: { maxRetriesPerRequest: 1, retryStrategy: () => 50 },
    });
    cleanups.push(() => store.close());
    const app = await counterApp({ store, reconnectTimeout: 10_000, storeTimeout: 5_000 });
    const browser = new Client(app.url);
    await browser.get('/');
    await browser.get('/');
    const sid = browser.cookie('koa.sid')!;

    const pending = browser.get('/slow');
    await when(app.changes, () => app.waiting() === 1);
    proxy.holdReplies = true;
    app.release();
    // Redis answered the SET XX: it ran; the browser has not been told.
    await when(proxy.changes, () => proxy.withheld === 1);
    expect((await stored(redis, sid))?.n).toBe(3);
    await proxy.cut();
    await when(store.changes, () => store.failures.length === 1);
    proxy.holdReplies = false;
    await proxy.listen();
    const reply = await pending;

    expect([reply.status, reply.body]).toEqual([200, { n: 3 }]);
    expect(store.failures.map((e) => e.name)).toEqual(['MaxRetriesPerRequestError']);
    expect(store.sent.filter((c) => c === 'update')).toHaveLength(3);
    expect((await stored(redis, sid))?.n).toBe(3);
    expect(app.handled).toEqual([]);
  }, 30_000);

  it("concurrency: 'serialize', a lock taken in Redis before its connection was cut: the repeat finds it its own, 200 (not a 503 after lockTimeout)", async () => {
    const redis = await redisServer();
    const proxy = new Proxy(redis.port);
    await proxy.listen();
    cleanups.push(() => proxy.cut());
    const store = new WatchedStore({
      url: `redis://127.0.0.1:${proxy.port}`,
      redis: { maxRetriesPerRequest: 1, retryStrategy: () => 50 },
    });
    cleanups.push(() => store.close());
    // The lost lock's lease outlasts the wait for a lock: waiting it out would end in a 503.
    const app = await counterApp({
      store,
      concurrency: 'serialize',
      lockLease: 20_000,
      lockTimeout: 1_000,
      reconnectTimeout: 10_000,
    });
    const browser = new Client(app.url);
    await browser.get('/');
    const sid = browser.cookie('koa.sid')!;
    const locksBefore = store.count('lock');

    proxy.holdReplies = true;
    const pending = browser.get('/');
    // Redis answered the SET NX of the lock: it is taken; the request has not been told.
    await when(proxy.changes, () => proxy.withheld === 1);
    expect(store.count('lock')).toBe(locksBefore + 1);
    const control = new Redis(redis.url);
    cleanups.push(() => control.disconnect());
    expect(await control.exists(`{koa:sess:${sid}}:lock`)).toBe(1);
    await proxy.cut();
    await when(store.changes, () => store.failures.length === 1);
    proxy.holdReplies = false;
    await proxy.listen();
    const reply = await pending;

    expect([reply.status, reply.body]).toEqual([200, { n: 2 }]);
    expect(store.failures.map((e) => e.name)).toEqual(['MaxRetriesPerRequestError']);
    expect(store.count('lock')).toBe(locksBefore + 2);
    expect(app.handled).toEqual([]);
  }, 30_000);

  it("not back within reconnectTimeout: 503 for the read and the new session's write, errorHandler never called", async () => {
    const redis = await redisServer();
    const store = watchedStore(redis);
    const app = await counterApp({ store, reconnectTimeout: 300, storeTimeout: 5_000 });
    const returning = new Client(app.url);
    expect((await returning.get('/')).status).toBe(200);
    const newcomer = new Client(app.url);

    await frozen(redis);
    const pending = [returning.get('/'), newcomer.get('/')];
    await when(store.changes, () => store.count('get') === 1 && store.count('set') === 2);
    await commandsArrived(redis.port);
    await kill(redis);
    const [read, write] = await Promise.all(pending);

    expect([read!.status, write!.status]).toEqual([503, 503]);
    expect(read!.text).toBe('session store is unavailable');
    expect(write!.setCookies).toEqual([]);
    expect(store.failures.map((e) => e.name)).toEqual(['MaxRetriesPerRequestError', 'MaxRetriesPerRequestError']);
    expect(app.handled).toEqual([]);
  }, 30_000);

  it("not back within reconnectTimeout, with storeOutage: 'degrade': 200 without the session, and a notice saying why", async () => {
    const redis = await redisServer();
    const store = watchedStore(redis);
    const app = await counterApp({ store, reconnectTimeout: 300, storeTimeout: 5_000, storeOutage: 'degrade' });
    const returning = new Client(app.url);
    await returning.get('/');
    await returning.get('/');
    const newcomer = new Client(app.url);

    await frozen(redis);
    const pending = [returning.get('/'), newcomer.get('/')];
    await when(store.changes, () => store.count('get') === 2 && store.count('set') === 2);
    await commandsArrived(redis.port);
    await kill(redis);
    const [read, write] = await Promise.all(pending);

    // The returning browser gets an empty session (its stored count is not lost, only unread).
    expect([read!.status, read!.body]).toEqual([200, { n: 1 }]);
    expect([write!.status, write!.setCookies]).toEqual([200, []]);
    expect(app.degraded).toHaveLength(2);
    for (const reason of app.degraded)
      expect(reason).toMatch(/failed on the store's connection \(MaxRetriesPerRequestError/);
    expect(app.handled).toEqual([]);
  }, 30_000);
});

describe.skipIf(!redisUrl)('a restarted redis-server still loading its dataset', () => {
  it.each([
    // Without ioredis' ready check (which waits for the load), commands meet the LOADING replies.
    {
      name: 'ioredis without its ready check',
      store: (redis: RedisServer) => watchedStore(redis, { enableReadyCheck: false }),
    },
    // node-redis has no ready check: it is ready as soon as it is connected.
    {
      name: 'node-redis 5',
      store: (redis: RedisServer) => CLIENT_KINDS.find((k) => k.name === 'node-redis 5')!.store(redis),
    },
  ])(
    '$name: LOADING on a connection that stays up: the request waits, repeats the read, and is answered 200',
    async (kind) => {
      // Each key loads slowly, and the server answers between keys: LOADING lasts about a second.
      const redis = await redisServer({
        args: [
          '--enable-debug-command',
          'yes',
          '--key-load-delay',
          '100',
          '--loading-process-events-interval-bytes',
          '1024',
        ],
      });
      const store = await kind.store(redis);
      const app = await counterApp({ store, reconnectTimeout: 3_000, storeTimeout: 3_000 });
      const browser = new Client(app.url);
      await browser.get('/');
      const control = new Redis(redis.url);
      await control.call('DEBUG', 'POPULATE', '5000');
      await control.save();
      control.disconnect();

      await redis.stop();
      // Not events.once, which would reject on the errors the store forwards while Redis is down.
      const back = new Promise((resolve) => store.once('connect', resolve));
      await redis.restart();
      await back;
      const reply = await browser.get('/');

      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({ n: 2 });
      // Repeated, with a growing pause, for as long as the server answers LOADING (bounded by reconnectTimeout).
      const failures = store.failures.map((e) => e.message.split(' ')[0]);
      expect(failures.length).toBeGreaterThanOrEqual(1);
      expect(new Set(failures)).toEqual(new Set(['LOADING']));
      expect(app.handled).toEqual([]);
    },
    30_000,
  );
});

describe.skipIf(!redisUrl)('errors about the data still go to errorHandler', () => {
  it('WRONGTYPE (the session key holds a list): errorHandler gets it as a get error, the request answers 500', async () => {
    const redis = await redisServer();
    const store = watchedStore(redis);
    const app = await counterApp({ store });
    const browser = new Client(app.url);
    await browser.get('/');
    const control = new Redis(redis.url);
    const key = `koa:sess:${browser.cookie('koa.sid')}`;
    await control.del(key);
    await control.rpush(key, 'not a session');
    control.disconnect();

    const reply = await browser.get('/');
    expect(reply.status).toBe(500);
    expect(app.handled).toEqual([expect.stringMatching(/^get: WRONGTYPE /)]);
  });
});

describe('a store whose get rejects with a plain Error', () => {
  it('goes to errorHandler as before: 500 by default', async () => {
    const inner = new MemoryStore();
    const store = {
      get: async () => Promise.reject(new Error('the disk is on fire')),
      set: async (key: string, value: StoredSession, ttl?: number) => inner.set(key, value, ttl),
      destroy: async (key: string) => inner.destroy(key),
    };
    const app = await counterApp({ store });
    const browser = new Client(app.url);
    expect((await browser.get('/')).status).toBe(200);
    const reply = await browser.get('/');
    expect(reply.status).toBe(500);
    expect(app.handled).toEqual(['get: the disk is on fire']);
  });
});

/**
 * The order of the error and the store's `disconnect` differs between clients and failures: each
 * order, with a store whose events the test sends. The errors have the shape Node gives a reset
 * connection (the real ones are checked in test/outages/client-errors.test.ts).
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
    const failed = signal();
    store.failNext = failed.resolve;
    const pending = browser.get('/');
    await failed.promise;
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
