/**
 * examples/passport.ts as a newcomer runs it: the process prints its URL, a browser loads the login
 * form, logs in as the example's user, sees who is logged in, logs out; on the MemoryStore, and on
 * Redis when REDIS_URL is set. SIGTERM stops it.
 */
import { describe, expect, inject, it } from 'vitest';
import { runExample } from '../helpers/example-process.js';
import type { Client, Reply } from '../helpers/http.js';
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

  const wrong = await client.request(
    '/login',
    formPost({ username: 'alice', password: 'guess', _csrf: csrfOf(await client.get('/login')) }),
  );
  expect(wrong.headers.get('location')).toBe('/login');
  const sidBefore = client.cookie('koa.sid');

  const login = await client.request(
    '/login',
    formPost({ username: 'alice', password: 'wonderland', _csrf: csrfOf(await client.get('/login')) }),
  );
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

const runPassport = async (env: Record<string, string>) => {
  const { line, result } = await runExample('examples/passport.ts', env, logInAndOut);
  return { line, steps: result };
};

describe('examples/passport.ts', () => {
  it('logs in and out on the MemoryStore and prints its URL', async () => {
    const { line, steps } = await runPassport({});
    expect(line).toContain('MemoryStore');
    expect(steps).toEqual(['anonymous', 'alice', 'anonymous']);
  });

  it.skipIf(!inject('redisUrl'))('uses Redis when REDIS_URL is set', async () => {
    const { line, steps } = await runPassport({ REDIS_URL: inject('redisUrl') });
    expect(line).toContain('RedisStore');
    expect(steps).toEqual(['anonymous', 'alice', 'anonymous']);
  });
});
