/**
 * `concurrency: 'serialize'` across processes: two app processes share one real redis-server and
 * serialize the requests of a session through the RedisStore's lease lock.
 */
import { request } from 'node:http';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { startAppProcess, stopAppProcesses } from '../helpers/app-process.js';
import { Client } from '../helpers/http.js';

const redisUrl = inject('redisUrl');

/** An app process of ./fixtures/app-process.ts on the run's redis-server. */
function startApp(env: Record<string, string>) {
  return startAppProcess(new URL('./fixtures/app-process.ts', import.meta.url), {
    env: { REDIS_URL: redisUrl, ...env },
  });
}

afterEach(stopAppProcesses);

/** 49 concurrent increments of one session, alternating between two app processes; the final count. */
async function incrementsAcross(env: Record<string, string>): Promise<number> {
  const [a, b] = await Promise.all([startApp(env), startApp(env)]);
  const first = new Client(a.url);
  await first.get('/inc');
  const cookie = first.cookieHeader('/');
  await Promise.all(Array.from({ length: 49 }, (_, i) => new Client(i % 2 ? a.url : b.url).get('/inc', { cookie })));
  return (await new Client(b.url).get('/inc', { cookie })).body.n - 1;
}

describe.skipIf(!redisUrl)('no lost updates across processes (RedisStore lease lock, real redis-server)', () => {
  it('50 concurrent increments through two processes end at 50', async () => {
    expect(await incrementsAcross({ LOCK_LEASE: '5000' })).toBe(50);
  }, 60_000);

  it('without the option the same requests lose updates', async () => {
    expect(await incrementsAcross({ SERIALIZE: '0' })).toBeLessThan(50);
  }, 60_000);

  it('a holder killed mid-request blocks the session only until its lease runs out', async () => {
    const lease = 1000;
    const [a, b] = await Promise.all([
      startApp({ LOCK_LEASE: String(lease) }),
      startApp({ LOCK_LEASE: String(lease) }),
    ]);
    const client = new Client(b.url);
    await client.get('/inc');
    const cookie = client.cookieHeader('/');
    // A request that takes the lock in process A and never finishes.
    const holding = new Promise<void>((resolve, reject) => {
      const req = request(`${a.url}/hold`, { headers: { cookie } }, (res) => res.once('data', () => resolve()));
      req.on('error', () => undefined);
      req.once('error', reject);
      req.end();
    });
    await holding;
    a.child.kill('SIGKILL');
    const killedAt = Date.now();
    const after = await client.get('/inc', { cookie });
    const blockedFor = Date.now() - killedAt;
    expect(after.status).toBe(200);
    expect(after.body.n).toBe(2);
    // Reported, not asserted as a duration: the session came back once the lease had run out.
    console.log(`a killed holder blocked the session for ${blockedFor} ms (lease ${lease} ms)`);
  }, 30_000);
});
