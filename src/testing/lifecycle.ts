/**
 * Runs one generated lifecycle path through a real Koa app on 127.0.0.1, with the author's store.
 *
 * Each machine event is translated into what makes it happen:
 *
 * - `LOAD absent | present | forged`: no cookie, a valid cookie (from an earlier request that
 *   saved a session), a cookie whose signature is wrong.
 * - `LOCKED`: the session's lock is free (`concurrency: 'serialize'`). `STORE_UNAVAILABLE` while
 *   locking: the kit holds the lock, `lockTimeout` is short. While loading: `get` never answers,
 *   `storeTimeout` is short. `degrade` is `storeOutage: 'degrade'`.
 * - `LOADED usable`: the cookie's entry is in the store; not usable: it was destroyed first.
 *   `expired`: the app has a `maxLifetime`, and the kit rewrote the stored session with a
 *   `cookie.createdAt` longer ago than that.
 * - `TOMBSTONE found`: the session was destroyed by an earlier request of the same browser
 *   (`ctx.session = null`, which retires its sid); not found: the kit destroyed the entry through
 *   the store, as an expiry or a lost entry would.
 * - `LOAD_FAILED`: `get` throws; `fatal` unless the app's `errorHandler` swallows it.
 * - `REMOVE`, `REPLACE`, `REGENERATE`, `SAVE_NOW`: the handler sets `ctx.session = null`,
 *   `ctx.session = { … }`, awaits `ctx.regenerateSession()` or `ctx.saveSession()`; `COMMIT` is the
 *   end of the handler. `changed` is whether the handler modified the session (or restored it as it
 *   was), `save` is `ctx.sessionSave` (`true`, `false` or unset).
 * - `WRITTEN` / `TOUCHED` not stored: the handler destroys the entry through the store right before
 *   (another request's logout). `WRITE_FAILED`, `TOUCH_FAILED`, `DESTROY_FAILED`: that one store
 *   call throws (for a store without `update` / `touch`, the `set` after the read); a write or
 *   refresh is `fatal` when the app's `errorHandler` rethrows it (the default), not when it returns.
 *
 * After the load, after every handler step and after the response, the kit compares what a user can
 * observe with what the path's effects imply: the session cookie (sent with which sid, reset, or
 * none), what the store holds under every sid the request used, the store calls the middleware made,
 * the errors the handler and the `errorHandler` saw, the `onEvent` notices of an ended lifetime or a
 * late request, the session the handler gets, and the status. Through the `inspect` option it
 * also checks that the request's session machine went through exactly the events and states of the
 * path.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import Koa from 'koa';
import session, { type SessionOptions, type SessionStore, type StoredSession } from '../index.js';
import { listen, parseSetCookie, request, type SetCookie } from './http.js';
import { injectedError, InstrumentedStore, type ResolvedCapabilities } from './instrumented.js';
import { SESSION_EVENT_KINDS, type SessionState } from '../machines/session.machine.js';
import { describeEvent, LIVE_STATES, type LifecyclePath, type LifecycleStep } from './session-paths.js';
import {
  cookieState,
  describeCookie,
  Expected,
  expectedStatus,
  failingMethod,
  failureAfter,
  HANDLED,
  KEY,
  userData,
  type UserData,
} from './expected-outcome.js';
import { StateLog } from './state-log.js';

export interface RunPathOptions {
  /** A fresh store for this path. */
  factory: () => SessionStore | Promise<SessionStore>;
  supports: ResolvedCapabilities;
  /** Called with the store after the path (close clients here). */
  teardown?: (store: SessionStore) => unknown;
  /** The store key prefix (default the middleware's, `'koa:sess:'`). */
  prefix?: string;
  /**
   * Check the machine's states through `inspect` (default `true`). With `false` the middleware runs
   * its compiled transition table, and only what a user observes is checked.
   */
  observeStates?: boolean;
  /** The Koa class to build the app with (default: the `koa` the package resolves). */
  Koa?: new () => Koa;
}

const KEYS = ['conformance-kit-key', 'conformance-kit-old-key'];
/** The short `storeTimeout` / `lockTimeout` of the paths where the store is made unavailable. */
const SHORT_TIMEOUT = 20;
/** The `maxLifetime` of the paths where a session outlived it (long enough for any new session). */
const MAX_LIFETIME = 60 * 60 * 1000;
/** The TTL of the session the kit rewrites with an old `cookie.createdAt` (the middleware's default). */
const SEEDED_TTL = 24 * 60 * 60 * 1000;
/** Whether the handler or the client cause the step's event; the others are store results that follow one. */
const drives = (step: LifecycleStep) => {
  const kind = SESSION_EVENT_KINDS[step.event.type];
  return kind === 'request' || kind === 'app';
};

interface Group {
  /** Index of the first step in the path. */
  start: number;
  steps: LifecycleStep[];
  /** The state before the group. */
  from: SessionState;
}

function groupSteps(steps: readonly LifecycleStep[]): Group[] {
  const groups: Group[] = [];
  steps.forEach((step, i) => {
    const from = i === 0 ? 'uninitialized' : steps[i - 1]!.state;
    if (drives(step) || groups.length === 0) groups.push({ start: i, steps: [step], from });
    else groups.at(-1)!.steps.push(step);
  });
  return groups;
}

function randomSid(): string {
  return randomBytes(24).toString('base64url');
}

function withContext(err: unknown, where: string): Error {
  if (err instanceof Error) {
    err.message = `${where}: ${err.message}`;
    return err;
  }
  return new Error(`${where}: ${String(err)}`);
}

/** Runs `path` against a fresh store from `options.factory`; rejects with what differed. */
export async function runLifecyclePath(path: LifecyclePath, options: RunPathOptions): Promise<void> {
  const raw = await options.factory();
  const instrumented = new InstrumentedStore(raw, options.supports);
  const prefix = options.prefix ?? 'koa:sess:';
  const cleanup: (() => unknown)[] = [];
  try {
    await drive(path, instrumented, { ...options, prefix }, cleanup);
  } finally {
    for (const step of cleanup.reverse()) {
      try {
        await step();
      } catch {
        // Best effort: the path's result is what matters.
      }
    }
    for (const key of instrumented.written) {
      try {
        await (raw as { destroy(key: string): unknown }).destroy(key);
      } catch {
        // Best effort.
      }
    }
    await options.teardown?.(raw);
  }
}

async function drive(
  path: LifecyclePath,
  instrumented: InstrumentedStore,
  options: RunPathOptions & { prefix: string },
  cleanup: (() => unknown)[],
): Promise<void> {
  const { supports, prefix } = options;
  const raw = instrumented.raw as unknown as Record<string, any>;
  const { steps, input } = path;
  const groups = groupSteps(steps);
  const loadGroup = groups[0]!.steps[0]!.event.type === 'LOAD' ? groups[0]! : undefined;
  const handlerGroups = loadGroup ? groups.slice(1) : groups;
  const has = (test: (s: LifecycleStep, from: SessionState) => boolean) =>
    steps.some((s, i) => test(s, i === 0 ? 'uninitialized' : steps[i - 1]!.state));
  // What the errorHandler does with each store error it sees, in order: rethrow it when it is fatal.
  const handled = steps.filter((s) => HANDLED.has(s.event.type));
  const rethrows = handled.map((s) => 'fatal' in s.event && s.event.fatal);
  const expired = has((s) => s.event.type === 'LOADED' && s.event.expired);
  const degrade = has((s) => s.event.type === 'STORE_UNAVAILABLE' && s.event.degrade);
  const unavailableWhileLocking = has((s, from) => s.event.type === 'STORE_UNAVAILABLE' && from === 'locking');
  const unavailableWhileLoading = has((s, from) => s.event.type === 'STORE_UNAVAILABLE' && from === 'loading');
  const observe = options.observeStates !== false;
  const log = new StateLog();
  const errorHandlerSaw: string[] = [];
  const noticesSeen: string[] = [];
  const expected = new Expected(supports, prefix);
  let failure: unknown;
  let loadApplied = false;
  /** The last group, a COMMIT: it runs after the handler returned, and is checked on the response. */
  let finalState: { group: Group; sidBefore: string | undefined; data: UserData | undefined } | undefined;

  const sessionOptions: SessionOptions = {
    store: instrumented.store,
    prefix,
    rolling: input.rolling,
    allowEmpty: input.allowEmpty,
    concurrency: input.serialize ? 'serialize' : 'none',
    defer: loadGroup === undefined,
    storeOutage: degrade ? 'degrade' : 'fail',
    errorHandler: (err, type) => {
      const fatal = rethrows[errorHandlerSaw.length] ?? true;
      errorHandlerSaw.push(`${type}: ${err.message}`);
      if (fatal) throw err;
    },
    onEvent: (notice) => {
      if (notice.type !== 'expired' && notice.type !== 'late') return;
      noticesSeen.push(notice.ctx.path.endsWith('/path') ? notice.type : `${notice.type}, with another request's ctx`);
    },
    ...(expired ? { maxLifetime: MAX_LIFETIME } : {}),
    ...(unavailableWhileLoading ? { storeTimeout: SHORT_TIMEOUT } : {}),
    ...(unavailableWhileLocking ? { lockTimeout: SHORT_TIMEOUT } : {}),
    ...(observe ? { inspect: log.inspect } : {}),
  };

  /** Compares what is observable now with what the first `done` steps imply. */
  const check = async (where: string, done: number, cookies: SetCookie[] | undefined) => {
    try {
      if (observe) {
        const seen = log.observed();
        assert.equal(seen.actors, 1, `one session machine per request (${seen.actors} were started)`);
        assert.deepEqual(
          seen.entries,
          steps.slice(0, done).map((s) => `${describeEvent(s.event)} → ${s.state}`),
          'the session machine went through other events or states than the path',
        );
      }
      assert.deepEqual(
        instrumented.calls.map((c) => `${c.method} ${c.key}`),
        expected.calls,
        'the middleware made other store calls than the effects of the path',
      );
      assert.deepEqual(noticesSeen, expected.notices, 'the onEvent notices of an ended lifetime or a late request');
      if (cookies !== undefined) {
        const got = cookieState(cookies);
        assert.equal(describeCookie(got), describeCookie(expected.cookie), 'the session cookie');
        const sig = cookies.filter((c) => c.name === `${KEY}.sig`).at(-1);
        if (got.kind === 'none') assert.equal(sig, undefined, `no ${KEY}.sig cookie without the session cookie`);
        else
          assert.ok(
            sig !== undefined && sig.expired === (got.kind === 'reset'),
            `the ${KEY}.sig cookie goes with the session cookie`,
          );
      }
      for (const [sid, data] of expected.store) {
        const stored = await raw.get(prefix + sid);
        if (data === null)
          assert.ok(!stored, `the store should hold nothing under ${prefix}${sid}, it holds ${JSON.stringify(stored)}`);
        else {
          assert.ok(stored, `the store should hold a session under ${prefix}${sid}`);
          assert.deepEqual(userData(stored), data, `the session stored under ${prefix}${sid}`);
        }
      }
    } catch (err) {
      throw withContext(err, where);
    }
  };

  const step = (i: number) => steps[i - 1];
  const describeUpTo = (n: number) =>
    n === 0 ? 'before any event' : `after ${describeEvent(step(n)!.event)} → ${step(n)!.state}`;

  // ---- Setup: what the client sends, and what the store holds before the request.
  let cookieHeader: string | undefined;
  let sid: string | undefined;
  const KoaClass = options.Koa ?? Koa;
  const app = new KoaClass();
  app.keys = KEYS;
  app.silent = true;
  app.use(session(sessionOptions));
  app.use((ctx) => handler(ctx));
  const server = await listen(app);
  cleanup.push(() => server.close());

  if (loadGroup) {
    const load = loadGroup.steps[0]!.event as { sid: string };
    if (load.sid === 'present') {
      // An earlier request saves a session: a separate app on the same store, with default options
      // and the plain contract, so that nothing of the request under test happens during it. The
      // same browser can log out there too (`/logout`), which retires the sid.
      const seeder = new KoaClass();
      seeder.keys = KEYS;
      const seederStore: SessionStore = {
        get: (k) => raw.get(k),
        set: (k, v, t) => {
          instrumented.written.add(k);
          return raw.set(k, v, t);
        },
        destroy: (k) => raw.destroy(k),
      };
      seeder.use(session({ store: seederStore, prefix }));
      seeder.use((ctx) => {
        if (ctx.path.endsWith('/logout')) ctx.session = null;
        else ctx.session!.seeded = 1;
        ctx.body = 'seeded';
      });
      const seedServer = await listen(seeder);
      cleanup.push(() => seedServer.close());
      const seeded = await request(seedServer.url);
      assert.equal(seeded.status, 200, `seeding a session answered ${seeded.status}: ${seeded.text}`);
      const value = seeded.setCookies.find((c) => c.name === KEY)?.value;
      const sig = seeded.setCookies.find((c) => c.name === `${KEY}.sig`)?.value;
      assert.ok(value && sig, 'seeding a session sent no session cookie');
      sid = value;
      cookieHeader = `${KEY}=${value}; ${KEY}.sig=${sig}`;
      const stored = (await raw.get(prefix + sid)) as StoredSession | undefined;
      assert.deepEqual(userData(stored), { seeded: 1 }, 'setup: the seeded session is in the store');
      expected.store.set(sid, { seeded: 1 });
      const loaded = loadGroup.steps.find((s) => s.event.type === 'LOADED')?.event as
        { usable: boolean; expired: boolean } | undefined;
      if (loaded?.expired) {
        // A session created before the lifetime the app allows (see `maxLifetime` above).
        const old = { ...stored!, cookie: { ...stored!.cookie, createdAt: Date.now() - 2 * MAX_LIFETIME } };
        await raw.set(prefix + sid, old, SEEDED_TTL);
      }
      if (loaded !== undefined && !loaded.usable) {
        if (loadGroup.steps.some((s) => s.event.type === 'TOMBSTONE' && s.event.found)) {
          // The browser logged out meanwhile: this request left with the sid before that.
          const out = await request(`${seedServer.url}/logout`, cookieHeader);
          assert.equal(out.status, 200, `logging out answered ${out.status}: ${out.text}`);
          assert.ok(cookieState(out.setCookies).kind === 'reset', 'setup: logging out expired the session cookie');
        } else {
          // The entry is gone without a logout (expired, lost): no tombstone.
          await raw.destroy(prefix + sid);
        }
        assert.ok(!(await raw.get(prefix + sid)), 'setup: the session is gone from the store');
        expected.store.set(sid, null);
      }
      if (unavailableWhileLocking) {
        const held = await raw.lock(prefix + sid, { lease: 10_000, wait: 5_000 });
        assert.ok(held, 'the kit could not take the session lock to make it unavailable');
        cleanup.push(() => held.release());
      }
      // A store call of the load fails: it throws (LOAD_FAILED, the delete of an expired session),
      // or the read never answers (STORE_UNAVAILABLE while loading).
      loadGroup.steps.forEach((s, i) => {
        const failure = failureAfter(loadGroup.steps, i);
        if (failure !== undefined) instrumented.fail(failingMethod(s.effects, failure, supports), 'throw');
      });
      const read = loadGroup.steps.findIndex((s) => s.effects.includes('readStore'));
      if (read >= 0 && loadGroup.steps[read + 1]?.event.type === 'STORE_UNAVAILABLE') instrumented.fail('get', 'hang');
    } else if (load.sid === 'forged') {
      // A sid the client made up, with a bad signature: never looked up, never adopted.
      const forged = randomSid();
      cookieHeader = `${KEY}=${forged}; ${KEY}.sig=forged-signature`;
      expected.store.set(forged, null);
    }
  }
  log.reset();
  instrumented.recording = true;
  const sidBeforeLoad = sid;

  // ---- The handler: one group of steps after another, checked after each.
  async function handler(ctx: Koa.Context): Promise<void> {
    let counter = 0;
    let base: string | undefined;
    const c = ctx as unknown as Record<string, any>;
    const live = (state: SessionState) => LIVE_STATES.has(state);
    const pendingCookies = () => {
      const header = ctx.response.get('Set-Cookie') as unknown;
      const list = Array.isArray(header) ? (header as string[]) : typeof header === 'string' && header ? [header] : [];
      return list.map(parseSetCookie);
    };
    try {
      if (loadGroup) {
        const after = loadGroup.steps.at(-1)!.state;
        const sidAfter = live(after) ? c.sessionId : sidBeforeLoad;
        expected.apply(loadGroup.steps, steps, sidBeforeLoad, sidAfter, undefined);
        loadApplied = true;
        const where = describeUpTo(loadGroup.steps.length);
        if (live(after)) {
          base = JSON.stringify(c.session);
          // The session read from the store, or an empty one (a new session, a late request's).
          const wanted = after === 'loaded' ? { seeded: 1 } : {};
          if (!isDeepStrictEqual(userData(c.session), wanted)) {
            throw withContext(
              new assert.AssertionError({
                message: 'the session the handler gets',
                actual: userData(c.session),
                expected: wanted,
              }),
              where,
            );
          }
        }
        await check(where, loadGroup.steps.length, pendingCookies());
      }
      for (const group of handlerGroups) {
        const first = group.steps[0]!.event;
        const result = group.steps[1];
        const sidBefore = group.from === 'uninitialized' ? undefined : (c.sessionId as string);
        // Arrange the store's answer to the call this step makes.
        const failure = failureAfter(group.steps, 0);
        if (failure !== undefined) instrumented.fail(failingMethod(group.steps[0]!.effects, failure, supports));
        if (result && (result.event.type === 'WRITTEN' || result.event.type === 'TOUCHED') && !result.event.stored) {
          await raw.destroy(prefix + sidBefore);
          expected.store.set(sidBefore!, null);
        }
        if (first.type === 'SAVE_NOW' || first.type === 'COMMIT') {
          c.sessionSave = first.save === 'force' ? true : first.save === 'skip' ? false : null;
          if (live(group.from)) {
            const sess = c.session as UserData;
            if (first.changed) sess.step = ++counter;
            else if (JSON.stringify(sess) !== base) {
              for (const k of Object.keys(sess)) delete sess[k];
              Object.assign(sess, JSON.parse(base!) as UserData);
            }
          }
        }
        const data = live(group.from) ? userData(c.session) : undefined;
        if (first.type === 'COMMIT') {
          // The rest happens after the handler returns; it is checked on the response.
          finalState = { group, sidBefore, data };
          break;
        }
        let rejected: string | undefined;
        try {
          if (first.type === 'REMOVE') c.session = null;
          else if (first.type === 'REPLACE') c.session = { replaced: ++counter };
          else if (first.type === 'REGENERATE') await c.regenerateSession();
          else if (first.type === 'SAVE_NOW') await c.saveSession();
        } catch (err) {
          rejected = err instanceof Error ? err.message : String(err);
        }
        const after = group.steps.at(-1)!.state;
        const startsNew = group.steps.some((s) => s.effects.includes('startNewSession'));
        const sidAfter = startsNew && live(after) ? (c.sessionId as string) : sidBefore;
        expected.apply(group.steps, steps, sidBefore, sidAfter, data);
        const wrote = group.steps.some((s) => s.event.type === 'WRITTEN' && s.event.stored);
        if (live(after) && (startsNew || wrote)) base = JSON.stringify(c.session);
        // A replaced session is compared with the session as it was: the base does not move.
        // A failed delete rejects; a failed write rejects when the errorHandler rethrew it.
        const failed = group.steps.find((s) => s.event.type.endsWith('_FAILED'))?.event;
        const shouldReject =
          failed !== undefined &&
          (failed.type === 'DESTROY_FAILED' || (failed.type === 'WRITE_FAILED' && failed.fatal));
        const where = describeUpTo(group.start + group.steps.length);
        if (shouldReject) {
          const method = failingMethod(group.steps[0]!.effects, failed.type, supports);
          if (rejected !== injectedError(method).message) {
            throw withContext(
              new assert.AssertionError({
                message: `${describeEvent(first)} should reject with the store's error, it ${rejected === undefined ? 'resolved' : `rejected with "${rejected}"`}`,
                actual: rejected,
                expected: injectedError(method).message,
              }),
              where,
            );
          }
        } else if (rejected !== undefined) {
          throw withContext(new Error(`${describeEvent(first)} rejected with "${rejected}"`), where);
        }
        await check(where, group.start + group.steps.length, pendingCookies());
      }
    } catch (err) {
      failure = err;
    }
    ctx.body = { ok: true };
  }
  // ---- The request, then what the client and the store see.
  const reply = await request(`${server.url}/path`, cookieHeader);
  instrumented.recording = false;
  if (failure !== undefined) throw failure;
  const where = `after the response (${describeUpTo(steps.length)})`;
  // A path that ends during the load never reaches the handler.
  if (loadGroup && !loadApplied) expected.apply(loadGroup.steps, steps, sidBeforeLoad, sidBeforeLoad, undefined);
  if (finalState)
    expected.apply(finalState.group.steps, steps, finalState.sidBefore, finalState.sidBefore, finalState.data);
  const status = expectedStatus(path);
  try {
    assert.equal(reply.status, status, `the response status (body: ${reply.text.slice(0, 200)})`);
    // Koa drops every header of a response that ends in an error, the session cookies included.
    if (status >= 500) expected.cookie = { kind: 'none' };
    if (observe) assert.ok(log.observed().done, 'the session machine did not reach a final state');
    const wanted = handled.map((s) => {
      const before = steps[steps.indexOf(s) - 1]!;
      const method = failingMethod(before.effects, s.event.type, supports);
      return `${s.event.type === 'LOAD_FAILED' ? 'get' : 'set'}: ${injectedError(method).message}`;
    });
    assert.deepEqual(errorHandlerSaw, wanted, 'the errors the errorHandler saw');
  } catch (err) {
    throw withContext(err, where);
  }
  await check(where, steps.length, reply.setCookies);
  if (expected.lockHeld) {
    try {
      assert.equal(instrumented.releases, 1, 'the session lock is released once');
      const again = await raw.lock(prefix + sidBeforeLoad, { lease: 10_000, wait: 5_000 });
      assert.ok(again, 'the session lock is free after the request');
      await again.release();
    } catch (err) {
      throw withContext(err, where);
    }
  }
}
