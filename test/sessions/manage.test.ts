/**
 * Managing a user's sessions over real HTTP (docs/managing-sessions.md), on the MemoryStore, on
 * Redis and on a Redis Cluster: two browsers of one user and one of another; what `list` shows;
 * `revokeOthers`, `revoke` and `revokeAll` logging browsers out and nothing else; a user switch,
 * a logout and a regenerate moving the index with the session; expired sessions leaving the list;
 * a request in flight that cannot write a revoked session back; `hashIds` keeping sids out of the
 * index; and what a crash between the two writes leaves, healed by `list`.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/index.js';
import { handleOf, ownerKeyOf } from '../../src/sessions/handle.js';
import type { SessionInfo } from '../../src/sessions/types.js';
import { cookieOf } from '../helpers/set-cookies.js';
import { PREFIX } from '../helpers/store-keys.js';
import { deferred } from '../helpers/deferred.js';
import { OWNED, startManagedApp, type Browser, type ManagedApp } from './fixtures/app.js';
import type { TestStore } from '../helpers/store-kinds.js';
import { describeEachIndexedStore } from './fixtures/stores.js';

let users = 0;
/** A user name no other test of the run uses (the stores are shared by a suite's tests). */
const newUser = (name: string) => `${name}-${++users}-${process.pid}`;

/** Logs a browser in as `user`; its sid. */
async function logIn(browser: Browser, user: string): Promise<string> {
  const reply = await browser.post(`/login/${user}`);
  expect(reply.status).toBe(200);
  const sid = browser.cookie('koa.sid');
  expect(sid, 'a login sets the session cookie').toBeDefined();
  return sid!;
}

async function listOf(browser: Browser): Promise<SessionInfo[]> {
  const reply = await browser.get('/sessions');
  expect(reply.status).toBe(200);
  return reply.body as SessionInfo[];
}

/** The reply of a browser whose session was revoked: not logged in, and its cookie reset. */
async function expectLoggedOut(browser: Browser): Promise<void> {
  const me = await browser.get('/me');
  expect(me.status).toBe(401);
  expect(cookieOf(me, 'koa.sid')?.expired, 'the next request of a revoked session resets its cookie').toBe(true);
}

describeEachIndexedStore('managing sessions', 9, ({ store: storeOf, redis }) => {
  let app: ManagedApp;
  let store: TestStore;
  beforeAll(async () => {
    store = storeOf();
    app = await startManagedApp({ store, ...OWNED });
  });
  afterAll(() => app.close());
  afterEach(() => {
    expect(app.errors.splice(0).map((e) => e.stack)).toEqual([]);
  });

  const stored = (sid: string) => store.get(PREFIX + sid);
  const handleOfSid = (sid: string) => handleOf(PREFIX + sid);

  /** Two browsers of one user and one of another, logged in. */
  async function threeBrowsers() {
    const alice = newUser('alice');
    const bob = newUser('bob');
    const a1 = app.browser('alice phone');
    const a2 = app.browser('alice laptop');
    const b1 = app.browser('bob desktop');
    const sids = { a1: await logIn(a1, alice), a2: await logIn(a2, alice), b1: await logIn(b1, bob) };
    return { alice, bob, a1, a2, b1, sids };
  }

  it('list shows the two sessions of the user, newest first, the asking one current, with what describe kept', async () => {
    const { alice, a1, a2, b1, sids } = await threeBrowsers();
    const list = await listOf(a1);
    expect(list.map((s) => s.agent)).toEqual(['alice laptop', 'alice phone']);
    expect(list.map((s) => s.current)).toEqual([false, true]);
    expect(list.map((s) => s.handle)).toEqual([handleOfSid(sids.a2), handleOfSid(sids.a1)]);
    for (const s of list) {
      expect(Object.keys(s).sort()).toEqual(['agent', 'createdAt', 'current', 'handle', 'lastSeenAt']);
      expect(s.lastSeenAt).toBeGreaterThanOrEqual(s.createdAt);
      // A handle is no sid, and no sid appears anywhere in what the list gives.
      expect(Object.values(sids)).not.toContain(s.handle);
    }
    expect(JSON.stringify(list)).not.toMatch(new RegExp(Object.values(sids).join('|')));
    // Seen from the other browser, the other one is current.
    expect((await listOf(a2)).map((s) => [s.agent, s.current])).toEqual([
      ['alice laptop', true],
      ['alice phone', false],
    ]);
    // The other user sees only his own; outside a request, the same lists.
    expect((await listOf(b1)).map((s) => s.agent)).toEqual(['bob desktop']);
    const admin = await app.middleware.sessions.list(alice);
    expect(admin.map((s) => [s.handle, s.current])).toEqual(list.map((s) => [s.handle, false]));
  });

  it('revokeOthers logs the other browser of the user out, and leaves this one and the other user alone', async () => {
    const { alice, bob, a1, a2, b1, sids } = await threeBrowsers();
    const reply = await a1.post('/revoke-others');
    expect(reply.body).toEqual({ revoked: 1 });
    expect(await stored(sids.a2)).toBeUndefined();
    await expectLoggedOut(a2);
    expect((await a1.get('/me')).body).toEqual({ user: alice });
    expect((await b1.get('/me')).body).toEqual({ user: bob });
    expect((await listOf(a1)).map((s) => [s.agent, s.current])).toEqual([['alice phone', true]]);
    expect((await app.middleware.sessions.list(bob)).map((s) => s.agent)).toEqual(['bob desktop']);
  });

  it('revokeAll from outside a request logs every browser of the user out, and no other', async () => {
    const { alice, bob, a1, a2, b1, sids } = await threeBrowsers();
    expect(await app.middleware.sessions.revokeAll(alice)).toBe(2);
    expect(await stored(sids.a1)).toBeUndefined();
    expect(await stored(sids.a2)).toBeUndefined();
    await expectLoggedOut(a1);
    await expectLoggedOut(a2);
    expect(await app.middleware.sessions.list(alice)).toEqual([]);
    expect((await b1.get('/me')).body).toEqual({ user: bob });
    expect(await app.middleware.sessions.revokeAll(alice)).toBe(0);
  });

  it('revoke ends one session by its handle: another browser of the user, or the asking one itself', async () => {
    const { alice, a1, a2, b1, sids } = await threeBrowsers();
    // A handle of another user is not this user's to revoke.
    expect((await a1.post(`/revoke/${handleOfSid(sids.b1)}`)).body).toEqual({ revoked: false });
    expect((await b1.get('/me')).status).toBe(200);
    expect((await a1.post(`/revoke/${handleOfSid(sids.a2)}`)).body).toEqual({ revoked: true });
    await expectLoggedOut(a2);
    // Its own session: the same response resets its cookie.
    const own = await a1.post(`/revoke/${handleOfSid(sids.a1)}`);
    expect(own.body).toEqual({ revoked: true });
    expect(cookieOf(own, 'koa.sid')?.expired).toBe(true);
    expect(await stored(sids.a1)).toBeUndefined();
    expect((await a1.get('/me')).status).toBe(401);
    expect(await app.middleware.sessions.list(alice)).toEqual([]);
    // From outside a request, by owner and handle.
    const again = app.browser('alice tablet');
    const sid = await logIn(again, alice);
    expect(await app.middleware.sessions.revoke(alice, 'no-such-handle')).toBe(false);
    expect(await app.middleware.sessions.revoke(alice, handleOfSid(sid))).toBe(true);
    await expectLoggedOut(again);
  });

  it('a request in flight for a revoked session cannot write it back', async () => {
    const { alice, a1, sids } = await threeBrowsers();
    const entered = deferred();
    const release = deferred();
    app.slow = async () => {
      entered.resolve();
      await release.promise;
    };
    try {
      const slow = a1.get('/slow');
      await entered.promise;
      expect(await app.middleware.sessions.revoke(alice, handleOfSid(sids.a1))).toBe(true);
      release.resolve();
      const reply = await slow;
      expect(reply.status).toBe(200);
      // Its write found no session (SET XX, update-if-exists): nothing stored, no cookie sent.
      expect(cookieOf(reply, 'koa.sid')).toBeUndefined();
    } finally {
      app.slow = async () => undefined;
    }
    expect(await stored(sids.a1)).toBeUndefined();
    expect((await app.middleware.sessions.list(alice)).map((s) => s.agent)).toEqual(['alice laptop']);
    await expectLoggedOut(a1);
  });

  it('a user switch moves the session to the new owner; a logout and a regenerate take it out', async () => {
    const { alice, a1, a2, sids } = await threeBrowsers();
    const carol = newUser('carol');
    expect((await a1.post(`/switch/${carol}`)).status).toBe(200);
    expect(a1.cookie('koa.sid')).toBe(sids.a1);
    expect((await app.middleware.sessions.list(alice)).map((s) => s.agent)).toEqual(['alice laptop']);
    expect((await listOf(a1)).map((s) => [s.handle, s.agent, s.current])).toEqual([
      [handleOfSid(sids.a1), 'alice phone', true],
    ]);
    expect((await app.middleware.sessions.list(carol)).map((s) => s.handle)).toEqual([handleOfSid(sids.a1)]);

    // Logout (ctx.session = null): the session and its entry are gone.
    expect((await a1.post('/logout')).status).toBe(200);
    expect(await app.middleware.sessions.list(carol)).toEqual([]);

    // A new login on a logged-in browser regenerates: the old sid leaves the index, the new one enters.
    const again = await logIn(a2, alice);
    expect(again).not.toBe(sids.a2);
    expect(await stored(sids.a2)).toBeUndefined();
    expect((await app.middleware.sessions.list(alice)).map((s) => s.handle)).toEqual([handleOfSid(again)]);
  });

  it('a request whose session has no owner lists nothing and revokes nothing', async () => {
    const { alice } = await threeBrowsers();
    const anonymous = app.browser('anonymous');
    expect(await listOf(anonymous)).toEqual([]);
    expect((await anonymous.post('/count')).body).toEqual({ n: 1 });
    expect(await listOf(anonymous)).toEqual([]);
    expect((await anonymous.post('/revoke-others')).body).toEqual({ revoked: 0 });
    expect(await app.middleware.sessions.list(alice)).toHaveLength(2);
  });

  it('expired sessions vanish from the list', async () => {
    const ttl = 1_000;
    const short = await startManagedApp({ store, ...OWNED, cookie: { maxAge: ttl } });
    try {
      const alice = newUser('alice');
      const early = short.browser('early');
      const sid = await logIn(early, alice);
      expect((await short.middleware.sessions.list(alice)).map((s) => s.agent)).toEqual(['early']);
      // Until the store has dropped the session (polled, bounded by its ttl and a margin)...
      const deadline = Date.now() + ttl + 5_000;
      while ((await stored(sid)) !== undefined) {
        expect(Date.now(), `the session outlived its ttl of ${ttl} ms`).toBeLessThan(deadline);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      // ...then the list no longer shows it, from outside and from a new browser of the same user.
      expect(await short.middleware.sessions.list(alice)).toEqual([]);
      const late = short.browser('late');
      await logIn(late, alice);
      expect((await listOf(late)).map((s) => [s.agent, s.current])).toEqual([['late', true]]);
    } finally {
      await short.close();
    }
  });

  it('with hashIds the index holds no sid, and its handles name the hashed keys', async () => {
    const hashed = await startManagedApp({ store, ...OWNED, hashIds: true });
    try {
      const alice = newUser('alice');
      const browser = hashed.browser('hashed');
      const sid = await logIn(browser, alice);
      const [entry] = await hashed.middleware.sessions.list(alice);
      expect(entry!.handle).not.toBe(handleOfSid(sid));
      const ownerKey = ownerKeyOf(PREFIX, alice);
      const raw = JSON.stringify(
        redis ? await redis(['HGETALL', `{${ownerKey}}:entries`]) : await store.indexList(ownerKey),
      );
      expect(raw).toContain(entry!.handle);
      expect(raw).not.toContain(sid);
      expect(raw).not.toContain(PREFIX + sid);
      expect(await hashed.middleware.sessions.revokeAll(alice)).toBe(1);
      expect((await browser.get('/me')).status).toBe(401);
    } finally {
      await hashed.close();
    }
  });

  it('an entry whose session does not load is never listed, and is pruned once it is older than a write can take', async () => {
    // What a crash between the index write and the session write leaves: an entry without a session.
    const { alice, a1 } = await threeBrowsers();
    const ownerKey = ownerKeyOf(PREFIX, alice);
    const now = Date.now();
    const far = now + 3_600_000;
    await store.indexAdd(
      ownerKey,
      'crashed-long-ago',
      { key: `${PREFIX}gone-1`, createdAt: now - 600_000, lastSeenAt: now - 600_000 },
      far,
    );
    // A create whose session write is still on its way: hidden, but kept.
    await store.indexAdd(ownerKey, 'being-written', { key: `${PREFIX}gone-2`, createdAt: now, lastSeenAt: now }, far);
    expect(await store.indexList(ownerKey)).toHaveLength(4);
    expect((await listOf(a1)).map((s) => s.agent)).toEqual(['alice laptop', 'alice phone']);
    expect((await app.middleware.sessions.list(alice)).map((s) => s.agent)).toEqual(['alice laptop', 'alice phone']);
    const left = (await store.indexList(ownerKey)).map((e) => e.handle);
    expect(left).toContain('being-written');
    expect(left).not.toContain('crashed-long-ago');
  });
});

describe('the owner option and the sessions API, refused or empty where they cannot work', () => {
  it('ctx.sessions without the owner option throws an error that says what is missing; so does middleware.sessions', async () => {
    const app = await startManagedApp({ store: new MemoryStore() });
    try {
      const reply = await app.browser('x').get('/no-owner-option');
      expect(reply.body.error).toMatch(/ctx\.sessions needs the "owner" option/);
      await expect(app.middleware.sessions.list('alice')).rejects.toThrow(
        /middleware\.sessions needs the "owner" option/,
      );
    } finally {
      await app.close();
    }
  });

  it('a store without the index capability is refused at start-up, saying why', async () => {
    const { default: session } = await import('../../src/index.js');
    const plain = { get: () => undefined, set: () => undefined, destroy: () => undefined };
    expect(() => session({ store: plain, owner: (s) => s.user as string })).toThrow(
      /option "owner" needs a store that keeps an index of sessions per owner, and this store has no indexAdd\(\), indexRemove\(\), indexList\(\)/,
    );
    expect(() => session({ store: new MemoryStore(), describe: () => ({}) })).toThrow(
      /"describe" needs the option "owner"/,
    );
    expect(() => session({ store: new MemoryStore(), owner: 'user' as never })).toThrow(
      /option "owner" must be a function/,
    );
  });
});
