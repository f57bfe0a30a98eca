/**
 * Where the middleware acts, on Koa 2 and Koa 3: the session API exists only under `cookie.path`
 * (outside it, no session, no sid, no cookie, no store call), and a second instance of the
 * middleware in the same app leaves the first in charge.
 */
import { afterEach, describe, expect, it } from 'vitest';
import session from '../../src/index.js';
import { KOA_VERSIONS } from '../helpers/koa.js';
import { closeApps, type Handler, startApp } from '../helpers/apps.js';
import { cookieNames, cookieOf } from '../helpers/set-cookies.js';
import { RecordingStore } from '../helpers/recording-store.js';
import { PREFIX } from '../helpers/store-keys.js';
import { routes, sess } from './fixtures/routes.js';

afterEach(closeApps);

describe.each(KOA_VERSIONS)('where the session applies on $name', ({ Koa }) => {
  describe('the API exists only under cookie.path', () => {
    it('outside the path there is no session, no sid, no cookie and no store call', async () => {
      const store = new RecordingStore();
      const t = await startApp(Koa, { store, cookie: { path: '/api' } }, (ctx) => {
        if (ctx.path.startsWith('/api')) {
          const s = sess(ctx);
          s.count = ((s.count as number) ?? 0) + 1;
          ctx.body = { count: s.count };
          return;
        }
        ctx.body = {
          session: ctx.session === undefined,
          sessionId: ctx.sessionId === undefined,
          regenerate: ctx.regenerateSession === undefined,
          save: ctx.saveSession === undefined,
        };
      });
      const client = t.client();
      const outsideFirst = await client.get('/home');
      expect(outsideFirst.body).toEqual({ session: true, sessionId: true, regenerate: true, save: true });
      const inside = await client.get('/api/count');
      expect(inside.body).toEqual({ count: 1 });
      expect(cookieOf(inside, 'koa.sid')!.attributes.path).toBe('/api');
      expect(cookieOf(inside, 'koa.sid.sig')!.attributes.path).toBe('/api');
      expect((await client.get('/api/count')).body).toEqual({ count: 2 });
      store.reset();
      // The cookie is sent anyway (a client that ignores paths): outside the path, nothing happens.
      const outside = await client.get('/home', { cookie: client.cookieHeader('/api') });
      expect(outside.body).toEqual({ session: true, sessionId: true, regenerate: true, save: true });
      expect(outside.setCookies).toEqual([]);
      expect(store.calls).toEqual([]);
    });
  });

  describe('a second instance of the middleware', () => {
    it('leaves the first in charge', async () => {
      const first = new RecordingStore();
      const second = new RecordingStore();
      const t = await startApp(Koa, { store: first }, routes, {
        after: [session({ store: second, key: 'other.sid', prefix: 'other:' }) as Handler],
      });
      const client = t.client();
      const reply = await client.get('/inc');
      expect(cookieNames(reply).sort()).toEqual(['koa.sid', 'koa.sid.sig']);
      expect((await client.get('/inc')).body.count).toBe(2);
      expect(first.inner.get(PREFIX + reply.body.sid)).toMatchObject({ count: 2 });
      expect(second.calls).toEqual([]);
    });
  });
});
