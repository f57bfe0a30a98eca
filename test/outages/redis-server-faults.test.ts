/**
 * A real redis-server stopped, frozen, killed and restarted under a running app (docs/store-outages.md):
 * requests wait, answer 503 within the bounds (or are served without the session with
 * `storeOutage: 'degrade'`), never 500, never hang; a store call that failed because its connection
 * died is repeated once the server is back, so nothing acknowledged is lost and nothing is counted
 * twice.
 *
 * - Stopped and restarted, or frozen with SIGSTOP, on every client kind the RedisStore takes
 *   (test/helpers/redis-clients.ts), with persistence on, so a restart keeps what was written
 *   before the outage.
 * - Killed (SIGKILL) while commands are on the wire: the server is frozen first, the requests'
 *   commands are sent and wait there unread, then it is killed, so that ioredis
 *   (`maxRetriesPerRequest: 1`) rejects them with MaxRetriesPerRequestError and node-redis with the
 *   connection's reset. A loopback proxy cuts a connection after Redis ran a command but before its
 *   reply arrived.
 * - Restarted and still loading its dataset: it answers LOADING for a while.
 *
 * Servers are each test's own, on loopback ports; request counts and waits are bounded. The same
 * outages with stores whose connection the test controls are in while-the-store-is-away.test.ts
 * and outage-policy.test.ts.
 */
import { EventEmitter } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { createClient as createClient4 } from 'redis4';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { RedisStore, type StoredSession } from '../../src/index.js';
import { Client, type Reply } from '../helpers/http.js';
import { commandsArrived, frozen } from '../helpers/kernel.js';
import { REDIS_CLIENT_KINDS, type RedisClientKind } from '../helpers/redis-clients.js';
import { SLOW_LOADING_ARGS, startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { closeApps } from '../helpers/apps.js';
import { killProcess } from '../helpers/stop-process.js';
import { counterApp } from './fixtures/counter-app.js';

const redisUrl = inject('redisUrl');

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  await closeApps();
  for (const cleanup of cleanups.splice(0).reverse()) await (async () => cleanup())().catch(() => undefined);
});

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

  override getVersioned(key: string) {
    return this.watch('get', super.getVersioned(key));
  }

  /** The middleware's fenced writes: the save of a new session (a `set`) or a rewrite (an `update`). */
  override compareAndSet(key: string, session: StoredSession, ttl: number | undefined, expected: string | null) {
    return this.watch(expected === null ? 'set' : 'update', super.compareAndSet(key, session, ttl, expected));
  }

  override lock(key: string, options: { lease: number; wait: number }) {
    return this.watch('lock', super.lock(key, options));
  }

  count(command: string): number {
    return this.sent.filter((c) => c === command).length;
  }
}

async function redisServer(options: Parameters<typeof startRedisServer>[0] = {}): Promise<RedisServer> {
  const started = await startRedisServer(options);
  cleanups.push(() => started.dispose());
  return started;
}

function watchedStore(redis: Pick<RedisServer, 'url'>, ioredis: object = {}): WatchedStore {
  const store = new WatchedStore({
    url: redis.url,
    redis: { maxRetriesPerRequest: 1, retryStrategy: () => 50, ...ioredis },
  });
  cleanups.push(() => store.close());
  return store;
}

/** A redis-server of its own, reached through a proxy the test can cut, and a watched store on the proxy. */
async function watchedStoreBehindProxy(): Promise<{ redis: RedisServer; proxy: Proxy; store: WatchedStore }> {
  const redis = await redisServer();
  const proxy = new Proxy(redis.port);
  await proxy.listen();
  cleanups.push(() => proxy.cut());
  return { redis, proxy, store: watchedStore({ url: `redis://127.0.0.1:${proxy.port}` }) };
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

/** A counter app on a RedisStore over a `kind` client of a redis-server of its own, with persistence on. */
async function counterOnClientKind(kind: RedisClientKind, options: { reconnectTimeout: number; storeTimeout: number }) {
  const redis = await redisServer({ persist: true });
  const store = new RedisStore({ client: kind.make(redis.url, { retryDelay: 50 }) });
  cleanups.push(() => store.close());
  const app = await counterApp({ store, ...options });
  return { redis, client: new Client(app.url) };
}

interface Answer {
  at: number;
  status: number;
  n?: number;
}

/** Requests one after another (at most `max`) until a 200 follows a failure; the answers with times. */
async function stream(client: Client, cookie: string, max: number) {
  const start = Date.now();
  const seen: Answer[] = [];
  const recovered = () => seen.some((r) => r.status !== 200) && seen.at(-1)?.status === 200;
  for (let i = 0; i < max && !recovered(); i++) {
    const reply = await client.get('/', { cookie });
    seen.push({ at: Date.now() - start, status: reply.status, n: reply.body?.n });
    await sleep(20);
  }
  return seen;
}

describe.skipIf(!redisUrl).each(REDIS_CLIENT_KINDS)(
  'a redis-server stopped and restarted, or frozen, $name',
  (kind) => {
    it('stopped and restarted while requests run: 503s within the bound, then service as before', async () => {
      const unhandled: unknown[] = [];
      const record = (r: unknown) => unhandled.push(r);
      process.on('unhandledRejection', record);
      try {
        const { redis, client } = await counterOnClientKind(kind, { reconnectTimeout: 300, storeTimeout: 1000 });
        await client.get('/');
        await client.get('/');
        const cookie = client.cookieHeader('/');
        await redis.stop();
        const stoppedAt = Date.now();
        let restartedAt = 0;
        const restart = sleep(800).then(async () => {
          await redis.restart();
          restartedAt = Date.now() - stoppedAt;
        });
        const seen = await stream(client, cookie, 300);
        await restart;
        const firstFailure = seen.find((r) => r.status !== 200);
        expect(firstFailure?.status).toBe(503);
        // Every answer during the outage was a 503 (never a 500, never a hang past the bounds).
        expect(seen.filter((r) => r.status !== 200 && r.status !== 503)).toEqual([]);
        // The stream ended because service came back (a 200 after the failures), not at its cap;
        // a request that hung would have held the test until its timeout.
        expect(seen.at(-1)?.status).toBe(200);
        const after = await client.get('/', { cookie });
        expect(after.status).toBe(200);
        // Nothing written before the outage was lost: the counter goes on from where it was.
        expect(after.body.n).toBeGreaterThan(2);
        console.log(
          `${kind.name}, redis stop/restart: first 503 after ${firstFailure?.at} ms, restart at ${restartedAt} ms, ` +
            `first 200 again after ${seen.at(-1)?.at} ms, ${seen.length} requests in the stream`,
        );
      } finally {
        process.off('unhandledRejection', record);
      }
      expect(unhandled).toEqual([]);
    }, 30_000);

    it('frozen with SIGSTOP: requests get 503 after storeTimeout, and service resumes on SIGCONT', async () => {
      const { redis, client } = await counterOnClientKind(kind, { reconnectTimeout: 300, storeTimeout: 250 });
      await client.get('/');
      const cookie = client.cookieHeader('/');
      redis.freeze();
      const frozenAt = Date.now();
      const during = await Promise.all([1, 2, 3].map(() => client.get('/', { cookie })));
      const answeredIn = Date.now() - frozenAt;
      expect(during.map((r) => r.status)).toEqual([503, 503, 503]);
      expect(during[0]!.text).toBe('session store is unavailable');
      redis.thaw();
      let after = await client.get('/', { cookie });
      for (let i = 0; i < 20 && after.status !== 200; i++) {
        await sleep(50);
        after = await client.get('/', { cookie });
      }
      expect(after.status).toBe(200);
      expect(after.body.n).toBeGreaterThanOrEqual(2);
      console.log(`${kind.name}, redis SIGSTOP: three concurrent requests answered 503 within ${answeredIn} ms`);
    }, 30_000);
  },
);

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
      await killProcess(redis.process);
      await when(store.changes, () => store.failures.length === browsers.length);
      await redis.restart();
      expect((await Promise.all(reads)).map((r) => r.status)).toEqual([200, 200, 200, 200]);

      // Writes on the wire: the handlers wait while the server is frozen, then each request's
      // fenced rewrite reaches it, and it is killed.
      const writes = browsers.map((b) => request(b, '/slow'));
      await when(app.changes, () => app.waiting() === browsers.length);
      await frozen(redis);
      const updatesBefore = store.count('update');
      app.release();
      await when(store.changes, () => store.count('update') === updatesBefore + browsers.length);
      await commandsArrived(redis.port);
      await killProcess(redis.process);
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
    const { redis, proxy, store } = await watchedStoreBehindProxy();
    const app = await counterApp({ store, reconnectTimeout: 10_000, storeTimeout: 5_000 });
    const browser = new Client(app.url);
    await browser.get('/');
    await browser.get('/');
    const sid = browser.cookie('koa.sid')!;

    const pending = browser.get('/slow');
    await when(app.changes, () => app.waiting() === 1);
    proxy.holdReplies = true;
    app.release();
    // Redis answered the fenced rewrite: it ran; the browser has not been told.
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
    const { redis, proxy, store } = await watchedStoreBehindProxy();
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
    await killProcess(redis.process);
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
    await killProcess(redis.process);
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
      // LOADING lasts about a second.
      const redis = await redisServer({ args: SLOW_LOADING_ARGS });
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
