/**
 * The options that decide where a sid comes from and where it travels, on Koa 2 and Koa 3:
 * `genSid` (the app's own generator, sync or async) and `sessionIdStore` (the sid carried somewhere
 * else than the cookie, e.g. a header). `valid` is with the rest of sid adoption, in
 * session/sid-adoption.test.ts.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryStore, type SessionIdStore, type StoredSession } from '../../src/index.js';
import { KOA_VERSIONS } from '../helpers/koa.js';
import { closeApps, counter, startApp } from '../helpers/apps.js';
import { cookieOf } from '../helpers/set-cookies.js';

afterEach(closeApps);

describe.each(KOA_VERSIONS)('genSid and sessionIdStore on $name', ({ Koa }) => {
  describe('genSid', () => {
    it('uses a synchronous generator, called with this = ctx and length 24', async () => {
      const seen: { self: unknown; length: number }[] = [];
      let n = 0;
      const store = new MemoryStore();
      const t = await startApp(
        Koa,
        {
          store,
          genSid(length) {
            seen.push({ self: this.state.marker, length });
            return `sid-${++n}`;
          },
        },
        counter,
        { before: [(ctx, next) => ((ctx.state.marker = 'the ctx'), next())] },
      );
      const reply = await t.client().get('/');
      expect(reply.body).toEqual({ count: 1, sid: 'sid-1' });
      expect(cookieOf(reply, 'koa.sid')?.value).toBe('sid-1');
      expect(store.get('koa:sess:sid-1')).toMatchObject({ count: 1 });
      expect(seen).toEqual([{ self: 'the ctx', length: 24 }]);
    });

    it('awaits an async generator', async () => {
      const store = new MemoryStore();
      const genSid = vi.fn(async function (this: unknown, length: number) {
        await new Promise((resolve) => setImmediate(resolve));
        return `async-${length}`;
      });
      const t = await startApp(Koa, { store, genSid }, (ctx) => {
        (ctx.session as StoredSession).user = 'ann';
        ctx.body = 'ok';
      });
      const client = t.client();
      const reply = await client.get('/');
      expect(cookieOf(reply, 'koa.sid')?.value).toBe('async-24');
      expect(store.get('koa:sess:async-24')).toMatchObject({ user: 'ann' });
      expect(genSid).toHaveBeenCalledTimes(1);
      expect(genSid.mock.contexts[0]).toHaveProperty('cookies');
    });

    it('defaults to 32-character url-safe ids, different for each new session', async () => {
      const t = await startApp(Koa, {}, counter);
      const a = (await t.client().get('/')).body.sid as string;
      const b = (await t.client().get('/')).body.sid as string;
      expect(a).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(b).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(a).not.toBe(b);
    });
  });

  describe('sessionIdStore', () => {
    it('carries the sid where the app says (a header), with this = ctx', async () => {
      const store = new MemoryStore();
      const sessionIdStore: SessionIdStore = {
        get() {
          return this.get('x-session-id') || undefined;
        },
        set(sid, sess) {
          this.set('x-session-id', sid);
          this.set('x-session-count', String(sess.count));
        },
        reset() {
          this.set('x-session-reset', '1');
        },
      };
      const t = await startApp(
        Koa,
        { store, sessionIdStore },
        (ctx) => {
          if (ctx.path === '/logout') {
            ctx.session = null;
            ctx.body = 'bye';
            return;
          }
          return counter(ctx, async () => undefined);
        },
        { keys: null },
      );
      const client = t.client();
      const first = await client.get('/');
      const sid = first.headers.get('x-session-id')!;
      expect(sid).toBe(first.body.sid);
      expect(first.headers.get('x-session-count')).toBe('1');
      expect(first.setCookies).toEqual([]);

      const second = await client.get('/', { headers: { 'x-session-id': sid } });
      expect(second.body).toEqual({ count: 2, sid });
      expect(second.headers.get('x-session-count')).toBe('2');

      const unknown = await client.get('/', { headers: { 'x-session-id': 'nope' } });
      expect(unknown.headers.get('x-session-reset')).toBe('1');
      expect(unknown.body.count).toBe(1);
      expect(unknown.body.sid).not.toBe('nope');

      const out = await client.get('/logout', { headers: { 'x-session-id': sid } });
      expect(out.headers.get('x-session-reset')).toBe('1');
      expect(store.get(`koa:sess:${sid}`)).toBeUndefined();
    });
  });
});
