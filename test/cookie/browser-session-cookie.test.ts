/**
 * `cookie.maxAge: 'session'` and `cookie.maxAge: null` give a browser-session cookie (no
 * Expires, no Max-Age) while the store entry still expires (a finite TTL), and nothing fails after
 * the store was written.
 *
 * Naive: koa-generic-session computes the TTL only from a numeric maxAge, so the entry is written
 * with `ttl` undefined (it never expires); then it sets the cookie with `maxAge: 'session'`, which
 * `cookies` rejects ('option maxAge is invalid'): a 500 after the store was written, the session
 * saved but the client never told.
 */
import { afterEach, describe, expect, it } from 'vitest';
import Koa from 'koa';
import { closeApps, counter, startApp } from '../helpers/apps.js';
import { KOA_VERSIONS } from '../helpers/koa.js';
import { cookieOf, sessionCookies } from '../helpers/set-cookies.js';
import { PREFIX } from '../helpers/store-keys.js';
import { RecordingStore } from '../helpers/recording-store.js';

afterEach(closeApps);

type Sess = Record<string, unknown>;

describe.each([
  { label: "'session'", maxAge: 'session' as const },
  { label: 'null', maxAge: null },
])('maxAge: $label gives a browser-session cookie and a store entry that expires', ({ maxAge }) => {
  describe.each([false, true])('rolling: %s', (rolling) => {
    async function start() {
      const store = new RecordingStore();
      const server = await startApp(Koa, { store, rolling, cookie: { maxAge } }, async (ctx) => {
        const s = ctx.session as Sess | null;
        if (ctx.path === '/inc') s!.count = ((s!.count as number | undefined) ?? 0) + 1;
        if (ctx.path === '/regenerate') {
          await ctx.regenerateSession();
          (ctx.session as Sess).count = 100;
        }
        if (ctx.path === '/save-now') {
          s!.count = -1;
          await ctx.saveSession();
        }
        if (ctx.path === '/logout') ctx.session = null;
        ctx.body = { count: (ctx.session as Sess | null)?.count ?? null };
      });
      return { store, server };
    }

    it('cookies without Expires/Max-Age, finite TTLs, 200 on every request', async () => {
      const { store, server } = await start();
      const client = server.client();
      const replies = [];
      for (const path of ['/inc', '/inc', '/read', '/save-now', '/regenerate', '/inc']) {
        const reply = await client.get(path);
        expect(reply.status, path).toBe(200);
        replies.push(reply);
        for (const c of sessionCookies(reply).filter((c) => !c.expired)) {
          expect(c.attributes.expires, `${path} ${c.name}`).toBeUndefined();
          expect(c.attributes['max-age'], `${path} ${c.name}`).toBeUndefined();
        }
      }
      expect(replies.map((r) => r.body.count)).toEqual([1, 2, 2, -1, 100, 101]);
      expect(cookieOf(replies[0]!, 'koa.sid')?.expired).toBe(false);
      expect(cookieOf(replies[0]!, 'koa.sid.sig')?.expired).toBe(false);

      const writes = store.calls.filter((c) => c.method !== 'get' && c.method !== 'destroy');
      expect(writes.length).toBeGreaterThan(0);
      for (const w of writes) {
        expect(typeof w.ttl, `${w.method} ttl`).toBe('number');
        expect(Number.isFinite(w.ttl) && w.ttl! > 0, `${w.method} ttl ${w.ttl}`).toBe(true);
      }
      // The stored session keeps its cookie option, so that stores read it back unchanged.
      const sid = client.cookie('koa.sid')!;
      expect((store.peek(PREFIX + sid)!.cookie as Sess).maxAge).toBe(maxAge);

      const logout = await client.get('/logout');
      expect(logout.status).toBe(200);
      expect(store.peek(PREFIX + sid)).toBeUndefined();
      expect(server.errors).toEqual([]);
    });

    it('an explicit ttl option still wins', async () => {
      const store = new RecordingStore();
      const server = await startApp(Koa, { store, rolling, ttl: 12_345, cookie: { maxAge } }, (ctx) => {
        (ctx.session as Sess).x = 1;
        ctx.body = {};
      });
      expect((await server.client().get('/')).status).toBe(200);
      expect(store.of('set').map((c) => c.ttl)).toEqual([12_345]);
    });
  });
});

describe.each(KOA_VERSIONS)('a browser-session cookie on $name', ({ Koa: KoaOfVersion }) => {
  it.each(['session' as const, null])(
    'maxAge: %j gives a browser-session cookie without Expires or Max-Age',
    async (maxAge) => {
      const store = new RecordingStore();
      const t = await startApp(KoaOfVersion, { store, cookie: { maxAge } }, counter);
      const client = t.client();
      const reply = await client.get('/');
      expect(reply.status).toBe(200);
      for (const name of ['koa.sid', 'koa.sid.sig']) {
        const c = cookieOf(reply, name)!;
        expect(c.value).not.toBe('');
        expect(c.attributes.expires).toBeUndefined();
        expect(c.attributes['max-age']).toBeUndefined();
      }
      expect(store.inner.get(`koa:sess:${reply.body.sid}`)).toMatchObject({ count: 1 });
      // The store entry still expires.
      const ttl = store.of('set')[0]!.ttl;
      expect(Number.isFinite(ttl) && ttl! > 0).toBe(true);
      expect((await client.get('/')).body.count).toBe(2);
    },
  );
});
