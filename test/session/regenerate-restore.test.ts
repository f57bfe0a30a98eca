/**
 * After `regenerateSession()`, restoring data identical to the old session (the usual
 * "regenerate on login, keep the cart" pattern) saves it under the new sid.
 *
 * Naive: an implementation that decides "changed" by comparing with the hash of the session as it
 * was loaded (koa-generic-session in defer mode keeps `originalHash` across regenerateSession) sees
 * the restored data as unchanged and saves nothing: the old entry was destroyed, the new sid has no
 * entry, and the user loses the session.
 */
import type { Context } from 'koa';
import { afterEach, describe, expect, it } from 'vitest';
import Koa from 'koa';
import { closeApps, startApp } from '../helpers/apps.js';
import { cookieOf } from '../helpers/set-cookies.js';
import { PREFIX } from '../helpers/store-keys.js';
import { RecordingStore } from '../helpers/recording-store.js';

afterEach(closeApps);

type Sess = Record<string, unknown>;

describe.each([
  { mode: 'default', defer: false },
  { mode: 'defer', defer: true },
])('regenerate then restore identical data saves it under the new sid ($mode)', ({ defer }) => {
  const get = async (ctx: Context) => (defer ? await ctx.session : ctx.session) as Sess;

  async function start() {
    const store = new RecordingStore();
    const server = await startApp(Koa, { store, defer }, async (ctx) => {
      switch (ctx.path) {
        case '/login': {
          const s = await get(ctx);
          s.user = 'ann';
          s.cart = ['apple', 'pear'];
          break;
        }
        case '/assign': {
          const { cookie: _cookie, ...data } = structuredClone(await get(ctx));
          await ctx.regenerateSession();
          Object.assign(await get(ctx), data);
          break;
        }
        case '/replace': {
          const old = structuredClone(await get(ctx));
          await ctx.regenerateSession();
          ctx.session = old as never;
          break;
        }
        case '/save-now': {
          const { cookie: _cookie, ...data } = structuredClone(await get(ctx));
          await ctx.regenerateSession();
          Object.assign(await get(ctx), data);
          await ctx.saveSession();
          break;
        }
      }
      const s = await get(ctx);
      ctx.body = { user: s?.user ?? null, cart: s?.cart ?? null, sid: ctx.sessionId };
    });
    return { store, server };
  }

  it.each(['/assign', '/replace', '/save-now'])(
    '%s: old entry gone, data under the new sid, read back',
    async (path) => {
      const { store, server } = await start();
      const client = server.client();
      await client.get('/login');
      const oldSid = client.cookie('koa.sid')!;
      const reply = await client.get(path);
      expect(reply.status).toBe(200);
      const newSid = client.cookie('koa.sid');
      expect(newSid).toBeDefined();
      expect(newSid).not.toBe(oldSid);
      expect(reply.body.sid).toBe(newSid);
      expect(cookieOf(reply, 'koa.sid')?.expired).toBe(false);
      expect(store.peek(PREFIX + oldSid)).toBeUndefined();
      expect(store.peek(PREFIX + newSid)).toMatchObject({ user: 'ann', cart: ['apple', 'pear'] });
      const next = await client.get('/read');
      expect(next.body).toEqual({ user: 'ann', cart: ['apple', 'pear'], sid: newSid });
    },
  );
});
