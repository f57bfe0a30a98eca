/**
 * No lost update with the MemoryStore: `concurrency: 'serialize'` runs the requests of one session
 * one after another, so concurrent read-modify-write requests lose no update.
 */
import Koa from 'koa';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import session, { MemoryStore, type SessionOptions } from '../../src/index.js';
import { Client, listen, type Listening } from '../helpers/http.js';

/** An app whose /inc reads the counter, yields (as a handler awaiting a database would), then writes. */
function incrementApp(options: SessionOptions, hold?: () => Promise<void>) {
  const app = new Koa();
  app.keys = ['k'];
  app.silent = true;
  app.use(session(options));
  app.use(async (ctx) => {
    if (ctx.path === '/none') {
      ctx.body = 'untouched';
      return;
    }
    const s = (options.defer ? await ctx.session : ctx.session)!;
    const seen = typeof s.n === 'number' ? s.n : 0;
    await (hold ? hold() : sleep(1));
    s.n = seen + 1;
    ctx.body = { n: s.n };
  });
  return app;
}

let server: Listening | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function fiftyIncrements(options: SessionOptions): Promise<number> {
  const store = new MemoryStore();
  server = await listen(incrementApp({ store, ...options }));
  const client = new Client(server.url);
  await client.get('/inc');
  const cookie = client.cookieHeader('/');
  await Promise.all(Array.from({ length: 49 }, () => client.get('/inc', { cookie })));
  return (await client.get('/read-after', { cookie })).body.n - 1;
}

describe('no lost updates', () => {
  it("with concurrency: 'serialize', 50 concurrent increments of one session end at 50", async () => {
    expect(await fiftyIncrements({ concurrency: 'serialize' })).toBe(50);
  });

  it('with defer too (the lock is taken on first use)', async () => {
    expect(await fiftyIncrements({ concurrency: 'serialize', defer: true })).toBe(50);
  });

  it('without it, concurrent increments are lost (the problem the option solves)', async () => {
    expect(await fiftyIncrements({})).toBeLessThan(50);
  });

  /** An app whose /slow holds the session (and so its lock) until the test lets it go. */
  async function heldSession(options: SessionOptions) {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const holding = new Promise<void>((r) => (entered = r));
    let slow = false;
    const hold = () => {
      if (!slow) return Promise.resolve();
      slow = false;
      entered();
      return held;
    };
    server = await listen(incrementApp(options, hold));
    const client = new Client(server.url);
    await client.get('/inc');
    const cookie = client.cookieHeader('/');
    slow = true;
    const holder = client.get('/inc', { cookie });
    // The holder has the lock and is in its handler before the next request is sent.
    await holding;
    return { client, cookie, holder, release };
  }

  it('a request waiting longer than lockTimeout gets 503, and the session is served after', async () => {
    const { client, cookie, holder, release } = await heldSession({ concurrency: 'serialize', lockTimeout: 50 });
    const waiter = await client.get('/inc', { cookie });
    expect(waiter.status).toBe(503);
    expect(waiter.text).toBe('session store is unavailable');
    release();
    expect((await holder).body).toEqual({ n: 2 });
    expect((await client.get('/inc', { cookie })).body).toEqual({ n: 3 });
  });

  it("with storeOutage: 'degrade', the waiter gets an empty session that is not saved", async () => {
    const { client, cookie, holder, release } = await heldSession({
      concurrency: 'serialize',
      lockTimeout: 50,
      storeOutage: 'degrade',
    });
    const waiter = await client.get('/inc', { cookie });
    expect(waiter.status).toBe(200);
    expect(waiter.body).toEqual({ n: 1 });
    expect(waiter.setCookies).toEqual([]);
    release();
    await holder;
    expect((await client.get('/inc', { cookie })).body).toEqual({ n: 3 });
  });

  it('requests that never touch the session never wait (defer)', async () => {
    const { client, cookie, holder, release } = await heldSession({
      concurrency: 'serialize',
      defer: true,
      lockTimeout: 5000,
    });
    // The lock is held by the slow request; a page that does not use the session answers anyway.
    const none = await client.get('/none', { cookie });
    expect(none.text).toBe('untouched');
    release();
    expect((await holder).body).toEqual({ n: 2 });
  });

  it("refuses concurrency: 'serialize' with a store that has no lock()", () => {
    const plain = { get: () => undefined, set: () => undefined, destroy: () => undefined };
    expect(() => session({ store: plain, concurrency: 'serialize' })).toThrow(/lock\(\)/);
  });
});
