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
 * - `LOADED usable`: the cookie's entry is in the store; not usable: the kit destroyed it first.
 * - `LOAD_FAILED`: `get` throws; `fatal` unless the app's `errorHandler` swallows errors.
 * - `REMOVE`, `REPLACE`, `REGENERATE`, `SAVE_NOW`: the handler sets `ctx.session = null`,
 *   `ctx.session = { … }`, awaits `ctx.regenerateSession()` or `ctx.saveSession()`; `COMMIT` is the
 *   end of the handler. `changed` is whether the handler modified the session (or restored it as it
 *   was), `save` is `ctx.sessionSave` (`true`, `false` or unset).
 * - `WRITTEN` / `TOUCHED` not stored: the handler destroys the entry through the store right before
 *   (another request's logout). `WRITE_FAILED`, `TOUCH_FAILED`, `DESTROY_FAILED`: that one store
 *   call throws (for a store without `update` / `touch`, the `set` after the read).
 *
 * After the load, after every handler step and after the response, the kit compares what a user can
 * observe with what the path's effects imply: the session cookie (sent with which sid, reset, or
 * none), what the store holds under every sid the request used, the store calls the middleware made,
 * the errors the handler and the `errorHandler` saw, and the status. Through the `inspect` option it
 * also checks that the request's session machine went through exactly the events and states of the
 * path.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import Koa from 'koa';
import type { InspectionEvent } from 'xstate';
import session, { type SessionOptions, type SessionStore } from '../index.js';
import { listen, parseSetCookie, request, type SetCookie } from './http.js';
import { injectedError, InstrumentedStore, type ResolvedCapabilities, type StoreMethod } from './instrumented.js';
import { SESSION_EVENT_KINDS, type SessionState } from '../machines/session.machine.js';
import { describeEvent, LIVE_STATES, type LifecyclePath, type LifecycleStep } from './session-paths.js';

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

const KEY = 'koa.sid';
const KEYS = ['conformance-kit-key', 'conformance-kit-old-key'];
/** The short `storeTimeout` / `lockTimeout` of the paths where the store is made unavailable. */
const SHORT_TIMEOUT = 20;
/** Whether the handler or the client cause the step's event; the others are store results that follow one. */
const drives = (step: LifecycleStep) => {
  const kind = SESSION_EVENT_KINDS[step.event.type];
  return kind === 'request' || kind === 'app';
};

type CookieState = { kind: 'none' } | { kind: 'reset' } | { kind: 'sent'; sid: string };
type UserData = Record<string, unknown>;

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

/** The session's own fields: everything but `cookie`, as JSON would give them back. */
function userData(session: unknown): UserData | undefined {
  if (session === null || typeof session !== 'object') return undefined;
  const { cookie: _cookie, ...rest } = JSON.parse(JSON.stringify(session)) as UserData;
  return rest;
}

function cookieState(setCookies: readonly SetCookie[]): CookieState {
  const last = setCookies.filter((c) => c.name === KEY).at(-1);
  if (last === undefined) return { kind: 'none' };
  if (last.expired || last.value === '') return { kind: 'reset' };
  return { kind: 'sent', sid: last.value };
}

function describeCookie(state: CookieState): string {
  return state.kind === 'sent' ? `sent with sid ${state.sid}` : state.kind;
}

/**
 * The store calls an effect makes, given the declared capabilities and the result event that
 * follows it. A store without `update` (or `touch`) is read first, and rewritten with `set` only
 * when the entry is still there.
 */
function callsOf(effect: string, supports: ResolvedCapabilities, result: LifecycleStep | undefined): StoreMethod[] {
  const readThenSet = (): StoreMethod[] => {
    const stored = result !== undefined && 'stored' in result.event ? result.event.stored : true;
    return stored ? ['get', 'set'] : ['get'];
  };
  switch (effect) {
    case 'acquireLock':
      return ['lock'];
    case 'readStore':
      return ['get'];
    case 'createInStore':
      return ['set'];
    case 'updateInStore':
      return supports.update ? ['update'] : readThenSet();
    case 'touchInStore':
      return supports.touch ? ['touch'] : readThenSet();
    case 'destroyInStore':
      return ['destroy'];
    default:
      return [];
  }
}

/** The store method that is made to fail so that `effects` end in a failure event (the last call). */
function failingMethod(effects: readonly string[], supports: ResolvedCapabilities): StoreMethod {
  for (const effect of effects) {
    const method = callsOf(effect, supports, undefined).at(-1);
    if (method !== undefined) return method;
  }
  throw new Error(`koa-session-machine/testing: no store call to make fail among ${effects.join(', ')}`);
}

/** What the world should look like, updated from the effects of the path's steps. */
class Expected {
  cookie: CookieState = { kind: 'none' };
  /** What the store holds under each sid the request used: its user data, or `null` for nothing. */
  readonly store = new Map<string, UserData | null>();
  readonly calls: string[] = [];
  lockHeld = false;

  constructor(
    private readonly supports: ResolvedCapabilities,
    private readonly prefix: string,
  ) {}

  /**
   * Applies the effects of `steps`. `sid` is the sid before the steps, `sidAfter` the one after
   * (they differ when a step starts a new session); `data` is the session as the handler left it.
   */
  apply(steps: readonly LifecycleStep[], all: readonly LifecycleStep[], sid: string | undefined, sidAfter: string | undefined, data: UserData | undefined): void {
    let current = sid;
    for (const step of steps) {
      const next = all[all.indexOf(step) + 1];
      for (const effect of step.effects) {
        for (const method of callsOf(effect, this.supports, next)) this.calls.push(`${method} ${this.prefix}${current}`);
        switch (effect) {
          case 'createInStore':
          case 'updateInStore':
            if (next?.event.type === 'WRITTEN' && next.event.stored) this.store.set(current!, data ?? {});
            break;
          case 'touchInStore':
            // Stores without touch() get the unchanged session rewritten: the same data.
            if (next?.event.type === 'TOUCHED' && next.event.stored && !this.supports.touch) this.store.set(current!, data ?? {});
            break;
          case 'destroyInStore':
            if (next?.event.type === 'DESTROYED') this.store.set(current!, null);
            break;
          case 'sendCookie':
            this.cookie = { kind: 'sent', sid: current! };
            break;
          case 'resetCookie':
            this.cookie = { kind: 'reset' };
            break;
          case 'startNewSession':
            current = sidAfter;
            break;
        }
      }
      if (step.event.type === 'LOCKED') this.lockHeld = true;
    }
  }
}

interface Observed {
  entries: string[];
  done: boolean;
  actors: number;
}

/** Collects, through `inspect`, the events and states of the session machine of each request. */
class StateLog {
  private actors = new Set<unknown>();
  private entries: string[] = [];
  private done = false;

  readonly inspect = (event: InspectionEvent): void => {
    const actor = event.actorRef as unknown as { logic?: { id?: string } };
    if (actor.logic?.id !== 'session') return;
    if (event.type === '@xstate.actor') this.actors.add(event.actorRef);
    if (event.type !== '@xstate.snapshot' || event.event.type === 'xstate.init') return;
    const snapshot = event.snapshot as { value?: unknown; status?: string };
    this.entries.push(`${describeEvent(event.event as never)} → ${String(snapshot.value)}`);
    this.done = snapshot.status === 'done';
  };

  reset(): void {
    this.actors = new Set();
    this.entries = [];
    this.done = false;
  }

  observed(): Observed {
    return { entries: [...this.entries], done: this.done, actors: this.actors.size };
  }
}

/** What a path expects of the response status. */
function expectedStatus(path: LifecyclePath, swallow: boolean): number {
  const last = path.steps.at(-1)!;
  if (last.state !== 'failed') return 200;
  switch (last.event.type) {
    case 'STORE_UNAVAILABLE':
      return 503;
    case 'WRITE_FAILED':
    case 'TOUCH_FAILED':
      return swallow ? 200 : 500;
    default:
      return 500;
  }
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
  const has = (test: (s: LifecycleStep, from: SessionState) => boolean) => steps.some((s, i) => test(s, i === 0 ? 'uninitialized' : steps[i - 1]!.state));
  const swallow = has((s) => s.event.type === 'LOAD_FAILED' && !s.event.fatal);
  const degrade = has((s) => s.event.type === 'STORE_UNAVAILABLE' && s.event.degrade);
  const unavailableWhileLocking = has((s, from) => s.event.type === 'STORE_UNAVAILABLE' && from === 'locking');
  const unavailableWhileLoading = has((s, from) => s.event.type === 'STORE_UNAVAILABLE' && from === 'loading');
  const observe = options.observeStates !== false;
  const log = new StateLog();
  const errorHandlerSaw: string[] = [];
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
      errorHandlerSaw.push(`${type}: ${err.message}`);
      if (!swallow) throw err;
    },
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
        assert.deepEqual(seen.entries, steps.slice(0, done).map((s) => `${describeEvent(s.event)} → ${s.state}`), 'the session machine went through other events or states than the path');
      }
      assert.deepEqual(
        instrumented.calls.map((c) => `${c.method} ${c.key}`),
        expected.calls,
        'the middleware made other store calls than the effects of the path',
      );
      if (cookies !== undefined) {
        const got = cookieState(cookies);
        assert.equal(describeCookie(got), describeCookie(expected.cookie), 'the session cookie');
        if (got.kind !== 'none') {
          const sig = cookies.filter((c) => c.name === `${KEY}.sig`).at(-1);
          assert.ok(sig !== undefined && sig.expired === (got.kind === 'reset'), `the ${KEY}.sig cookie goes with the session cookie`);
        }
      }
      for (const [sid, data] of expected.store) {
        const stored = await raw.get(prefix + sid);
        if (data === null) assert.ok(!stored, `the store should hold nothing under ${prefix}${sid}, it holds ${JSON.stringify(stored)}`);
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
  const describeUpTo = (n: number) => (n === 0 ? 'before any event' : `after ${describeEvent(step(n)!.event)} → ${step(n)!.state}`);

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
      // and the plain contract, so that nothing of the request under test happens during it.
      const seeder = new KoaClass();
      seeder.keys = KEYS;
      seeder.use(session({ store: { get: (k) => raw.get(k), set: (k, v, t) => raw.set(k, v, t), destroy: (k) => raw.destroy(k) }, prefix }));
      seeder.use((ctx) => {
        ctx.session!.seeded = 1;
        ctx.body = 'seeded';
      });
      const seedServer = await listen(seeder);
      const seeded = await request(seedServer.url).finally(() => seedServer.close());
      assert.equal(seeded.status, 200, `seeding a session answered ${seeded.status}: ${seeded.text}`);
      const value = seeded.setCookies.find((c) => c.name === KEY)?.value;
      const sig = seeded.setCookies.find((c) => c.name === `${KEY}.sig`)?.value;
      assert.ok(value && sig, 'seeding a session sent no session cookie');
      sid = value;
      cookieHeader = `${KEY}=${value}; ${KEY}.sig=${sig}`;
      assert.deepEqual(userData(await raw.get(prefix + sid)), { seeded: 1 }, 'setup: the seeded session is in the store');
      expected.store.set(sid, { seeded: 1 });
      const usable = loadGroup.steps.find((s) => s.event.type === 'LOADED');
      if (usable && !(usable.event as { usable: boolean }).usable) {
        await raw.destroy(prefix + sid);
        expected.store.set(sid, null);
      }
      if (unavailableWhileLocking) {
        const held = await raw.lock(prefix + sid, { lease: 10_000, wait: 5_000 });
        assert.ok(held, 'the kit could not take the session lock to make it unavailable');
        cleanup.push(() => held.release());
      }
      // The read fails: it throws (LOAD_FAILED), or never answers (STORE_UNAVAILABLE while loading).
      const read = loadGroup.steps.findIndex((s) => s.effects.includes('readStore'));
      const answer = read < 0 ? undefined : loadGroup.steps[read + 1]?.event.type;
      if (answer === 'LOAD_FAILED') instrumented.fail('get', 'throw');
      if (answer === 'STORE_UNAVAILABLE') instrumented.fail('get', 'hang');
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
        if (live(after)) base = JSON.stringify(c.session);
        await check(describeUpTo(loadGroup.steps.length), loadGroup.steps.length, pendingCookies());
      }
      for (const group of handlerGroups) {
        const first = group.steps[0]!.event;
        const result = group.steps[1];
        const sidBefore = group.from === 'uninitialized' ? undefined : (c.sessionId as string);
        // Arrange the store's answer to the call this step makes.
        if (result && result.event.type.endsWith('_FAILED')) instrumented.fail(failingMethod(group.steps[0]!.effects, supports));
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
        const failed = group.steps.find((s) => s.event.type.endsWith('_FAILED'));
        const shouldReject =
          failed !== undefined && (failed.event.type === 'DESTROY_FAILED' || (failed.event.type === 'WRITE_FAILED' && !swallow));
        const where = describeUpTo(group.start + group.steps.length);
        if (shouldReject) {
          const method = failingMethod(group.steps[0]!.effects, supports);
          if (rejected !== injectedError(method).message) {
            throw withContext(new assert.AssertionError({ message: `${describeEvent(first)} should reject with the store's error, it ${rejected === undefined ? 'resolved' : `rejected with "${rejected}"`}`, actual: rejected, expected: injectedError(method).message }), where);
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
  if (finalState) expected.apply(finalState.group.steps, steps, finalState.sidBefore, finalState.sidBefore, finalState.data);
  const status = expectedStatus(path, swallow);
  try {
    assert.equal(reply.status, status, `the response status (body: ${reply.text.slice(0, 200)})`);
    // Koa drops every header of a response that ends in an error, the session cookies included.
    if (status >= 500) expected.cookie = { kind: 'none' };
    if (observe) assert.ok(log.observed().done, 'the session machine did not reach a final state');
    const wanted = steps
      .filter((s) => s.event.type === 'LOAD_FAILED' || s.event.type === 'WRITE_FAILED' || s.event.type === 'TOUCH_FAILED')
      .map((s) => {
        const before = steps[steps.indexOf(s) - 1]!;
        const method = failingMethod(before.effects, supports);
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
