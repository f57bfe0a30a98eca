/**
 * A logout (or a regeneration) sticks. Request A loads the session and is still running
 * when request B, from the same browser, destroys it (`ctx.session = null`) or regenerates it. When
 * A then commits it must not write the old session back, with or without `rolling`, modified or not,
 * forced or not, and must send no cookie for it.
 *
 * The interleaving uses promises the test controls: A's handler signals that it has the session,
 * then waits for the test; B runs to completion; then the test releases A.
 *
 * Naive: koa-generic-session commits A with `store.set(sid, session)` (and with `rolling` it saves
 * every request): the destroyed session is written back under the old sid and A's response
 * re-sends its cookie, so the user is logged in again.
 */
import Koa from 'koa';
import { afterEach, describe, expect, it } from 'vitest';
import { KOA_VERSIONS } from '../helpers/koa.js';
import { closeApps, startApp } from '../helpers/apps.js';
import { sessionCookies } from '../helpers/set-cookies.js';
import { PREFIX, sessionKeys } from '../helpers/store-keys.js';
import { RecordingStore } from '../helpers/recording-store.js';
import { deferred, type Deferred } from '../helpers/deferred.js';
import { plainSyncStore } from '../helpers/legacy-stores.js';

afterEach(closeApps);

type Sess = Record<string, unknown>;

interface Slow {
  /** A has loaded its session. */
  loaded: Deferred;
  /** The test lets A finish. */
  release: Deferred;
}

const variants = [
  { a: 'modifies', rolling: false, modify: true, force: false },
  { a: 'modifies', rolling: true, modify: true, force: false },
  { a: 'leaves it unmodified', rolling: true, modify: false, force: false },
  { a: 'forces a save (sessionSave = true)', rolling: false, modify: false, force: true },
  { a: 'modifies and calls saveSession()', rolling: false, modify: true, force: false, saveNow: true },
];

describe.each(KOA_VERSIONS)('a logout sticks ($name)', ({ Koa }) => {
  async function start(rolling: boolean, variant: (typeof variants)[number]) {
    const store = new RecordingStore();
    let slow: Slow | undefined;
    const server = await startApp(Koa, { store, rolling }, async (ctx) => {
      const s = ctx.session as Sess | null;
      switch (ctx.path) {
        case '/login':
          s!.user = 'ann';
          s!.count = 0;
          break;
        case '/logout':
          ctx.session = null;
          break;
        case '/regenerate':
          await ctx.regenerateSession();
          (ctx.session as Sess).user = 'ann (new sid)';
          break;
        case '/slow': {
          slow!.loaded.resolve();
          await slow!.release.promise;
          if (variant.modify) s!.count = (s!.count as number) + 1;
          if (variant.force) ctx.sessionSave = true;
          if (variant.saveNow) await ctx.saveSession();
          break;
        }
      }
      ctx.body = { user: (ctx.session as Sess | null)?.user ?? null };
    });
    return {
      store,
      server,
      arm() {
        slow = { loaded: deferred(), release: deferred() };
        return slow;
      },
    };
  }

  describe.each(variants)('A $a (rolling: $rolling)', (variant) => {
    it.each(['/logout', '/regenerate'])(
      'B %s while A runs: A writes nothing back and sends no cookie',
      async (bPath) => {
        const { store, server, arm } = await start(variant.rolling, variant);
        const browser = server.client();
        await browser.get('/login');
        const oldSid = browser.cookie('koa.sid')!;
        const cookie = browser.cookieHeader('/');
        expect(store.peek(PREFIX + oldSid)).toMatchObject({ user: 'ann' });

        const slow = arm();
        const a = browser.get('/slow', { cookie });
        await slow.loaded.promise;
        const b = await browser.get(bPath, { cookie });
        expect(b.status).toBe(200);
        expect(store.peek(PREFIX + oldSid)).toBeUndefined();
        const writesBeforeA = store.writtenKeys().length;

        slow.release.resolve();
        const replyA = await a;
        expect(replyA.status).toBe(200);
        expect(sessionCookies(replyA), 'A sends no session cookie').toEqual([]);
        expect(store.peek(PREFIX + oldSid), 'the old session stays destroyed').toBeUndefined();
        // Whatever A tried, nothing under the old sid exists; with regenerate, only B's new session does.
        expect(store.sessionCount).toBe(bPath === '/regenerate' ? 1 : 0);
        expect(
          store
            .writtenKeys()
            .slice(writesBeforeA)
            .every((k) => k === PREFIX + oldSid),
        ).toBe(true);

        // The old cookie no longer opens a session.
        const after = await server.client().get('/read', { cookie });
        expect(after.body).toEqual({ user: null });
        expect(server.errors).toEqual([]);
      },
    );
  });

  it('control: without a concurrent logout, the slow request does save (the interleaving is real)', async () => {
    const variant = variants[0]!;
    const { store, server, arm } = await start(false, variant);
    const browser = server.client();
    await browser.get('/login');
    const sid = browser.cookie('koa.sid')!;
    const slow = arm();
    const a = browser.get('/slow');
    await slow.loaded.promise;
    slow.release.resolve();
    expect((await a).status).toBe(200);
    expect(store.peek(PREFIX + sid)).toMatchObject({ user: 'ann', count: 1 });
  });
});

describe('with a store that has only get/set/destroy (koa-generic-session style)', () => {
  it('a slower request that loaded the session does not write it back after a logout', async () => {
    const store = plainSyncStore();
    const { data } = store;
    const held = deferred();
    const slowLoaded = deferred();
    const server = await startApp(Koa, { store }, async (ctx) => {
      if (ctx.path === '/logout') ctx.session = null;
      else if (ctx.path === '/slow') {
        const loaded = ctx.session!.user;
        slowLoaded.resolve();
        await held.promise;
        ctx.session!.late = true;
        ctx.body = { loaded };
        return;
      } else ctx.session!.user = 'u';
      ctx.body = 'ok';
    });
    const client = server.client();
    await client.get('/login');
    const cookie = client.cookieHeader('/');
    expect(sessionKeys(data)).toHaveLength(1);
    const slow = client.get('/slow', { cookie });
    await slowLoaded.promise;
    await client.get('/logout', { cookie });
    expect(sessionKeys(data)).toEqual([]);
    held.resolve();
    const late = await slow;
    expect(late.status).toBe(200);
    expect(late.body).toEqual({ loaded: 'u' });
    expect(sessionKeys(data)).toEqual([]);
    expect(late.setCookies.filter((c) => c.name === 'koa.sid' && !c.expired)).toEqual([]);
  });
});
