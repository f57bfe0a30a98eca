/**
 * A write that outlives its request never lands over a newer one. The late write is made to happen
 * every time: a process of the app reaches a real redis-server through a proxy that holds back
 * what its client sends once the handler has run, so the request's write waits in the proxy and
 * the request answers 503 after `storeTimeout`. The browser's next request, served by another
 * process of the app, reads and writes the session. Then the held write is released: it reaches
 * Redis after the newer one, is fenced off, and the newer count stays; the process that sent it
 * reports it (`onEvent` `fenced`, `late: true`). On every Redis client kind, with and without
 * `concurrency: 'serialize'`.
 */
import Koa from 'koa';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { RedisStore, type SessionNotice, type SessionOptions } from '../../src/index.js';
import { closeApps, startApp, type Handler } from '../helpers/apps.js';
import { startHoldingProxy, type HoldingProxy } from '../helpers/holding-proxy.js';
import { openClient, REDIS_CLIENT_KINDS } from '../helpers/redis-clients.js';

const redisUrl = inject('redisUrl');

let proxy: HoldingProxy | undefined;
const stores: RedisStore[] = [];
afterEach(async () => {
  proxy?.release();
  await closeApps();
  await Promise.all(stores.splice(0).map((store) => store.close()));
  await proxy?.close();
  proxy = undefined;
});

/** Counts up on `/inc`; on `/inc-held` too, and then holds back what the client sends next: its write. */
function counter(held: HoldingProxy): Handler {
  return (ctx) => {
    const sess = ctx.session!;
    if (ctx.path !== '/read') sess.count = ((sess.count as number) ?? 0) + 1;
    if (ctx.path === '/inc-held') held.holdSent();
    ctx.body = { count: sess.count };
  };
}

const MODES: { name: string; options: Partial<SessionOptions> }[] = [
  { name: 'last write wins', options: {} },
  // The held request's lock release is held back too: the next request gets the lock once its lease ends.
  { name: "'serialize'", options: { concurrency: 'serialize', lockLease: 500, lockTimeout: 5_000 } },
];

describe.skipIf(!redisUrl)('a write held back until after a newer write of the session, then released', () => {
  for (const kind of REDIS_CLIENT_KINDS) {
    for (const mode of MODES) {
      it(`is fenced off: the newer count stays (${kind.name}, ${mode.name})`, async () => {
        const held = (proxy = await startHoldingProxy(Number(new URL(redisUrl).port)));
        const notices: SessionNotice[] = [];
        const options = (store: RedisStore): SessionOptions => ({ store, storeTimeout: 300, ...mode.options });
        const viaProxy = new RedisStore({ client: await openClient(kind, `redis://127.0.0.1:${held.port}`) });
        const direct = new RedisStore({ client: await openClient(kind, redisUrl) });
        stores.push(viaProxy, direct);
        const slow = await startApp(
          Koa,
          { ...options(viaProxy), onEvent: (notice) => void notices.push(notice) },
          counter(held),
        );
        const other = await startApp(Koa, options(direct), counter(held));

        const browser = slow.client();
        expect((await browser.get('/inc')).body).toEqual({ count: 1 });
        // Its write (count 2) waits in the proxy: the request gives up on it.
        expect((await browser.get('/inc-held')).status).toBe(503);
        expect(held.heldSent).toBeGreaterThan(0);
        // The browser goes on on the other process: its count 2 and 3 are acknowledged.
        const cookie = browser.cookieHeader('/');
        for (const count of [2, 3]) expect((await other.client().get('/inc', { cookie })).body).toEqual({ count });

        held.release();
        // Redis runs a connection's commands in order: this read comes after the late write of count 2.
        expect((await browser.get('/read')).body).toEqual({ count: 3 });
        expect((await other.client().get('/read', { cookie })).body).toEqual({ count: 3 });
        expect(notices.filter((n) => n.type === 'fenced')).toEqual([
          { type: 'fenced', ctx: expect.anything(), late: true },
        ]);
      });
    }
  }
});
