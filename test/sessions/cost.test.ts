/**
 * What the owner index costs, as the store calls each request makes (over HTTP, on a MemoryStore
 * that records its calls): nothing without `owner`; with it, no extra call on a read (but the
 * first of a session in a process, which refreshes its entry, and then not again within the
 * refresh interval), one on a write, written before the session; one after a destroy. And the
 * refresh bookkeeping on its own, with explicit times.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore, type OwnerIndexEntry, type StoredSession } from '../../src/index.js';
import { RecentRefreshes } from '../../src/sessions/recent-refreshes.js';
import { OWNED, startManagedApp, type ManagedApp } from './fixtures/app.js';

class RecordingStore extends MemoryStore {
  calls: string[] = [];
  override get(key: string) {
    this.calls.push('get');
    return super.get(key);
  }
  override set(key: string, session: StoredSession, ttl?: number) {
    this.calls.push('set');
    return super.set(key, session, ttl);
  }
  override update(key: string, session: StoredSession, ttl?: number) {
    this.calls.push('update');
    return super.update(key, session, ttl);
  }
  override touch(key: string, ttl?: number) {
    this.calls.push('touch');
    return super.touch(key, ttl);
  }
  override destroy(key: string) {
    this.calls.push('destroy');
    return super.destroy(key);
  }
  override indexAdd(ownerKey: string, handle: string, entry: OwnerIndexEntry, expiresAt: number) {
    this.calls.push('indexAdd');
    return super.indexAdd(ownerKey, handle, entry, expiresAt);
  }
  override indexRemove(ownerKey: string, handle: string) {
    this.calls.push('indexRemove');
    return super.indexRemove(ownerKey, handle);
  }
  /** The calls since the last `take()`. */
  take(): string[] {
    return this.calls.splice(0);
  }
}

const apps: ManagedApp[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) {
    expect(app.errors.map((e) => e.stack)).toEqual([]);
    await app.server.close();
  }
});

async function start(store: RecordingStore, owned: boolean, rolling = false) {
  const app = await startManagedApp({ store, rolling, ...(owned ? OWNED : {}) });
  apps.push(app);
  return app;
}

describe('the store calls of each request', () => {
  it('without owner: the calls the middleware made before the option existed', async () => {
    const store = new RecordingStore();
    const browser = (await start(store, false)).browser('b');
    await browser.post('/login/alice');
    expect(store.take()).toEqual(['set']);
    await browser.get('/me');
    expect(store.take()).toEqual(['get']);
    await browser.get('/count');
    expect(store.take()).toEqual(['get', 'update']);
    await browser.post('/logout');
    expect(store.take()).toEqual(['get', 'destroy']);
  });

  it('with owner: a read costs nothing more, a write one index call before it, a destroy one after it', async () => {
    const store = new RecordingStore();
    const browser = (await start(store, true)).browser('b');
    await browser.post('/login/alice');
    expect(store.take()).toEqual(['indexAdd', 'set']);
    for (let i = 0; i < 3; i++) {
      await browser.get('/me');
      expect(store.take()).toEqual(['get']);
    }
    await browser.get('/count');
    expect(store.take()).toEqual(['get', 'indexAdd', 'update']);
    // A user switch: the entry leaves the old owner's index once the session is written.
    await browser.post('/switch/bob');
    expect(store.take()).toEqual(['get', 'indexAdd', 'update', 'indexRemove']);
    // A new login regenerates: the old session and its entry go, the new one enters.
    await browser.post('/login/alice');
    expect(store.take()).toEqual(['get', 'destroy', 'indexRemove', 'indexAdd', 'set']);
    await browser.post('/logout');
    expect(store.take()).toEqual(['get', 'destroy', 'indexRemove']);
    // A session without an owner costs nothing more either.
    const anonymous = (await start(store, true)).browser('anonymous');
    await anonymous.get('/count');
    await anonymous.get('/count');
    expect(store.take()).toEqual(['set', 'get', 'update']);
  });

  it("with owner: another process's first read of a session refreshes its entry, its later reads do not", async () => {
    const store = new RecordingStore();
    const first = (await start(store, true)).browser('b');
    await first.post('/login/alice');
    const other = await start(store, true);
    const cookie = first.cookieHeader('/');
    store.take();
    await other.browser('b').get('/me', { cookie });
    expect(store.take()).toEqual(['get', 'indexAdd']);
    await other.browser('b').get('/me', { cookie });
    expect(store.take()).toEqual(['get']);
    // lastSeenAt moved with the refresh; createdAt stayed.
    const [listed] = await other.middleware.sessions.list('alice');
    expect(listed!.lastSeenAt).toBeGreaterThanOrEqual(listed!.createdAt);
  });

  it('with owner and rolling: a read refreshes the ttl with touch, and nothing else', async () => {
    const store = new RecordingStore();
    const browser = (await start(store, true, true)).browser('b');
    await browser.post('/login/alice');
    store.take();
    await browser.get('/me');
    expect(store.take()).toEqual(['get', 'touch']);
  });
});

describe('RecentRefreshes: at most one refresh per interval per session', () => {
  it('a handle is due when never marked, not within the interval of its mark, due again after it', () => {
    const interval = 60_000;
    const r = new RecentRefreshes(interval);
    const t0 = Date.now();
    expect(r.due('a', t0)).toBe(true);
    r.mark('a', t0);
    expect(r.due('a', t0 + 1)).toBe(false);
    expect(r.due('a', t0 + interval - 1)).toBe(false);
    expect(r.due('a', t0 + interval)).toBe(true);
    // Through a rotation of the generations, a recent mark is still known.
    r.mark('b', t0 + interval + 10);
    expect(r.due('b', t0 + 2 * interval + 5)).toBe(false);
    expect(r.due('b', t0 + 2 * interval + 10)).toBe(true);
    // After a quiet spell, nothing old is kept.
    expect(r.due('b', t0 + 10 * interval)).toBe(true);
    r.mark('c', t0 + 10 * interval);
    r.forget('c');
    expect(r.due('c', t0 + 10 * interval + 1)).toBe(true);
  });
});
