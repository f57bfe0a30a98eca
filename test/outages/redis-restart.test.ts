/**
 * Fault tests on a real redis-server (SPEC §4.12, §5.1, §5.8; issue 3), on every client kind the
 * RedisStore takes (test/helpers/redis-clients.ts): the server is stopped and restarted while
 * requests are in flight, and frozen with SIGSTOP (a store that never answers). Request counts and
 * waits are bounded; the server is this test's own, with persistence on, so a restart keeps what
 * was written before the outage.
 */
import Koa from 'koa';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, inject, it } from 'vitest';
import session, { RedisStore } from '../../src/index.js';
import { Client, listen, type Listening } from '../helpers/http.js';
import { REDIS_CLIENT_KINDS, type RedisClientKind } from '../helpers/redis-clients.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

const redisUrl = inject('redisUrl');

let redis: RedisServer | undefined;
let store: RedisStore | undefined;
let server: Listening | undefined;
afterEach(async () => {
  await server?.close();
  await store?.close();
  await redis?.dispose();
  server = store = redis = undefined;
});

async function counterApp(kind: RedisClientKind, options: { reconnectTimeout: number; storeTimeout: number }) {
  redis = await startRedisServer({ persist: true });
  store = new RedisStore({ client: kind.make(redis.url, { retryDelay: 50 }) });
  const app = new Koa();
  app.keys = ['k'];
  app.silent = true;
  app.use(session({ store, ...options }));
  app.use((ctx) => {
    const s = ctx.session!;
    s.n = ((s.n as number) ?? 0) + 1;
    ctx.body = { n: s.n };
  });
  server = await listen(app);
  return new Client(server.url);
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

describe.skipIf(!redisUrl).each(REDIS_CLIENT_KINDS)('store outages on a real redis-server, $name', (kind) => {
  it('stopped and restarted while requests run: 503s within the bound, then service as before', async () => {
    const unhandled: unknown[] = [];
    const record = (r: unknown) => unhandled.push(r);
    process.on('unhandledRejection', record);
    try {
      const client = await counterApp(kind, { reconnectTimeout: 300, storeTimeout: 1000 });
      await client.get('/');
      await client.get('/');
      const cookie = client.cookieHeader('/');
      await redis!.stop();
      const stoppedAt = Date.now();
      let restartedAt = 0;
      const restart = sleep(800).then(async () => {
        await redis!.restart();
        restartedAt = Date.now() - stoppedAt;
      });
      const seen = await stream(client, cookie, 300);
      await restart;
      const firstFailure = seen.find((r) => r.status !== 200);
      expect(firstFailure?.status).toBe(503);
      // Every answer during the outage was a 503 (never a 500, never a hang past the bounds).
      expect(seen.filter((r) => r.status !== 200 && r.status !== 503)).toEqual([]);
      // No answer hung: each came well within the bounds (a hang would reach the stream's end).
      expect(seen.every((r, i) => i === 0 || r.at - seen[i - 1]!.at < 5000)).toBe(true);
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
    const client = await counterApp(kind, { reconnectTimeout: 300, storeTimeout: 250 });
    await client.get('/');
    const cookie = client.cookieHeader('/');
    redis!.freeze();
    const frozenAt = Date.now();
    const during = await Promise.all([1, 2, 3].map(() => client.get('/', { cookie })));
    const answeredIn = Date.now() - frozenAt;
    expect(during.map((r) => r.status)).toEqual([503, 503, 503]);
    expect(during[0]!.text).toBe('session store is unavailable');
    redis!.thaw();
    let after = await client.get('/', { cookie });
    for (let i = 0; i < 20 && after.status !== 200; i++) {
      await sleep(50);
      after = await client.get('/', { cookie });
    }
    expect(after.status).toBe(200);
    expect(after.body.n).toBeGreaterThanOrEqual(2);
    console.log(`${kind.name}, redis SIGSTOP: three concurrent requests answered 503 within ${answeredIn} ms`);
  }, 30_000);
});
