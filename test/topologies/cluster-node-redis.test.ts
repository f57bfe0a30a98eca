/**
 * RedisStore on a node-redis cluster (`createCluster` of node-redis 5 and 4) over a real Redis
 * Cluster of three masters on loopback (test/helpers/redis-cluster.ts). What the app does over
 * HTTP is checked on the nodes themselves: each session on the master that owns its slot, the
 * sessions spread over the masters, the session lock in the session's slot.
 */
import Koa from 'koa';
import { setTimeout as sleep } from 'node:timers/promises';
import { createCluster as createCluster5 } from 'redis';
import { createCluster as createCluster4 } from 'redis4';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import session, { RedisStore, type SessionOptions } from '../../src/index.js';
import { lockKeyFor } from '../../src/stores/redis-lock.js';
import { Client, listen, type Listening } from '../helpers/http.js';
import { redisToolsAvailable, startRedisCluster, type RedisCluster } from '../helpers/redis-cluster.js';
import { PREFIX } from '../helpers/store-keys.js';

const available = redisToolsAvailable('node-redis Cluster');
let cluster: RedisCluster;

beforeAll(async () => {
  if (available) cluster = await startRedisCluster(3);
}, 45_000);
afterAll(async () => {
  await cluster?.dispose();
});

/** How each version is created, as its documentation says; both fit the store's `RedisClient`. */
const KINDS = [
  {
    name: 'node-redis 5',
    open: async (url: string) => {
      const client = createCluster5({ rootNodes: [{ url }] });
      await client.connect();
      return client;
    },
  },
  {
    name: 'node-redis 4',
    open: async (url: string) => {
      const client = createCluster4({ rootNodes: [{ url }] });
      await client.connect();
      return client;
    },
  },
];

const BROWSERS = 12;

describe.skipIf(!available).each(KINDS)('RedisStore on a $name cluster of three masters', ({ open }) => {
  let store: RedisStore | undefined;
  let server: Listening | undefined;
  afterEach(async () => {
    await server?.close();
    await store?.close();
    server = store = undefined;
  });

  /** The counter app on a store over a new cluster client: /inc answers { n, key }. */
  async function counterApp(options: Partial<SessionOptions> = {}) {
    const client = await open(`redis://127.0.0.1:${cluster.ports[0]}`);
    store = new RedisStore({ client });
    const app = new Koa();
    app.keys = ['node', 'cluster'];
    app.silent = true;
    app.use(session({ store, prefix: PREFIX, ...options }));
    app.use(async (ctx) => {
      const s = ctx.session!;
      const seen = typeof s.n === 'number' ? s.n : 0;
      // A pause between read and write, so that unserialized increments would race.
      await sleep(1);
      s.n = seen + 1;
      ctx.body = { n: s.n, key: `${PREFIX}${ctx.sessionId}` };
    });
    server = await listen(app);
    return { client, url: server.url };
  }

  it('keeps sessions through an app, each on the master of its slot, spread over the masters', async () => {
    const { client, url } = await counterApp();
    expect(store!.connected).toBe(true);
    const owners = new Set<number>();
    for (let i = 0; i < BROWSERS; i++) {
      const browser = new Client(url);
      expect((await browser.get('/')).body.n).toBe(1);
      const { n, key } = (await browser.get('/')).body as { n: number; key: string };
      expect(n).toBe(2);
      const owner = await cluster.ownerOf(key);
      owners.add(owner);
      const held = await cluster.node(owner).get(key);
      expect(JSON.parse(held!)).toMatchObject({ n: 2 });
      // Written with SET … PX: Redis expires it.
      expect(await cluster.node(owner).pttl(key)).toBeGreaterThan(0);
    }
    // Twelve random keys all on one of three masters would be a 1 in 180 000 chance.
    expect(owners.size).toBeGreaterThan(1);
    await store!.close();
    expect(client.isOpen).toBe(false);
  });

  it("serializes concurrent increments with the lock in the session's slot", async () => {
    const { url } = await counterApp({ concurrency: 'serialize' });
    const browser = new Client(url);
    const { key } = (await browser.get('/')).body as { key: string };
    expect(await cluster.keySlot(lockKeyFor(key))).toBe(await cluster.keySlot(key));
    const cookie = browser.cookieHeader('/');
    const replies = await Promise.all(Array.from({ length: 10 }, () => browser.get('/', { cookie })));
    expect(replies.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(await store!.get(key)).toMatchObject({ n: 11 });
    // Every lock was released: none is left in Redis.
    expect(await cluster.node(await cluster.ownerOf(lockKeyFor(key))).exists(lockKeyFor(key))).toBe(0);
  });

  it('answers update, touch and destroy through the cluster as on one Redis', async () => {
    await counterApp();
    const key = `${PREFIX}direct`;
    const cookie = { maxAge: 60_000 };
    expect(await store!.update(key, { cookie, n: 1 }, 60_000)).toBe(false);
    await store!.set(key, { cookie, n: 1 }, 10_000);
    expect(await store!.update(key, { cookie, n: 2 }, 60_000)).toBe(true);
    expect(await store!.touch(key, undefined)).toBe(true);
    const owner = await cluster.ownerOf(key);
    expect(await cluster.node(owner).pttl(key)).toBe(-1);
    await store!.destroy(key);
    expect(await store!.touch(key, 60_000)).toBe(false);
    expect(await cluster.node(owner).exists(key)).toBe(0);
  });
});
