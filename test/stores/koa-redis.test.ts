/**
 * koa-redis 4 (the store most koa-generic-session apps use, with its own ioredis 4 client) works
 * unchanged as the middleware's store, in a real Koa app against a real redis-server.
 */
import type { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';
import Koa from 'koa';
import redisStore from 'koa-redis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import session from '../../src/index.js';
import { Client, listen, type Listening } from '../helpers/http.js';
import { startRedisServer } from '../helpers/redis-server.js';
import { KEYS } from '../helpers/koa.js';

const url = inject('redisUrl');

/** A counter app on `store`; every sid it hands out is added to `sids`. */
function counterApp(store: ReturnType<typeof redisStore>, sids: Set<string>): Koa {
  const app = new Koa();
  app.keys = KEYS;
  app.use(session({ store }));
  app.use(async (ctx) => {
    const sess = ctx.session;
    switch (ctx.path) {
      case '/inc':
        if (!sess) break;
        sess.count = (typeof sess.count === 'number' ? sess.count : 0) + 1;
        break;
      case '/logout':
        ctx.session = null;
        break;
      case '/regenerate': {
        const count = sess?.count;
        await ctx.regenerateSession();
        if (ctx.session) ctx.session.count = count;
        break;
      }
      case '/read':
        break;
      default:
        ctx.status = 404;
        return;
    }
    if (ctx.sessionId) sids.add(ctx.sessionId);
    ctx.body = { count: ctx.session?.count ?? 0, sid: ctx.sessionId };
  });
  return app;
}

describe.skipIf(!url)(
  url
    ? 'koa-redis 4 as the store, on a real redis-server'
    : '!!! koa-redis store: SKIPPED, redis-server is not on PATH !!!',
  () => {
    let raw: Redis;
    let store: ReturnType<typeof redisStore>;
    let server: Listening;
    const storeErrors: unknown[] = [];
    /** The middleware's default prefix: keys are koa-generic-session's, 'koa:sess:' + sid. */
    const prefix = 'koa:sess:';
    /** Every sid the app handed out, deleted at the end (sids are random: no clash between runs). */
    const sids = new Set<string>();

    beforeAll(async () => {
      raw = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await raw.connect();
      store = redisStore({ url });
      // koa-redis re-emits its client's errors on the store: an EventEmitter 'error' without a
      // listener would throw.
      (store as unknown as EventEmitter).on('error', (err: unknown) => storeErrors.push(err));
      server = await listen(counterApp(store, sids));
    });

    afterAll(async () => {
      await server?.close();
      await store?.quit();
      if (raw && sids.size > 0) await raw.del(...[...sids].map((sid) => prefix + sid));
      await raw?.quit();
      expect(storeErrors).toEqual([]);
    });

    const stored = async (sid: string) => {
      const json = await raw.get(prefix + sid);
      return json === null ? null : (JSON.parse(json) as Record<string, unknown>);
    };

    it('keeps a counter across requests, in Redis under koa:sess:<sid>', async () => {
      const client = new Client(server.url);
      const first = await client.get('/inc');
      expect(first.status).toBe(200);
      expect(first.body.count).toBe(1);
      const sid = client.cookie('koa.sid');
      expect(sid).toBe(first.body.sid);
      expect(client.cookie('koa.sid.sig')).toBeDefined();
      expect((await client.get('/inc')).body.count).toBe(2);
      expect((await client.get('/inc')).body).toEqual({ count: 3, sid });
      const value = await stored(sid!);
      expect(value).toMatchObject({ count: 3, cookie: { httpOnly: true, path: '/', maxAge: 86_400_000 } });
      // koa-redis turns the middleware's ms into whole seconds for SETEX.
      const ttl = await raw.ttl(prefix + sid);
      expect(ttl).toBeGreaterThan(86_000);
      expect(ttl).toBeLessThanOrEqual(86_400);
      // A reading request with no change does not rewrite it.
      expect((await client.get('/read')).body.count).toBe(3);
    });

    it('deletes the key on ctx.session = null', async () => {
      const client = new Client(server.url);
      await client.get('/inc');
      const sid = client.cookie('koa.sid')!;
      expect(await raw.exists(prefix + sid)).toBe(1);
      const reply = await client.get('/logout');
      expect(reply.status).toBe(200);
      expect(await raw.exists(prefix + sid)).toBe(0);
      expect(client.cookie('koa.sid')).toBeUndefined();
      expect((await client.get('/read')).body.count).toBe(0);
    });

    it('regenerates: a new sid holds the data, the old key is gone', async () => {
      const client = new Client(server.url);
      await client.get('/inc');
      await client.get('/inc');
      const oldSid = client.cookie('koa.sid')!;
      const reply = await client.get('/regenerate');
      expect(reply.status).toBe(200);
      const newSid = client.cookie('koa.sid')!;
      expect(newSid).toBeDefined();
      expect(newSid).not.toBe(oldSid);
      expect(reply.body.sid).toBe(newSid);
      expect(await raw.exists(prefix + oldSid)).toBe(0);
      expect(await stored(newSid)).toMatchObject({ count: 2 });
      expect((await client.get('/inc')).body).toEqual({ count: 3, sid: newSid });
      // The old cookie no longer opens anything.
      const replay = await new Client(server.url).get('/read', { cookie: `koa.sid=${oldSid}` });
      expect(replay.body.count).toBe(0);
    });

    it('treats a value that is not a session object as no session', async () => {
      const client = new Client(server.url);
      await client.get('/inc');
      const sid = client.cookie('koa.sid')!;
      for (const garbage of ['[1,2]', '"str"', '{"__proto__":{"polluted":1}}', 'not json']) {
        await raw.set(prefix + sid, garbage, 'EX', 60);
        const reply = await client.get('/read');
        expect(reply.status, garbage).toBe(200);
        expect(reply.body.count, garbage).toBe(0);
      }
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('serves ten clients at once without mixing their sessions', async () => {
      const clients = Array.from({ length: 10 }, () => new Client(server.url));
      for (let round = 1; round <= 3; round++) {
        const replies = await Promise.all(clients.map((c) => c.get('/inc')));
        for (const r of replies) expect(r.body.count).toBe(round);
      }
      const sidsNow = clients.map((c) => c.cookie('koa.sid'));
      expect(new Set(sidsNow).size).toBe(10);
    });

    it('serves again after a Redis outage (koa-redis emits close on every lost connection)', async () => {
      const own = await startRedisServer();
      const ownStore = redisStore({ url: own.url });
      const errors: unknown[] = [];
      (ownStore as unknown as EventEmitter).on('error', (err: unknown) => errors.push(err));
      const ownSids = new Set<string>();
      const app = await listen(counterApp(ownStore, ownSids));
      try {
        const client = new Client(app.url);
        expect((await client.get('/inc')).body.count).toBe(1);
        await own.stop();
        await new Promise((resolve) => setTimeout(resolve, 300));
        await own.restart();
        // ioredis 4 reconnects within its retry delay (50 ms, 100 ms, …).
        const deadline = Date.now() + 5_000;
        let reply = await client.get('/read');
        while (reply.status !== 200 && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          reply = await client.get('/read');
        }
        expect(reply.status).toBe(200);
        // Its data died with the server (no persistence): a fresh session, saved again.
        expect((await client.get('/inc')).status).toBe(200);
      } finally {
        await app.close();
        await ownStore.quit().catch(() => undefined);
        await own.dispose();
      }
    });
  },
);
