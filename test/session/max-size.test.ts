/**
 * Saving a session whose serialized size exceeds `maxSize` fails with a clear error
 * (a 500, an error that names the limit), writes nothing to the store and sends no cookie; a session
 * under the limit is saved as usual.
 *
 * Naive: koa-generic-session has no limit: it writes whatever size to the store (a multi-megabyte
 * Redis value on every request), and cookie-based peers (koa-session) silently produce a cookie over
 * 4 KB that the browser drops, so the user is logged out without an error anywhere.
 */
import { afterEach, describe, expect, it } from 'vitest';
import Koa from 'koa';
import { closeApps, startApp } from '../helpers/apps.js';
import { sessionCookies } from '../helpers/set-cookies.js';
import { PREFIX } from '../helpers/store-keys.js';
import { RecordingStore } from '../helpers/recording-store.js';

afterEach(closeApps);

type Sess = Record<string, unknown>;

const MAX = 1000;

async function start(options: { errorHandler?: (err: Error, type: 'get' | 'set') => void } = {}) {
  const store = new RecordingStore();
  const server = await startApp(Koa, { store, maxSize: MAX, ...options }, async (ctx) => {
    const s = ctx.session as Sess;
    const size = Number(ctx.query.size ?? 0);
    const char = typeof ctx.query.char === 'string' ? ctx.query.char : 'x';
    if (ctx.path === '/fill') s.blob = char.repeat(size);
    if (ctx.path === '/fill-now') {
      s.blob = char.repeat(size);
      try {
        await ctx.saveSession();
      } catch (err) {
        s.blob = 'small again';
        ctx.body = { caught: (err as Error).message };
        return;
      }
    }
    ctx.body = { length: typeof s.blob === 'string' ? s.blob.length : 0 };
  });
  return { store, server };
}

describe('a session over maxSize fails clearly and writes nothing', () => {
  it('a session under the limit is saved', async () => {
    const { store, server } = await start();
    const client = server.client();
    const reply = await client.get('/fill?size=500');
    expect(reply.status).toBe(200);
    expect(sessionCookies(reply)).toHaveLength(2);
    expect(store.of('set')).toHaveLength(1);
    expect((await client.get('/read')).body).toEqual({ length: 500 });
  });

  it('a new session over the limit: 500, a clear error, no store write, no Set-Cookie', async () => {
    const { store, server } = await start();
    const reply = await server.client().get('/fill?size=2000');
    expect(reply.status).toBe(500);
    expect(reply.headers.getSetCookie()).toEqual([]);
    expect(store.writtenKeys()).toEqual([]);
    expect(store.inner.size).toBe(0);
    expect(server.errors).toHaveLength(1);
    expect(server.errors[0]!.message).toMatch(/maxSize/);
    expect(server.errors[0]!.message).toMatch(/1000/);
  });

  it('multi-byte characters count in bytes: 400 × "€" (1200 bytes) is over 1000', async () => {
    const { store, server } = await start();
    const reply = await server.client().get(`/fill?size=400&char=${encodeURIComponent('€')}`);
    expect(reply.status).toBe(500);
    expect(store.writtenKeys()).toEqual([]);
    expect(server.errors[0]!.message).toMatch(/maxSize/);
  });

  it('a loaded session that grows over the limit keeps its stored version intact', async () => {
    const { store, server } = await start();
    const client = server.client();
    await client.get('/fill?size=100');
    const sid = client.cookie('koa.sid')!;
    const before = store.peek(PREFIX + sid);
    const writes = store.writtenKeys().length;
    const reply = await client.get('/fill?size=5000');
    expect(reply.status).toBe(500);
    expect(reply.headers.getSetCookie()).toEqual([]);
    expect(store.writtenKeys().length).toBe(writes);
    expect(store.peek(PREFIX + sid)).toEqual(before);
    expect((await client.get('/read')).body).toEqual({ length: 100 });
  });

  it('saveSession() over the limit throws to the handler, which can recover', async () => {
    const { store, server } = await start();
    const client = server.client();
    const reply = await client.get('/fill-now?size=3000');
    expect(reply.status).toBe(200);
    expect(reply.body.caught).toMatch(/maxSize/);
    // The handler shrank the session: the commit saves the small version.
    const sid = client.cookie('koa.sid')!;
    expect(store.peek(PREFIX + sid)?.blob).toBe('small again');
    for (const w of store.calls.filter((c) => c.method === 'set' || c.method === 'update')) {
      expect(JSON.stringify(w.session).length).toBeLessThanOrEqual(MAX);
    }
  });

  it("with an errorHandler that swallows 'set' errors: 200, nothing written, no cookie", async () => {
    const seen: string[] = [];
    const { store, server } = await start({ errorHandler: (err, type) => void seen.push(`${type}: ${err.message}`) });
    const reply = await server.client().get('/fill?size=2000');
    expect(reply.status).toBe(200);
    expect(sessionCookies(reply)).toEqual([]);
    expect(store.writtenKeys()).toEqual([]);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(/^set: .*maxSize/);
  });
});
