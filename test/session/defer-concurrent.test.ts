/**
 * SPEC §5.4: in defer mode the store never sees a key built from an undefined sid, and two
 * concurrent reads of `ctx.session` get the same session.
 *
 * Naive: koa-generic-session's defer mode sets `touchSession = true` before its first `await`, so a
 * second read of `ctx.session` while the first is loading returns `this._session`, still undefined;
 * and a setter used before any read never loads the session, so the commit saves it under
 * `ctx.sessionId`, which is undefined for a new client: the key `koa:sess:undefined`, shared by every
 * such client.
 */
import type { Context } from 'koa';
import { afterEach, describe, expect, it } from 'vitest';
import { closeServers, PREFIX, RecordingStore, serve } from '../helpers/stores.js';

afterEach(closeServers);

type Sess = Record<string, unknown>;

/** A key the middleware made: the prefix and a uid-safe sid of 32 characters. */
const GOOD_KEY = new RegExp(`^${PREFIX}[A-Za-z0-9_-]{32}$`);

const routes: Record<string, (ctx: Context) => Promise<unknown>> = {
  '/login': async (ctx) => {
    const s = (await ctx.session) as Sess;
    s.user = 'ann';
    return { user: s.user };
  },
  '/read': async (ctx) => ({ user: ((await ctx.session) as Sess | null)?.user ?? null }),
  '/set-before-read': async (ctx) => {
    ctx.session = { user: 'set' } as never;
    return { user: ((await ctx.session) as Sess).user };
  },
  '/set-only': async (ctx) => {
    ctx.session = { user: 'set-only' } as never;
    return {};
  },
  '/null-only': async (ctx) => {
    ctx.session = null;
    return {};
  },
  '/regenerate-first': async (ctx) => {
    await ctx.regenerateSession();
    ((await ctx.session) as Sess).user = 'regenerated';
    return { sid: ctx.sessionId };
  },
  '/save-first': async (ctx) => {
    await ctx.saveSession();
    return {};
  },
  '/sid-first': async (ctx) => {
    const sid = ctx.sessionId;
    ((await ctx.session) as Sess).user = 'by-sid';
    return { sid };
  },
  '/concurrent': async (ctx) => {
    const [a, b] = await Promise.all([ctx.session, ctx.session]);
    const third = await ctx.session;
    (a as Sess).n = (((a as Sess).n as number | undefined) ?? 0) + 1;
    return {
      same: a === b && b === third,
      isObject: typeof a === 'object' && a !== null,
      user: (a as Sess).user ?? null,
      n: (b as Sess).n,
    };
  },
  '/concurrent-write': async (ctx) => {
    const reads = Promise.all([ctx.session, ctx.session]);
    ctx.session = { user: 'mid' } as never;
    const [a, b] = await reads;
    const c = await ctx.session;
    return { a: (a as Sess).user ?? null, b: (b as Sess).user ?? null, c: (c as Sess).user };
  },
};

async function start() {
  // An asynchronous store: reads are still pending while the handler goes on.
  const store = new RecordingStore({ async: true });
  const server = await serve({ store, defer: true }, async (ctx) => {
    const route = routes[ctx.path];
    ctx.body = route ? await route(ctx) : {};
  });
  return { store, server };
}

function expectNoUndefinedKey(store: RecordingStore): void {
  for (const key of store.keys()) {
    expect(key).not.toContain('undefined');
    expect(key).toMatch(GOOD_KEY);
  }
}

describe('defer mode: no undefined sid, one session for concurrent reads', () => {
  it('no store call, in any use of the session, has a key built from an undefined sid', async () => {
    const { store, server } = await start();
    // New clients (no cookie): each route once.
    for (const path of Object.keys(routes)) {
      const reply = await server.client().get(path);
      expect(reply.status, path).toBe(200);
    }
    // A client with a session: each route once more.
    for (const path of Object.keys(routes)) {
      const client = server.client();
      await client.get('/login');
      const reply = await client.get(path);
      expect(reply.status, path).toBe(200);
    }
    expect(store.calls.length).toBeGreaterThan(10);
    expectNoUndefinedKey(store);
    expect(server.errors).toEqual([]);
  });

  it('a setter before any read works: saved under a real sid, read back next request', async () => {
    const { store, server } = await start();
    const a = server.client();
    const b = server.client();
    expect((await a.get('/set-only')).status).toBe(200);
    expect((await b.get('/set-only')).status).toBe(200);
    const sidA = a.cookie('koa.sid');
    const sidB = b.cookie('koa.sid');
    expect(sidA).toBeDefined();
    expect(sidB).toBeDefined();
    expect(sidA).not.toBe(sidB);
    expect(store.peek(PREFIX + sidA)?.user).toBe('set-only');
    expect((await a.get('/read')).body).toEqual({ user: 'set-only' });
    expectNoUndefinedKey(store);
  });

  it('a setter before any read on an existing session replaces it under the same sid', async () => {
    const { store, server } = await start();
    const client = server.client();
    await client.get('/login');
    const sid = client.cookie('koa.sid')!;
    expect((await client.get('/set-before-read')).body).toEqual({ user: 'set' });
    expect(client.cookie('koa.sid')).toBe(sid);
    expect(store.peek(PREFIX + sid)?.user).toBe('set');
    expectNoUndefinedKey(store);
  });

  it('ctx.session = null before any read destroys the loaded session', async () => {
    const { store, server } = await start();
    const client = server.client();
    await client.get('/login');
    const sid = client.cookie('koa.sid')!;
    expect((await client.get('/null-only')).status).toBe(200);
    expect(client.cookie('koa.sid')).toBeUndefined();
    expect(store.peek(PREFIX + sid)).toBeUndefined();
    expectNoUndefinedKey(store);
  });

  it('two concurrent reads of a new session give the same object', async () => {
    const { server } = await start();
    const client = server.client();
    expect((await client.get('/concurrent')).body).toEqual({ same: true, isObject: true, user: null, n: 1 });
    expect((await client.get('/concurrent')).body).toEqual({ same: true, isObject: true, user: null, n: 2 });
  });

  it('two concurrent reads of a stored session give the same loaded object', async () => {
    const { server } = await start();
    const client = server.client();
    await client.get('/login');
    expect((await client.get('/concurrent')).body).toEqual({ same: true, isObject: true, user: 'ann', n: 1 });
    expect((await client.get('/concurrent')).body).toEqual({ same: true, isObject: true, user: 'ann', n: 2 });
  });

  it('reads started before a setter see the session, the read after it sees the replacement', async () => {
    const { server } = await start();
    const client = server.client();
    await client.get('/login');
    expect((await client.get('/concurrent-write')).body).toEqual({ a: 'ann', b: 'ann', c: 'mid' });
    expect((await client.get('/read')).body).toEqual({ user: 'mid' });
  });

  // Regression: with defer, a sid read through ctx.sessionId before the load used to be replaced when
  // the deferred load started the new session: the app saw one sid, the client got another.
  it('ctx.sessionId read before the session is the sid the session is saved under', async () => {
    const { store, server } = await start();
    const client = server.client();
    const reply = await client.get('/sid-first');
    expect(reply.status).toBe(200);
    const sid = client.cookie('koa.sid');
    expect(store.peek(PREFIX + sid)?.user).toBe('by-sid');
    expect(reply.body.sid).toBe(sid);
  });
});
