/**
 * The counter example (examples/app.ts), as a newcomer meets it: in process, it counts, regenerates
 * and logs out; as `npm start` runs it (examples/counter.ts, its own process), it prints its URL,
 * serves the counter on the MemoryStore, and on Redis when REDIS_URL is set; SIGTERM stops it.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createCounterApp } from '../../examples/app.js';
import { runExample } from '../helpers/example-process.js';
import { Client, listen, type Listening } from '../helpers/http.js';

describe('the counter example in process (examples/app.ts)', () => {
  let server: Listening;
  beforeAll(async () => {
    server = await listen(createCounterApp());
  });
  afterAll(() => server.close());

  it('counts, regenerates and logs out', async () => {
    const client = new Client(server.url);
    expect((await client.get('/get')).body).toEqual({ count: 1 });
    expect((await client.get('/get')).body).toEqual({ count: 2 });
    const sid = client.cookie('koa.sid');
    await client.get('/regenerate');
    expect(client.cookie('koa.sid')).toBeUndefined();
    expect((await client.get('/get')).body).toEqual({ count: 1 });
    expect(client.cookie('koa.sid')).not.toBe(sid);
    await client.get('/remove');
    expect(client.cookie('koa.sid')).toBeUndefined();
    expect((await client.get('/read')).body).toEqual({ count: 0 });
  });
});

/** /get twice, /read, /remove, /read: the counts the counter answered. */
async function countUpAndRemove(client: Client): Promise<unknown[]> {
  const counts = [];
  for (const path of ['/get', '/get', '/read']) counts.push((await client.get(path)).body.count);
  await client.get('/remove');
  counts.push((await client.get('/read')).body.count);
  return counts;
}

const runCounter = async (env: Record<string, string>) => {
  const { line, result } = await runExample('examples/counter.ts', env, countUpAndRemove);
  return { line, counts: result };
};

describe('the counter example as npm start runs it (examples/counter.ts)', () => {
  it('serves the counter on the MemoryStore and prints its URL', async () => {
    const { line, counts } = await runCounter({});
    expect(line).toContain('MemoryStore');
    expect(counts).toEqual([1, 2, 2, 0]);
  });

  it.skipIf(!inject('redisUrl'))('uses Redis when REDIS_URL is set', async () => {
    const { line, counts } = await runCounter({ REDIS_URL: inject('redisUrl') });
    expect(line).toContain('RedisStore');
    expect(counts).toEqual([1, 2, 2, 0]);
  });
});
