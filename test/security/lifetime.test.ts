/**
 * `maxLifetime`: an absolute timeout, as OWASP asks beside the idle one. A session created longer
 * ago than that is gone whatever its activity (with `rolling` too): destroyed in the store, its
 * cookie reset, a fresh session, and an `onEvent` notice. A login (`regenerateSession()`) starts a
 * new lifetime, and the store TTL never outlives the lifetime. koa-generic-session has no such
 * bound: with `rolling`, a stolen cookie lives as long as it is used. Run on the MemoryStore and
 * RedisStore; the creation time of a session is moved into the past through the store.
 */
import { afterEach, describe, expect, it } from 'vitest';
import Koa from 'koa';
import type { SessionNotice, SessionOptions } from '../../src/index.js';
import type { Client } from '../helpers/http.js';
import { storeKinds, useStoreKind } from '../helpers/store-kinds.js';
import { closeApps, startApp } from '../helpers/apps.js';
import { sessionCookies } from '../helpers/set-cookies.js';
import { PREFIX } from '../helpers/store-keys.js';

afterEach(closeApps);

const KINDS = storeKinds(11);
const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

const app = async (ctx: {
  path: string;
  session: Record<string, unknown> | null;
  regenerateSession(): Promise<unknown>;
  body: unknown;
}) => {
  if (ctx.path === '/login') await ctx.regenerateSession();
  const s = ctx.session!;
  if (ctx.path === '/inc' || ctx.path === '/login') s.n = ((s.n as number) ?? 0) + 1;
  ctx.body = { n: s.n ?? null, keys: Object.keys(s) };
};

describe.each(KINDS)('maxLifetime ($name)', (kind) => {
  const made = useStoreKind(kind);

  async function start(options: SessionOptions = {}) {
    const notices: SessionNotice[] = [];
    const served = await startApp(
      Koa,
      { store: made.store(), maxLifetime: DAY, rolling: true, onEvent: (n) => void notices.push(n), ...options },
      app as never,
    );
    return { served, notices, browser: served.client() };
  }

  /** Moves the stored session of `browser` back in time: created `age` ms ago. */
  async function age(browser: Client, ms: number): Promise<string> {
    const sid = browser.cookie('koa.sid')!;
    const stored = await made.raw(PREFIX + sid);
    stored.cookie.createdAt = Date.now() - ms;
    await made.put(PREFIX + sid, stored, HOUR);
    return sid;
  }

  it('a session older than maxLifetime is destroyed and replaced, however active it was', async () => {
    const { served, browser, notices } = await start();
    await browser.get('/inc');
    await browser.get('/inc');
    const sid = await age(browser, DAY + 1000);
    const reply = await browser.get('/inc');
    expect(reply.status).toBe(200);
    expect(reply.body.n).toBe(1);
    expect(browser.cookie('koa.sid')).not.toBe(sid);
    expect(await made.raw(PREFIX + sid)).toBeUndefined();
    expect(notices.filter((n) => n.type === 'expired')).toHaveLength(1);
    expect(served.errors).toEqual([]);
  });

  it('a session that only reads is reset too (its cookie expired, no new one saved)', async () => {
    const { browser } = await start();
    await browser.get('/inc');
    const sid = await age(browser, DAY + 1000);
    const reply = await browser.get('/read');
    expect(reply.body.n).toBeNull();
    expect(sessionCookies(reply).find((c) => c.name === 'koa.sid')?.expired).toBe(true);
    expect(await made.raw(PREFIX + sid)).toBeUndefined();
  });

  it('a session within its lifetime loads, and rolling does not move its start', async () => {
    const { browser } = await start();
    await browser.get('/inc');
    const sid = await age(browser, DAY - HOUR);
    const { cookie } = await made.raw(PREFIX + sid);
    for (let i = 0; i < 3; i++) await browser.get('/read');
    expect((await browser.get('/inc')).body.n).toBe(2);
    expect((await made.raw(PREFIX + sid)).cookie.createdAt).toBe(cookie.createdAt);
  });

  it('a login (regenerateSession) starts a new lifetime', async () => {
    const { browser } = await start();
    await browser.get('/inc');
    await age(browser, DAY - HOUR);
    const before = Date.now();
    await browser.get('/login');
    const stored = await made.raw(PREFIX + browser.cookie('koa.sid'));
    expect(stored.cookie.createdAt).toBeGreaterThanOrEqual(before);
  });

  it('the creation time is not a new top-level key of ctx.session', async () => {
    const { browser } = await start();
    await browser.get('/inc');
    expect((await browser.get('/inc')).body.keys).toEqual(['cookie', 'n']);
  });

  it('a session stored before maxLifetime was on begins its lifetime at its next request', async () => {
    const plain = await startApp(Koa, { store: made.store() }, app as never);
    const browser = plain.client();
    await browser.get('/inc');
    const sid = browser.cookie('koa.sid')!;
    expect((await made.raw(PREFIX + sid)).cookie.createdAt).toBeUndefined();
    const { served } = await start();
    const again = served.client();
    again.jar.set('koa.sid', browser.jar.get('koa.sid')!);
    again.jar.set('koa.sid.sig', browser.jar.get('koa.sid.sig')!);
    const before = Date.now();
    expect((await again.get('/read')).body.n).toBe(1);
    expect((await made.raw(PREFIX + sid)).cookie.createdAt).toBeGreaterThanOrEqual(before);
  });

  // The MemoryStore cannot say an entry's TTL: checked where the store can (Redis PTTL).
  it.skipIf(kind.name !== 'RedisStore')('the store TTL never outlives the lifetime', async () => {
    const { browser } = await start({ ttl: 30 * DAY });
    await browser.get('/inc');
    const sid = await age(browser, DAY - HOUR);
    await browser.get('/inc');
    const ttl = await made.ttlOf(PREFIX + sid);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(HOUR);
  });
});

describe('maxLifetime option', () => {
  it('must be a positive number of ms', async () => {
    const session = (await import('../../src/index.js')).default;
    expect(() => session({ maxLifetime: 0 })).toThrow(/"maxLifetime" must be a positive number/);
    expect(() => session({ maxLifetime: '1d' as never })).toThrow(/"maxLifetime" must be a positive number/);
    expect(() => session({ tombstoneTtl: -1 })).toThrow(/"tombstoneTtl" must be a non-negative number of ms/);
  });
});
