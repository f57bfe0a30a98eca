/**
 * Runs one generated lifecycle path through a real Koa app on 127.0.0.1, with the author's store.
 *
 * Each machine event is made to happen as event-actions.ts says: the kit sends the request and app
 * events, and arranges the store's answer (store-faults.ts) before each call whose result or
 * failure is the next event.
 *
 * After the load, after every handler step and after the response, the kit compares what a user can
 * observe with what the path's effects imply (observed.ts: the cookie, the store, the store calls,
 * the notices, the machine's states through `inspect`), and here: the errors the handler and the
 * `errorHandler` saw, the session the handler gets, and the status.
 */
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import Koa from 'koa';
import session, { STORE_UNAVAILABLE_MESSAGE, type SessionOptions, type SessionStore } from '../index.js';
import type { SessionState } from '../machines/session.machine.js';
import {
  actionFor,
  arrangeAnswers,
  eventOptions,
  HandlerSession,
  kitSends,
  stateBefore,
  type ClientCookie,
} from './event-actions.js';
import {
  Expected,
  expectedStatus,
  failingMethod,
  handledByApp,
  isOutage,
  userData,
  type UserData,
} from './expected-outcome.js';
import { listen, parseSetCookie, request, type SetCookie } from './http.js';
import { injectedError, InstrumentedStore, type ResolvedCapabilities } from './instrumented.js';
import { storeFrom } from './contract.js';
import { KitFailure } from './failure.js';
import { KeyMaker, SID_SHAPES } from './keys.js';
import { checkObserved, withContext, type Observation } from './observed.js';
import { Draw, kitSeed } from './seed.js';
import { describeEvent, LIVE_STATES, type LifecyclePath, type LifecycleStep } from './session-paths.js';
import { StateLog } from './state-log.js';
import { KEYS, SEEDED, StoreFaults } from './store-faults.js';

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
  /** The seed of the sids the kit makes up (default: $KSM_KIT_SEED, else a new one). */
  seed?: string;
  /** The store's name, which failures give. */
  name?: string;
}

/** A step the kit sends, and the store's answers that follow it. */
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
    if (kitSends(step.event) || groups.length === 0)
      groups.push({ start: i, steps: [step], from: stateBefore(steps, i) });
    else groups.at(-1)!.steps.push(step);
  });
  return groups;
}

/**
 * Runs `path` against a fresh store from `options.factory`; rejects with a `KitFailure` that says
 * what differed, under which store keys, and the seed.
 */
export async function runLifecyclePath(path: LifecyclePath, options: RunPathOptions): Promise<void> {
  const seed = options.seed ?? kitSeed();
  const prefix = options.prefix ?? 'koa:sess:';
  const cleanup: (() => unknown)[] = [];
  let raw: SessionStore | undefined;
  let instrumented: InstrumentedStore | undefined;
  try {
    raw = await storeFrom(options.factory);
    instrumented = new InstrumentedStore(raw, options.supports);
    const keys = new KeyMaker(new Draw(seed, `${options.name ?? ''} ${path.name}`), path.name);
    let n = 0;
    const sid = () => keys.sid(SID_SHAPES[n++ % SID_SHAPES.length]!);
    await drive(path, instrumented, { ...options, prefix, sid }, cleanup);
  } catch (err) {
    const called = [...new Set(instrumented?.calls.map((c) => c.key) ?? [])];
    throw new KitFailure(
      { rule: path.name, store: options.name, seed, ...(called.length > 0 ? { key: called.join(', ') } : {}) },
      err,
    );
  } finally {
    for (const step of cleanup.reverse()) {
      try {
        await step();
      } catch {
        // Best effort: the path's result is what matters.
      }
    }
    for (const key of instrumented?.written ?? []) {
      try {
        await (raw as { destroy(key: string): unknown }).destroy(key);
      } catch {
        // Best effort.
      }
    }
    if (raw !== undefined) await options.teardown?.(raw);
  }
}

async function drive(
  path: LifecyclePath,
  instrumented: InstrumentedStore,
  options: RunPathOptions & { prefix: string; sid: () => string },
  cleanup: (() => unknown)[],
): Promise<void> {
  const { supports, prefix } = options;
  const raw = instrumented.raw as unknown as Record<string, any>;
  const { steps, input } = path;
  const groups = groupSteps(steps);
  const loadGroup = groups[0]!.steps[0]!.event.type === 'LOAD' ? groups[0]! : undefined;
  const handlerGroups = loadGroup ? groups.slice(1) : groups;
  // The steps whose store error the errorHandler sees, and whether it rethrows each.
  const handled = steps.filter((s) => handledByApp(s.event));
  // The errorHandler returns from the error of a `swallowed` event, and rethrows the others.
  const rethrows = handled.map((s) => !('swallowed' in s.event && s.event.swallowed));
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
    storeOutage: input.degradeOnOutage ? 'degrade' : 'fail',
    // The app's own generator, async as an app's may be: the middleware awaits it before the handlers.
    // Its sids have the shapes of the kit's keys, from the seed.
    ...(input.ownGenSid ? { genSid: async () => options.sid() } : {}),
    errorHandler: (err, type) => {
      const fatal = rethrows[errorHandlerSaw.length] ?? true;
      errorHandlerSaw.push(`${type}: ${err.message}`);
      if (fatal) throw err;
    },
    onEvent: (notice) => {
      if (notice.type !== 'expired' && notice.type !== 'late' && notice.type !== 'degraded') return;
      noticesSeen.push(notice.ctx.path.endsWith('/path') ? notice.type : `${notice.type}, with another request's ctx`);
    },
    ...eventOptions(steps),
    ...(observe ? { inspect: log.inspect } : {}),
  };

  const observed: Observation = { observe, log, steps, instrumented, expected, noticesSeen, prefix };
  /** Compares what is observable now with what the first `done` steps imply. */
  const check = (where: string, done: number, cookies: SetCookie[] | undefined) =>
    checkObserved(observed, where, done, cookies);

  const step = (i: number) => steps[i - 1];
  const describeUpTo = (n: number) =>
    n === 0 ? 'before any event' : `after ${describeEvent(step(n)!.event)} → ${step(n)!.state}`;

  // ---- Setup: what the client sends, and what the store holds before the request.
  const KoaClass = options.Koa ?? Koa;
  const app = new KoaClass();
  app.keys = KEYS;
  app.silent = true;
  app.use(session(sessionOptions));
  app.use((ctx) => handler(ctx));
  const server = await listen(app);
  cleanup.push(() => server.close());

  const faults = new StoreFaults(instrumented, expected, {
    prefix,
    supports,
    Koa: KoaClass,
    cleanup,
    sid: options.sid,
  });
  let client: ClientCookie = {};
  if (loadGroup) {
    const load = loadGroup.steps[0]!.event;
    client = (await actionFor(load).cookie?.(load, faults)) ?? {};
    await arrangeAnswers(loadGroup.steps, faults, client.sid);
  }
  log.reset();
  instrumented.recording = true;
  const sidBeforeLoad = client.sid;

  // ---- The handler: one group of steps after another, checked after each.
  async function handler(ctx: Koa.Context): Promise<void> {
    const c = ctx as unknown as Record<string, any>;
    const handlerSession = new HandlerSession(c);
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
          handlerSession.remember();
          // The session read from the store, or an empty one (a new session, a late request's).
          const wanted = after === 'loaded' ? SEEDED : {};
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
        const action = actionFor(first);
        const sidBefore = group.from === 'uninitialized' ? undefined : (c.sessionId as string);
        await arrangeAnswers(group.steps, faults, sidBefore);
        action.leave?.(first, handlerSession, group.from);
        const data = live(group.from) ? userData(c.session) : undefined;
        if (first.type === 'COMMIT') {
          // The rest happens after the handler returns; it is checked on the response.
          finalState = { group, sidBefore, data };
          break;
        }
        let rejected: string | undefined;
        try {
          await action.call?.(first, handlerSession);
        } catch (err) {
          rejected = err instanceof Error ? err.message : String(err);
        }
        const after = group.steps.at(-1)!.state;
        const startsNew = group.steps.some((s) => s.effects.includes('startNewSession'));
        const sidAfter = startsNew && live(after) ? (c.sessionId as string) : sidBefore;
        expected.apply(group.steps, steps, sidBefore, sidAfter, data);
        const wrote = group.steps.some((s) => s.event.type === 'WRITTEN' && s.event.stored);
        if (live(after) && (startsNew || wrote)) handlerSession.remember();
        // A replaced session is compared with the session as it was: what is remembered does not move.
        // The call rejects when its store call failed the request: a failed delete, a write whose
        // error the errorHandler rethrew (the store's), or one that met an outage the policy fails (a 503).
        const failedStep = group.steps.find((s) => s.event.type.endsWith('_FAILED'));
        const failed = failedStep?.event;
        const shouldReject =
          failed !== undefined &&
          (failed.type === 'DESTROY_FAILED' ||
            (failed.type === 'WRITE_FAILED' && (failed.outage ? !input.degradeOnOutage : !failed.swallowed)));
        const where = describeUpTo(group.start + group.steps.length);
        if (shouldReject) {
          const error = isOutage(failed)
            ? STORE_UNAVAILABLE_MESSAGE
            : injectedError(failingMethod(group.steps[0]!.effects, failed.type, supports)).message;
          if (rejected !== error) {
            throw withContext(
              new assert.AssertionError({
                message: `${describeEvent(first)} should reject with the ${isOutage(failed) ? 'outage' : "store's"} error, it ${rejected === undefined ? 'resolved' : `rejected with "${rejected}"`}`,
                actual: rejected,
                expected: error,
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
  const reply = await request(`${server.url}/path`, client.cookie);
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
