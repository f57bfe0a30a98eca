/**
 * The hot path runs the session machine through a table compiled from its definition
 * (src/machines/compile.ts). This proves the table and XState agree: from every reachable state
 * (value + context), on every event, for every combination of the options the machine reads, the
 * state, the context and the effects asked for are the same; and on every path the conformance kit
 * generates (src/testing/session-paths.ts, the paths the middleware runs in session-paths.test.ts).
 *
 * Why that covers every path: the traversal keys a node by (state, event, previous state), so its
 * shortest paths end with every event taken from every reachable state, and both runners are
 * compared after every step. Two runners that start alike and agree on each single step from every
 * state they can reach agree on any sequence of events, so longer paths (the simple paths this
 * test once walked, about 19 000 per input) would check nothing more.
 *
 * Why the traversal is finite: events are the representative payloads of events.ts (every guard
 * outcome), and the context is finite (the options, `ending`, `lifetimeUnstored`). The last test
 * checks that every transition of the definition is taken on some path, so a transition added to
 * the machine without being reachable fails here.
 */
import { getShortestPaths } from 'xstate/graph';
import { describe, expect, it } from 'vitest';
import { compileMachine } from '../../src/machines/compile.js';
import { actorRunnerFactory, tableRunnerFactory } from '../../src/machines/runner.js';
import { lifecyclePathsFor } from '../../src/testing/index.js';
import {
  SESSION_EFFECTS,
  sessionMachine,
  type SessionEvent,
  type SessionState,
} from '../../src/machines/session.machine.js';
import { SESSION_EVENTS, SESSION_INPUTS } from './events.js';

const compiled = compileMachine(sessionMachine);

type TraversalOptions = Parameters<typeof getShortestPaths<typeof sessionMachine>>[1];
type Snapshot = { value: unknown; context: unknown };
const stateKey = (s: Snapshot) => JSON.stringify([s.value, s.context]);

/**
 * The event sequences to compare the table and XState on, for one input: a shortest path to every
 * (state, event) pair, then the kit's generated paths, so that the paths the middleware is tested
 * on are compared here too.
 */
function paths(input: (typeof SESSION_INPUTS)[number]) {
  const perTransition = getShortestPaths(sessionMachine, {
    events: SESSION_EVENTS,
    input,
    serializeState: (snapshot: Snapshot, event: unknown, previous?: Snapshot) =>
      `${stateKey(snapshot)} via ${JSON.stringify(event)} from ${previous ? stateKey(previous) : '-'}`,
  } as TraversalOptions);
  // A graph path's first step is XState's init event, not one of the machine's.
  const traversed = perTransition.map((path) => path.steps.slice(1).map((step) => step.event as SessionEvent));
  const generated = lifecyclePathsFor(input).map((path) => path.steps.map((step) => step.event as SessionEvent));
  return { traversed, generated };
}

/** Every (state, event type, candidate index) of the definition. */
function allTransitions(): Set<string> {
  const all = new Set<string>();
  for (const [state, byEvent] of compiled.table) {
    for (const [eventType, candidates] of byEvent) candidates.forEach((_, i) => all.add(`${state} ${eventType} #${i}`));
  }
  return all;
}

/** Which candidate a table runner would take, without moving it. */
function candidateTaken(state: SessionState, context: Record<string, unknown>, event: SessionEvent): number {
  const candidates = compiled.table.get(state)?.get(event.type) ?? [];
  return candidates.findIndex((t) => t.guard === undefined || t.guard({ context, event }));
}

/**
 * Each input's traversal is finite CPU work (a few seconds on an idle machine, several times that
 * on a busy one): the bound only stops a hang, so it is far above what the work can take.
 */
const TRAVERSAL_BOUND = 300_000;

describe('the compiled table agrees with XState', () => {
  const covered = new Set<string>();

  for (const input of SESSION_INPUTS) {
    it(
      `with ${JSON.stringify(input)}: on every event from every reachable state and every generated path`,
      () => {
        const { traversed, generated } = paths(input);
        expect(traversed.length).toBeGreaterThan(100);
        expect(generated.length).toBeGreaterThan(0);
        const table = tableRunnerFactory(compiled, input);
        const actor = actorRunnerFactory(sessionMachine, SESSION_EFFECTS, input);
        for (const events of [...traversed, ...generated]) {
          const fast = table();
          const real = actor();
          expect(fast.state).toBe(real.state);
          const where = events.map((e) => JSON.stringify(e)).join(' → ');
          for (const event of events) {
            const index = candidateTaken(fast.state, fast.context, event);
            if (index >= 0) covered.add(`${fast.state} ${event.type} #${index}`);
            const fastEffects = fast.send(event);
            const realEffects = real.send(event);
            expect([fast.state, fast.context, fastEffects], where).toEqual([real.state, real.context, realEffects]);
          }
        }
      },
      TRAVERSAL_BOUND,
    );
  }

  it('takes every transition of the definition on some path', () => {
    const missing = [...allTransitions()].filter((t) => !covered.has(t));
    expect(missing).toEqual([]);
  });
});
