/**
 * What the tombstones of retired sids (`tombstoneTtl`, on by default; see the `late` state in
 * docs/lifecycle.md) cost in store calls, over HTTP on MemoryStores that record their calls: the
 * same requests on an app with them and one without (`tombstoneTtl: 0`). A request that loads its
 * session, reads or writes it makes no extra call; a login that regenerates a loaded session, and
 * a logout, make one: the tombstone's write; a sid the store does not know costs one read more.
 */
import Koa from 'koa';
import { afterEach, describe, expect, it } from 'vitest';
import type { SessionOptions } from '../../src/index.js';
import { sign } from '../../src/middleware/http/cookie-signature.js';
import { closeApps, startApp } from '../helpers/apps.js';
import { KEYS } from '../helpers/koa.js';
import { RecordingStore } from '../helpers/recording-store.js';

afterEach(closeApps);

async function start(options: SessionOptions) {
  const store = new RecordingStore();
  const app = await startApp(Koa, { store, ...options }, async (ctx) => {
    const route = ctx.path.slice(1);
    if (route === 'login') {
      await ctx.regenerateSession();
      ctx.session!.user = 'alice';
    } else if (route === 'logout') {
      ctx.session = null;
    } else if (route === 'count') {
      ctx.session!.n = ((ctx.session!.n as number | undefined) ?? 0) + 1;
    } else {
      ctx.body = { user: ctx.session?.user ?? null };
    }
    ctx.body ??= { ok: true };
  });
  return { store, client: app.client() };
}

/** Each call since the last `take` as `method`, tombstones (`<prefix>retired:…`) as `method tombstone`. */
const take = (store: RecordingStore) =>
  store.log.splice(0).map((c) => (c.key.includes('retired:') ? `${c.method} tombstone` : c.method));

describe('the store calls tombstones add', () => {
  it('none on a read or a write, one write on a login that regenerates a session, and one on a logout', async () => {
    const withThem = await start({});
    const without = await start({ tombstoneTtl: 0 });
    const steps = ['/login', '/me', '/me', '/count', '/login', '/count', '/logout'];
    const added: string[][] = [];
    for (const path of steps) {
      for (const { client } of [withThem, without]) {
        expect((await client.request(path, { method: 'POST' })).status).toBe(200);
      }
      const on = take(withThem.store);
      const off = take(without.store);
      // Every call of the app without tombstones, in order, and the tombstone calls besides.
      expect(on.filter((c) => !c.endsWith('tombstone'))).toEqual(off);
      added.push(on.filter((c) => c.endsWith('tombstone')));
    }
    expect(added).toEqual([
      [], // a first login: a new session, nothing to retire
      [],
      [],
      [],
      ['set tombstone'], // a login with a session: the old sid is retired
      [],
      ['set tombstone'], // a logout
    ]);
  });

  it('a request with a sid the store does not know reads its tombstone: the one extra call, on a miss', async () => {
    const withThem = await start({});
    const without = await start({ tombstoneTtl: 0 });
    const sid = 'a-sid-the-store-does-not-know';
    const cookie = `koa.sid=${sid}; koa.sid.sig=${sign(KEYS, `koa.sid=${sid}`)}`;
    for (const { client } of [withThem, without]) {
      expect((await client.request('/me', { cookie })).status).toBe(200);
    }
    expect(take(without.store)).toEqual(['get']);
    expect(take(withThem.store)).toEqual(['get', 'get tombstone']);
  });
});
