/**
 * examples/passport.ts as a newcomer runs it: the process prints its URL, a browser loads the login
 * form, logs in as the example's user, sees who is logged in, logs out; on the MemoryStore, and on
 * Redis when REDIS_URL is set. SIGTERM stops it.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { describe, expect, inject, it } from 'vitest';
import { Client, type Reply } from '../helpers/http.js';
import { formPost } from './fixtures/form.js';

/** The CSRF token a page's form carries. */
function csrfOf(page: Reply): string {
  const token = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1];
  expect(token, page.text).toBeDefined();
  return token!;
}

async function logInAndOut(client: Client) {
  const steps: string[] = [];
  const home = async () => {
    const page = await client.get('/');
    expect(page.status).toBe(200);
    return page;
  };
  steps.push((await home()).text.includes('Not logged in') ? 'anonymous' : 'not anonymous');

  const wrong = await client.request('/login', formPost({ username: 'alice', password: 'guess', _csrf: csrfOf(await client.get('/login')) }));
  expect(wrong.headers.get('location')).toBe('/login');
  const sidBefore = client.cookie('koa.sid');

  const login = await client.request('/login', formPost({ username: 'alice', password: 'wonderland', _csrf: csrfOf(await client.get('/login')) }));
  expect(login.status).toBe(302);
  expect(login.headers.get('location')).toBe('/');
  expect(client.cookie('koa.sid')).not.toBe(sidBefore);
  const loggedIn = await home();
  steps.push(loggedIn.text.includes('Logged in as <b>alice</b>') ? 'alice' : 'not alice');

  const logout = await client.request('/logout', formPost({ _csrf: csrfOf(loggedIn) }));
  expect(logout.status).toBe(302);
  steps.push((await home()).text.includes('Not logged in') ? 'anonymous' : 'not anonymous');
  return steps;
}

async function runExample(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/passport.ts'], {
    env: { ...process.env, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
    const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(line)?.[0];
    expect(url, line).toBeDefined();
    const steps = await logInAndOut(new Client(url!.slice(0, -1)));
    return { line, steps };
  } finally {
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
  }
}

describe('examples/passport.ts', () => {
  it('logs in and out on the MemoryStore and prints its URL', async () => {
    const { line, steps } = await runExample({});
    expect(line).toContain('MemoryStore');
    expect(steps).toEqual(['anonymous', 'alice', 'anonymous']);
  });

  it.skipIf(!inject('redisUrl'))('uses Redis when REDIS_URL is set', async () => {
    const { line, steps } = await runExample({ REDIS_URL: inject('redisUrl') });
    expect(line).toContain('RedisStore');
    expect(steps).toEqual(['anonymous', 'alice', 'anonymous']);
  });
});
