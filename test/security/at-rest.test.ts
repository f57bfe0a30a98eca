/**
 * Nothing useful at rest: with `hashIds`, no store key and no stored value contains a sid; with
 * `seal` too, no stored value shows the session's data, and an entry changed in the store is no
 * session (never a 500). Turning `hashIds` on logs no one out: old entries move to their hashed key.
 * On the MemoryStore, on RedisStore (a real redis-server) and on a koa-generic-session style store
 * (get/set/destroy only). koa-generic-session fails every "dump" test: its keys are the sids.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import Koa from 'koa';
import session, { type StoredSession } from '../../src/index.js';
import { storeKinds, useStoreKind } from '../helpers/store-kinds.js';
import { closeApps, startApp } from '../helpers/apps.js';
import { cookieOf } from '../helpers/set-cookies.js';
import { PREFIX } from '../helpers/store-keys.js';

afterEach(closeApps);

const hashed = (sid: string) => PREFIX + createHash('sha256').update(sid).digest('base64url');
const KINDS = storeKinds(13, { generic: true });

/** /set stores a marker and the user's name; /read answers the session; /logout removes it. */
const app = (ctx: { path: string; session: Record<string, unknown> | null; sessionId?: string; body: unknown }) => {
  const s = ctx.session!;
  if (ctx.path === '/set') {
    s.user = 'ann-the-user';
    s.card = 'MARKER-4242';
  }
  if (ctx.path === '/inc') s.n = ((s.n as number) ?? 0) + 1;
  if (ctx.path === '/logout') ctx.session = null;
  ctx.body = { user: s.user ?? null, n: s.n ?? null, sid: ctx.sessionId };
};

describe.each(KINDS)('at rest ($name)', (kind) => {
  const made = useStoreKind(kind);

  it('hashIds: no key and no value holds the sid; the session loads, and logout deletes it', async () => {
    const served = await startApp(Koa, { store: made.store(), hashIds: true }, app as never);
    const browser = served.client();
    await browser.get('/set');
    const sid = browser.cookie('koa.sid')!;
    const dump = await made.dump();
    const mine = dump.filter(([k]) => k === hashed(sid));
    expect(mine).toHaveLength(1);
    for (const [key, value] of dump) {
      expect(key).not.toContain(sid);
      expect(value).not.toContain(sid);
    }
    expect((await browser.get('/read')).body).toMatchObject({ user: 'ann-the-user', sid });
    await browser.get('/logout');
    expect((await made.dump()).filter(([k]) => k === hashed(sid))).toEqual([]);
    expect(served.errors).toEqual([]);
  });

  it('ctx.sessionStore still takes the sid', async () => {
    const served = await startApp(Koa, { store: made.store(), hashIds: true }, async (ctx) => {
      const sid = 'sid-given-to-the-store-api-0123456';
      await ctx.sessionStore.set(sid, { cookie: { maxAge: 60_000 }, x: 1 } as StoredSession);
      const back = await ctx.sessionStore.get(sid);
      await ctx.sessionStore.destroy(sid);
      ctx.body = { back: back?.x ?? null, after: (await ctx.sessionStore.get(sid)) ?? null };
    });
    const reply = await served.client().get('/');
    expect(reply.body).toMatchObject({ back: 1, after: null });
  });

  it('seal: a dump shows neither the sid nor the data, and cookie.maxAge is still there for the store', async () => {
    const served = await startApp(Koa, { store: made.store(), hashIds: true, seal: true }, app as never);
    const browser = served.client();
    await browser.get('/set');
    const sid = browser.cookie('koa.sid')!;
    const [entry] = (await made.dump()).filter(([k]) => k === hashed(sid));
    expect(entry).toBeDefined();
    const [, raw] = entry!;
    expect(raw).not.toContain(sid);
    expect(raw).not.toContain('MARKER-4242');
    expect(raw).not.toContain('ann-the-user');
    expect(JSON.parse(raw)).toMatchObject({ cookie: { maxAge: 86_400_000 }, sealed: expect.stringMatching(/^v1\./) });
    expect((await browser.get('/read')).body).toMatchObject({ user: 'ann-the-user', sid });
  });

  it('seal: an entry changed, swapped or planted in clear in the store is no session: a fresh one, never a 500', async () => {
    const store = made.store() as { set(k: string, v: unknown, ttl?: number): unknown; get(k: string): unknown };
    const served = await startApp(Koa, { store: made.store(), hashIds: true, seal: true }, app as never);
    const ann = served.client();
    const bob = served.client();
    await ann.get('/set');
    await bob.get('/inc');
    const annSid = ann.cookie('koa.sid')!;
    const bobSid = bob.cookie('koa.sid')!;

    // Bob's entry replaced by Ann's (a copy under another key): it does not open there.
    const annEntry = (await made.dump()).find(([k]) => k === hashed(annSid))![1];
    await store.set(hashed(bobSid), JSON.parse(annEntry), 60_000);
    const swapped = await bob.get('/read');
    expect(swapped.status).toBe(200);
    expect(swapped.body.user).toBeNull();
    expect(cookieOf(swapped, 'koa.sid')?.expired).toBe(true);

    // Ann's entry with one character of its ciphertext changed.
    const parsed = JSON.parse(annEntry) as { sealed: string };
    const flipped = parsed.sealed.slice(0, 10) + (parsed.sealed[10] === 'A' ? 'B' : 'A') + parsed.sealed.slice(11);
    await store.set(hashed(annSid), { ...parsed, sealed: flipped }, 60_000);
    const tampered = await ann.get('/read');
    expect(tampered.status).toBe(200);
    expect(tampered.body.user).toBeNull();

    // A session planted in clear under a hashed key.
    const carol = served.client();
    await carol.get('/inc');
    const carolSid = carol.cookie('koa.sid')!;
    await store.set(hashed(carolSid), { cookie: { maxAge: 60_000 }, user: 'admin' }, 60_000);
    const planted = await carol.get('/read');
    expect(planted.status).toBe(200);
    expect(planted.body.user).toBeNull();
    expect(served.errors).toEqual([]);
  });

  it('turning hashIds on logs no one out: the entry moves from the plain key to the hashed key', async () => {
    const before = await startApp(Koa, { store: made.store() }, app as never);
    const browser = before.client();
    await browser.get('/inc');
    const sid = browser.cookie('koa.sid')!;
    expect((await made.dump()).map(([k]) => k)).toContain(PREFIX + sid);

    const after = await startApp(Koa, { store: made.store(), hashIds: true, seal: true }, app as never);
    const moved = after.client();
    moved.jar.set('koa.sid', { value: sid, path: '/' });
    moved.jar.set('koa.sid.sig', browser.jar.get('koa.sid.sig')!);
    // Several requests of the same browser at once: one entry comes out of it, with the data.
    const replies = await Promise.all(Array.from({ length: 5 }, () => moved.get('/read')));
    for (const reply of replies) expect(reply.body).toMatchObject({ n: 1, sid });
    const keys = (await made.dump()).map(([k]) => k);
    expect(keys).not.toContain(PREFIX + sid);
    expect(keys.filter((k) => k === hashed(sid))).toHaveLength(1);
    expect((await moved.get('/inc')).body).toMatchObject({ n: 2, sid });
    expect(after.errors).toEqual([]);
  });

  it('a sid destroyed through ctx.sessionStore is gone under its plain key too (it cannot be moved back)', async () => {
    const before = await startApp(Koa, { store: made.store() }, app as never);
    const browser = before.client();
    await browser.get('/inc');
    const sid = browser.cookie('koa.sid')!;
    const after = await startApp(Koa, { store: made.store(), hashIds: true }, async (ctx) => {
      await ctx.sessionStore.destroy(sid);
      ctx.body = 'ok';
    });
    await after.client().get('/');
    expect((await made.dump()).map(([k]) => k)).not.toContain(PREFIX + sid);
  });
});

describe('options', () => {
  it('seal without hashIds is refused at start-up, saying why', () => {
    expect(() => session({ seal: true })).toThrow(/"seal" needs hashIds: true/);
    expect(() => session({ hashIds: 'yes' as never })).toThrow(/"hashIds" must be a boolean/);
  });
});
