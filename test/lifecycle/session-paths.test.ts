/**
 * Model-based tests of the session machine: the paths the conformance kit generates
 * from the machine with `xstate/graph` (src/testing/session-paths.ts), each run as a real request
 * through the real middleware on 127.0.0.1 with a MemoryStore, for every combination of the
 * options the machine reads (`rolling`, `allowEmpty`, `concurrency: 'serialize'`).
 *
 * Each path runs twice: once with `inspect`, so that the middleware runs a real XState actor and
 * the test checks that the request's machine went through exactly the path's events and states;
 * once without, so that the middleware runs its compiled transition table (the hot path) and the
 * test checks that a user observes exactly the same: status, Set-Cookie headers, store contents,
 * store calls, errors. Every step a path records (the state and the effects) is what XState's
 * actor does; that the compiled table agrees with XState step by step, on these paths and more, is
 * test/lifecycle/compiled-agrees.test.ts.
 *
 * Why the bound covers the machine (see also session-paths.ts): guards read only the event payload
 * fields and the three options, so the representative payloads and the 8 option combinations reach
 * every guard outcome; per combination, every reachable transition lies on some generated path.
 * The last tests prove that: the set of (state, event, candidate) read from the machine definition
 * must equal the set the paths take, and, per option combination, the set reachable by an
 * independent traversal with every payload (drivable or not). A transition added to the machine
 * without being covered fails here.
 */
import { getAdjacencyMap } from 'xstate/graph';
import { createMachine } from 'xstate';
import { describe, expect, it } from 'vitest';
import { MemoryStore, sessionMachine } from '../../src/index.js';
import { actorRunnerFactory } from '../../src/machines/runner.js';
import { SESSION_EFFECTS, type SessionEvent } from '../../src/machines/session.machine.js';
import {
  coveredBy,
  LIFECYCLE_INPUTS,
  lifecyclePaths,
  resolveCapabilities,
  runLifecyclePath,
  transitionsOf,
  transitionTaken,
  uncoveredTransitions,
  type LifecycleInput,
} from '../../src/testing/index.js';
import { SESSION_EVENTS } from './events.js';

const paths = lifecyclePaths();
const supports = resolveCapabilities({ ttl: true, touch: true, update: true, lock: true });
const factory = () => new MemoryStore();

describe('session machine paths through the middleware, observed with inspect (XState actor)', () => {
  for (const path of paths) it(path.name, () => runLifecyclePath(path, { factory, supports }));
});

describe('the same paths through the compiled transition table (no inspect): the same observable behaviour', () => {
  for (const path of paths) it(path.name, () => runLifecyclePath(path, { factory, supports, observeStates: false }));
});

describe('every step of a generated path records what XState does', () => {
  for (const input of LIFECYCLE_INPUTS) {
    it(`with ${JSON.stringify(input)}: the state and the effects of every step are the XState actor's`, () => {
      const actor = actorRunnerFactory(sessionMachine, SESSION_EFFECTS, input);
      for (const path of paths.filter((p) => JSON.stringify(p.input) === JSON.stringify(input))) {
        const real = actor();
        for (const step of path.steps) {
          const realEffects = real.send(step.event as SessionEvent);
          expect([real.state, realEffects], path.name).toEqual([step.state, step.effects]);
        }
      }
    });
  }
});

/** The transitions reachable under `input` with every representative payload, drivable or not. */
function reachable(input: Required<LifecycleInput>): Set<string> {
  const adjacency = getAdjacencyMap(sessionMachine, {
    input,
    events: SESSION_EVENTS as never,
    serializeState: (s) => JSON.stringify([s.value, s.context]),
  });
  const found = new Set<string>();
  for (const { state, transitions } of Object.values(adjacency)) {
    for (const { event } of Object.values(transitions as Record<string, { event: SessionEvent }>)) {
      const taken = transitionTaken(sessionMachine, state, event);
      if (taken !== undefined) found.add(taken);
    }
  }
  return found;
}

describe('the bound covers the machine', () => {
  it(`generates ${paths.length} paths`, () => {
    expect(paths.length).toBeGreaterThan(0);
    expect(new Set(paths.map((p) => p.name)).size).toBe(paths.length);
    for (const path of paths)
      expect(path.steps.at(-1)!.state, path.name).toMatch(
        /^(unchanged|saved|touched|destroyed|superseded|unsaved|failed)$/,
      );
  });

  it('every transition of the definition (state, event, candidate, from the machine definition) is taken by a generated path', () => {
    const all = transitionsOf(sessionMachine);
    expect(all.length).toBeGreaterThan(40);
    expect(uncoveredTransitions(sessionMachine, coveredBy(paths))).toEqual([]);
  });

  for (const input of LIFECYCLE_INPUTS) {
    it(`with ${JSON.stringify(input)}, every transition reachable at all is taken by a path of that combination`, () => {
      const own = coveredBy(paths.filter((p) => JSON.stringify(p.input) === JSON.stringify(input)));
      expect([...reachable(input)].filter((t) => !own.has(t))).toEqual([]);
    });
  }

  it('a transition added to the machine and not covered is reported', () => {
    const config = sessionMachine.config as unknown as { states: Record<string, { on?: Record<string, unknown> }> };
    const loaded = config.states.loaded!;
    const extended = createMachine({
      ...(config as object),
      states: { ...config.states, loaded: { ...loaded, on: { ...loaded.on, TOUCH_NOW: { target: 'touching' } } } },
    } as never).provide(sessionMachine.implementations as never);
    expect(transitionsOf(extended)).toContain('loaded TOUCH_NOW #0');
    expect(uncoveredTransitions(extended, coveredBy(paths))).toEqual(['loaded TOUCH_NOW #0']);
  });
});
