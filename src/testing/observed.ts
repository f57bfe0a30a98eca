/**
 * What a user can observe of one lifecycle path at a point of it, compared with what the path's
 * effects imply so far: the events and states of the session machine (through `inspect`), the store
 * calls the middleware made, the `onEvent` notices, the session cookie and its signature, and what
 * the store holds under every sid the request used.
 */
import assert from 'node:assert/strict';
import { cookieState, describeCookie, KEY, userData, type Expected } from './expected-outcome.js';
import type { SetCookie } from './http.js';
import type { InstrumentedStore } from './instrumented.js';
import { describeEvent, type LifecycleStep } from './session-paths.js';
import type { StateLog } from './state-log.js';

/** What a path's run collects, and what it expects. */
export interface Observation {
  /** Whether the machine's events and states are checked (through `inspect`). */
  observe: boolean;
  log: StateLog;
  steps: readonly LifecycleStep[];
  instrumented: InstrumentedStore;
  expected: Expected;
  /** The `onEvent` notices the app saw so far. */
  noticesSeen: readonly string[];
  prefix: string;
}

/** `err` with `where` before its message. */
export function withContext(err: unknown, where: string): Error {
  if (err instanceof Error) {
    err.message = `${where}: ${err.message}`;
    return err;
  }
  return new Error(`${where}: ${String(err)}`);
}

/** Rejects, with `where` before the message, when what is observable differs from what the first `done` steps imply. */
export async function checkObserved(
  { observe, log, steps, instrumented, expected, noticesSeen, prefix }: Observation,
  where: string,
  done: number,
  cookies: SetCookie[] | undefined,
): Promise<void> {
  const raw = instrumented.raw as unknown as Record<string, any>;
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
}
