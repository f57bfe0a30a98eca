/**
 * When a write of a session rewrites its owner-index entry (the `owner` option), over HTTP on a
 * MemoryStore that records its calls: a write that changes neither the owner, the `describe` info
 * nor an expiry a listing could see makes no index call, and the listing shows what it showed;
 * a changed owner, changed info, a longer expiry, or an entry last written a minute ago or more is
 * written. The clock is faked (Date only) where a minute must pass.
 */
import Koa from 'koa';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SessionInfo } from '../../src/sessions/types.js';
import { closeApps, startApp, type TestApp } from '../helpers/apps.js';
import type { Client } from '../helpers/http.js';
import { RecordingStore } from '../helpers/recording-store.js';

const DAY = 24 * 60 * 60 * 1000;

afterEach(async () => {
  vi.useRealTimers();
  await closeApps();
});

/** An app whose sessions belong to `session.user`, described by the request's user-agent. */
async function start(store: RecordingStore): Promise<TestApp> {
  return startApp(
    Koa,
    {
      store,
      owner: (s) => s.user as string | undefined,
      describe: (ctx) => ({ agent: ctx.get('user-agent') }),
    },
    async (ctx) => {
      const [, route, arg] = ctx.path.split('/');
      const session = ctx.session!;
      if (route === 'login') {
        await ctx.regenerateSession();
        ctx.session!.user = arg;
      } else if (route === 'count') {
        session.n = ((session.n as number | undefined) ?? 0) + 1;
      } else if (route === 'switch') {
        session.user = arg;
      } else if (route === 'remember') {
        // "Remember me": the cookie, and so the store entry, lives 30 days instead of one.
        session.cookie.maxAge = 30 * DAY;
      }
      ctx.body = { n: session.n ?? 0 };
    },
  );
}

/** The methods of the calls since the last `take`, the owner index's included. */
const take = (store: RecordingStore) => store.log.splice(0).map((c) => c.method);

const get = (client: Client, path: string, agent = 'browser-1') =>
  client.request(path, { headers: { 'user-agent': agent } });

async function listed(app: TestApp, owner: string): Promise<Omit<SessionInfo, 'handle'>[]> {
  return (await app.middleware.sessions.list(owner)).map(({ handle: _, ...info }) => info);
}

describe('index writes with owner', () => {
  it('a write that changes neither the owner, the info nor a visible expiry makes no index call', async () => {
    const store = new RecordingStore({ index: true });
    const app = await start(store);
    const client = app.client();
    await get(client, '/login/alice');
    expect(take(store)).toEqual(['indexAdd', 'set']);
    const before = await listed(app, 'alice');
    take(store);
    for (let i = 1; i <= 3; i++) {
      expect((await get(client, '/count')).body).toEqual({ n: i });
      expect(take(store)).toEqual(['get', 'update']);
    }
    // The listing shows what it showed: same entry, same createdAt, lastSeenAt of the login.
    expect(await listed(app, 'alice')).toEqual(before);
    expect(before).toEqual([expect.objectContaining({ agent: 'browser-1', current: false })]);
  });

  it('a changed owner is written to the new index and leaves the old one', async () => {
    const store = new RecordingStore({ index: true });
    const app = await start(store);
    const client = app.client();
    await get(client, '/login/alice');
    await get(client, '/count');
    take(store);
    await get(client, '/switch/bob');
    expect(take(store)).toEqual(['get', 'indexAdd', 'update', 'indexRemove']);
    expect(await listed(app, 'alice')).toEqual([]);
    expect(await listed(app, 'bob')).toHaveLength(1);
    // Back to alice in the same minute: written again, though alice's entry was written before.
    take(store);
    await get(client, '/switch/alice');
    expect(take(store)).toEqual(['get', 'indexAdd', 'update', 'indexRemove']);
    expect(await listed(app, 'alice')).toHaveLength(1);
    expect(await listed(app, 'bob')).toEqual([]);
  });

  it('a session that left its index and comes back to the same owner within the minute is written again', async () => {
    const store = new RecordingStore({ index: true });
    const app = await start(store);
    const client = app.client();
    await get(client, '/login/alice');
    // No owner any more (a logout that keeps the session): its entry leaves alice's index.
    await get(client, '/switch');
    expect(await listed(app, 'alice')).toEqual([]);
    take(store);
    await get(client, '/switch/alice');
    expect(take(store)).toEqual(['get', 'indexAdd', 'update']);
    expect(await listed(app, 'alice')).toHaveLength(1);
  });

  it('changed info from describe is written, and the listing shows it', async () => {
    const store = new RecordingStore({ index: true });
    const app = await start(store);
    const client = app.client();
    await get(client, '/login/alice');
    take(store);
    await get(client, '/count', 'browser-2');
    expect(take(store)).toEqual(['get', 'indexAdd', 'update']);
    expect(await listed(app, 'alice')).toEqual([expect.objectContaining({ agent: 'browser-2' })]);
    take(store);
    await get(client, '/count', 'browser-2');
    expect(take(store)).toEqual(['get', 'update']);
  });

  it('a longer expiry is written, so that the entry never expires before its session', async () => {
    const store = new RecordingStore({ index: true });
    const app = await start(store);
    const client = app.client();
    await get(client, '/login/alice');
    take(store);
    await get(client, '/remember');
    expect(take(store)).toEqual(['get', 'indexAdd', 'update']);
    // Two days later the session (30 days) still loads, and the listing still has it.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 2 * DAY);
    expect((await get(client, '/count')).body).toEqual({ n: 1 });
    expect(await listed(app, 'alice')).toHaveLength(1);
  });

  it('an entry written a minute ago or more is written again by the next write: lastSeenAt moves', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const start0 = Date.now();
    const store = new RecordingStore({ index: true });
    const app = await start(store);
    const client = app.client();
    await get(client, '/login/alice');
    vi.setSystemTime(start0 + 59_000);
    take(store);
    await get(client, '/count');
    expect(take(store)).toEqual(['get', 'update']);
    vi.setSystemTime(start0 + 60_000);
    await get(client, '/count');
    expect(take(store)).toEqual(['get', 'indexAdd', 'update']);
    const [entry] = await listed(app, 'alice');
    expect(entry!.lastSeenAt).toBe(start0 + 60_000);
    expect(entry!.createdAt).toBe(start0);
  });
});
