/**
 * The RedisStore's fenced writes store what koa-redis stores, so an app can go back and forth: a
 * browser's session is counted up in turn by this library (RedisStore) and by koa-generic-session
 * with koa-redis, on one real redis-server, with the same keys and cookie. Each reads what the
 * other wrote; the entry stays a plain string of the session's JSON; and a koa-generic-session
 * write that lands between this library's read and write (processes of both during a rolling
 * deploy) is not overwritten: the fenced write merges into it.
 */
import type { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';
import Koa from 'koa';
import genericSession from 'koa-generic-session';
import redisStore from 'koa-redis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RedisStore } from '../../src/index.js';
import { closeApps, startApp, type Handler } from '../helpers/apps.js';
import { deferred } from '../helpers/deferred.js';
import { Client, listen, type Listening } from '../helpers/http.js';
import { KEYS } from '../helpers/koa.js';

const url = inject('redisUrl');

describe.skipIf(!url)('RedisStore and koa-generic-session + koa-redis on the same sessions', () => {
  let raw: Redis;
  let ours: RedisStore;
  let theirs: ReturnType<typeof redisStore>;
  let reference: Listening;
  const storeErrors: unknown[] = [];
  /** Lets the next `/inc?wait` request of this library go on past its read. */
  let gate = deferred();
  let entered = deferred();

  /** `/inc` counts up, `/set/<key>` sets a key; `?wait` waits after the read until the test opens the gate. */
  const handler: Handler = async (ctx) => {
    const session = ctx.session as Record<string, unknown>;
    if (ctx.query.wait !== undefined) {
      entered.resolve();
      await gate.promise;
    }
    if (ctx.path === '/inc') session.count = ((session.count as number) ?? 0) + 1;
    else if (ctx.path.startsWith('/set/')) session[ctx.path.slice('/set/'.length)] = true;
    const { cookie: _, ...data } = session;
    ctx.body = data;
  };

  beforeAll(async () => {
    raw = new Redis(url, { maxRetriesPerRequest: 1 });
    ours = new RedisStore({ url });
    theirs = redisStore({ url });
    (theirs as unknown as EventEmitter).on('error', (err: unknown) => storeErrors.push(err));
    const app = new Koa();
    app.keys = KEYS;
    app.use(genericSession({ store: theirs }));
    app.use(handler as Koa.Middleware);
    reference = await listen(app);
  });

  afterAll(async () => {
    await closeApps();
    await reference?.close();
    await theirs?.quit();
    await ours?.close();
    await raw?.quit();
    expect(storeErrors).toEqual([]);
  });

  it('each reads what the other wrote, and the entry is the JSON koa-redis keeps', async () => {
    const app = await startApp(Koa, { store: ours }, handler);
    const browser = app.client();
    expect((await browser.get('/inc')).body).toEqual({ count: 1 });
    expect((await browser.get('/inc')).body).toEqual({ count: 2 });
    const cookie = browser.cookieHeader('/');
    const back = new Client(reference.url);
    expect((await back.get('/inc', { cookie })).body).toEqual({ count: 3 });
    expect((await browser.get('/inc')).body).toEqual({ count: 4 });
    expect((await back.get('/inc', { cookie })).body).toEqual({ count: 5 });

    const key = `koa:sess:${browser.cookie('koa.sid')}`;
    expect(await raw.type(key)).toBe('string');
    const stored = JSON.parse((await raw.get(key))!) as Record<string, unknown>;
    expect(stored).toEqual({ cookie: expect.objectContaining({ httpOnly: true, path: '/' }), count: 5 });
    expect(await raw.pttl(key)).toBeGreaterThan(0);
  });

  it("a koa-generic-session write between this library's read and write is merged into, not overwritten", async () => {
    const app = await startApp(Koa, { store: ours }, handler);
    const browser = app.client();
    expect((await browser.get('/inc')).status).toBe(200);
    const cookie = browser.cookieHeader('/');
    [gate, entered] = [deferred(), deferred()];
    const slow = browser.get('/set/mine?wait');
    await entered.promise;
    expect((await new Client(reference.url).get('/set/theirs', { cookie })).status).toBe(200);
    gate.resolve();
    expect((await slow).status).toBe(200);
    expect((await new Client(reference.url).get('/read', { cookie })).body).toEqual({
      count: 1,
      mine: true,
      theirs: true,
    });
  });
});
