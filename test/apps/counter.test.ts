/**
 * `npm start` as a newcomer runs it: the example process prints its URL, serves the counter on the
 * MemoryStore, and on Redis when REDIS_URL is set; SIGTERM stops it.
 */
import { describe, expect, inject, it } from 'vitest';
import { runExample } from '../helpers/example-process.js';
import type { Client } from '../helpers/http.js';

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

describe('npm start (examples/counter.ts)', () => {
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
