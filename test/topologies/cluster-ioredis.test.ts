/**
 * Several processes on a Redis Cluster: RedisStore on a real Redis Cluster (three masters on
 * loopback, Debian's redis-server) shared by two app processes through ioredis' `Cluster` client.
 * What is asserted over HTTP is checked again on the nodes themselves: CLUSTER KEYSLOT, and GET on
 * the master that owns the slot (the other masters answer MOVED).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { lockKeyFor } from '../../src/stores/redis-lock.js';
import { Client } from '../helpers/http.js';
import { redisToolsAvailable, startRedisCluster, type RedisCluster } from '../helpers/redis-cluster.js';
import { waitUntil } from '../helpers/wait-until.js';
import { stopAppProcesses } from '../helpers/app-process.js';
import { startScaleOutApp } from './fixtures/apps.js';

const available = redisToolsAvailable('Redis Cluster');
let cluster: RedisCluster;

beforeAll(async () => {
  if (available) cluster = await startRedisCluster(3);
}, 45_000);
afterEach(stopAppProcesses);
afterAll(async () => {
  await stopAppProcesses();
  await cluster?.dispose();
});

/** Two app processes on the cluster. */
async function twoApps(env: Record<string, string> = {}) {
  const common = { CLUSTER_NODES: String(cluster.ports[0]), ...env };
  const [a, b] = await Promise.all([startScaleOutApp(common), startScaleOutApp(common)]);
  return { a, b };
}

/** What the owning master holds under `key` (parsed), or null; and what the others answer. */
async function onOwner(key: string) {
  const owner = await cluster.ownerOf(key);
  const raw = await cluster.node(owner).get(key);
  const others = await Promise.all(
    cluster.ports
      .filter((p) => p !== owner)
      .map((p) =>
        cluster
          .node(p)
          .get(key)
          .then(String, (err: Error) => err.message),
      ),
  );
  return { owner, value: raw === null ? null : (JSON.parse(raw) as { n?: number }), others };
}

describe.skipIf(!available)('RedisStore on a Redis Cluster of three masters, two app processes', () => {
  it('a session written through one process is read, modified, regenerated and destroyed through the other', async () => {
    const { a, b } = await twoApps();
    const viaA = new Client(a.url);
    const created = await viaA.get('/inc');
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ n: 1, pid: a.child.pid });
    const key1 = created.body.key as string;
    const cookie1 = viaA.cookieHeader('/');
    expect(cookie1).toContain('koa.sid=');

    // On the cluster: the key lives on the master that owns its slot; the others redirect.
    const slot1 = await cluster.keySlot(key1);
    const stored1 = await onOwner(key1);
    expect(stored1.value).toMatchObject({ n: 1 });
    for (const answer of stored1.others)
      expect(answer).toMatch(new RegExp(`^MOVED ${slot1} 127\\.0\\.0\\.1:${stored1.owner}$`));

    // Read and modified through the other process.
    const viaB = new Client(b.url);
    const read = await viaB.get('/read', { cookie: cookie1 });
    expect(read.body).toMatchObject({ n: 1, key: key1, pid: b.child.pid });
    expect((await viaB.get('/inc', { cookie: cookie1 })).body).toMatchObject({ n: 2, key: key1 });
    expect((await onOwner(key1)).value).toMatchObject({ n: 2 });
    expect((await viaA.get('/read', { cookie: cookie1 })).body).toMatchObject({ n: 2, key: key1 });

    // Regenerated through B (as a login does): a new sid and key, the old key gone from its master.
    viaB.jar.clear();
    const regen = await viaB.get('/regen', { cookie: cookie1 });
    expect(regen.status).toBe(200);
    const key2 = regen.body.key as string;
    expect(key2).not.toBe(key1);
    expect(regen.body.n).toBe(2);
    const cookie2 = viaB.cookieHeader('/');
    expect(cookie2).toContain('koa.sid=');
    expect(cookie2).not.toBe(cookie1);
    expect((await onOwner(key1)).value).toBeNull();
    const stored2 = await onOwner(key2);
    expect(stored2.value).toMatchObject({ n: 2 });
    expect((await viaA.get('/read', { cookie: cookie2 })).body).toMatchObject({ n: 2, key: key2 });
    // The old cookie no longer finds a session in either process.
    expect((await new Client(a.url).get('/read', { cookie: cookie1 })).body.n).toBe(0);

    // Destroyed through A: the cookie is cleared and the key is gone from its master.
    const logout = await new Client(a.url).get('/logout', { cookie: cookie2 });
    expect(logout.status).toBe(200);
    expect(logout.setCookies.find((c) => c.name === 'koa.sid')?.expired).toBe(true);
    expect((await onOwner(key2)).value).toBeNull();
    expect((await new Client(b.url).get('/read', { cookie: cookie2 })).body.n).toBe(0);
    console.log(
      `cluster lifecycle: ${key1} (slot ${slot1}, master :${stored1.owner}) -> regenerated as ${key2} ` +
        `(slot ${await cluster.keySlot(key2)}, master :${stored2.owner}) -> destroyed`,
    );
  }, 60_000);

  it('sessions spread over the masters: 30 sessions live on at least two of them', async () => {
    const { a, b } = await twoApps();
    const keys = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const reply = await new Client(i % 2 ? a.url : b.url).get('/inc');
        expect(reply.status).toBe(200);
        return reply.body.key as string;
      }),
    );
    const perMaster = new Map<number, number>();
    const slots = new Set<number>();
    for (const key of keys) {
      slots.add(await cluster.keySlot(key));
      const { owner, value } = await onOwner(key);
      expect(value).toMatchObject({ n: 1 });
      perMaster.set(owner, (perMaster.get(owner) ?? 0) + 1);
    }
    console.log(`30 sessions over ${slots.size} slots: ${[...perMaster].map(([p, n]) => `:${p} ${n}`).join(', ')}`);
    expect(slots.size).toBeGreaterThan(20);
    expect(perMaster.size).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it("concurrency: 'serialize': the lock key shares its session's slot, and 50 concurrent increments end at 50", async () => {
    const { a, b } = await twoApps({ SERIALIZE: '1', LOCK_LEASE: '5000', LOCK_TIMEOUT: '20000' });
    const client = new Client(a.url);
    const init = await client.get('/init');
    expect(init.body.n).toBe(0);
    const key = init.body.key as string;
    const cookie = client.cookieHeader('/');
    const lockKey = lockKeyFor(key);
    expect(lockKey).toBe(`{${key}}:lock`);
    const slot = await cluster.keySlot(key);
    expect(await cluster.keySlot(lockKey)).toBe(slot);
    // Keys with a hash tag of their own (a prefix like '{app}:') keep it for their lock.
    expect(await cluster.keySlot(lockKeyFor(`{app}:${key}`))).toBe(await cluster.keySlot(`{app}:${key}`));

    // The lock a request holds is really on the session's master, under that key.
    const owner = await cluster.ownerOf(key);
    const holding = new Client(b.url).get('/hold?ms=1500', { cookie });
    await waitUntil(
      async () => (await cluster.node(owner).get(lockKey)) !== null,
      1400,
      () => `no ${lockKey} on :${owner}`,
    );
    expect((await holding).status).toBe(200);

    const started = Date.now();
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, i) => new Client(i % 2 ? a.url : b.url).get('/inc', { cookie })),
    );
    const took = Date.now() - started;
    expect(replies.map((r) => r.status)).toEqual(Array(50).fill(200));
    // Every increment saw the one before it: the answers are 1..50, each once.
    expect(replies.map((r) => r.body.n).sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect((await new Client(b.url).get('/read', { cookie })).body.n).toBe(50);
    expect((await onOwner(key)).value).toMatchObject({ n: 50 });
    // Each lock was released (not awaited by the response: allow it a moment).
    await waitUntil(
      async () => (await cluster.node(owner).exists(lockKey)) === 0,
      2000,
      () => `${lockKey} left behind`,
    );
    console.log(
      `cluster serialize: 50 concurrent increments over two processes ended at 50 in ${took} ms (slot ${slot}, master :${owner})`,
    );
  }, 60_000);

  it('without the option the same 50 increments lose updates (the test above can fail)', async () => {
    const { a, b } = await twoApps();
    const client = new Client(a.url);
    await client.get('/init');
    const cookie = client.cookieHeader('/');
    await Promise.all(Array.from({ length: 50 }, (_, i) => new Client(i % 2 ? a.url : b.url).get('/inc', { cookie })));
    const n = (await new Client(b.url).get('/read', { cookie })).body.n;
    console.log(`cluster without serialize: 50 concurrent increments ended at ${n}`);
    expect(n).toBeLessThan(50);
  }, 60_000);
});
