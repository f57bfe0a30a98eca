/**
 * `npm start` as a newcomer runs it: the example process prints its URL, serves the counter on the
 * MemoryStore, and on Redis when REDIS_URL is set; SIGTERM stops it.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { describe, expect, inject, it } from 'vitest';
import { Client } from './helpers/http.js';

async function runExample(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/counter.ts'], {
    env: { ...process.env, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
    const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(line)?.[0];
    expect(url, line).toBeDefined();
    const client = new Client(url!.slice(0, -1));
    const counts = [];
    for (const path of ['/get', '/get', '/read']) counts.push((await client.get(path)).body.count);
    await client.get('/remove');
    counts.push((await client.get('/read')).body.count);
    return { line, counts };
  } finally {
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
  }
}

describe('npm start (examples/counter.ts)', () => {
  it('serves the counter on the MemoryStore and prints its URL', async () => {
    const { line, counts } = await runExample({});
    expect(line).toContain('MemoryStore');
    expect(counts).toEqual([1, 2, 2, 0]);
  });

  it.skipIf(!inject('redisUrl'))('uses Redis when REDIS_URL is set', async () => {
    const { line, counts } = await runExample({ REDIS_URL: inject('redisUrl') });
    expect(line).toContain('RedisStore');
    expect(counts).toEqual([1, 2, 2, 0]);
  });
});
