/**
 * The hot path runs the session machine through a table compiled from its definition
 * (src/machines/compile.ts). This proves the table and XState agree: on every simple path through
 * the machine (no state+context visited twice), on a shortest path to every transition, and on every
 * path the conformance kit generates (src/testing/session-paths.ts, the paths the middleware runs
 * in session-paths.test.ts), for every combination of the options the machine reads, after every
 * step, the state, the context and the effects asked for are the same.
 *
 * Why the bound covers the machine: events are the representative payloads of events.ts (every
 * guard outcome), the context is finite (two options and `ending`), so the serialized state
 * (value + context) has finitely many values and simple paths reach every transition that is
 * reachable at all. The last test checks that claim: every transition of the definition is taken
 * on some path, so a transition added to the machine without being reachable fails here.
 */
import { getShortestPaths, getSimplePaths } from 'xstate/graph';
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

type TraversalOptions = Parameters<typeof getSimplePaths<typeof sessionMachine>>[1];
type Snapshot = { value: unknown; context: unknown };
const stateKey = (s: Snapshot) => JSON.stringify([s.value, s.context]);

/**
 * The event sequences to compare the table and XState on, for one input. Simple paths never repeat
 * a state, so they miss the transitions that close a cycle (a self-transition, `removed` → `loaded`
 * again). Shortest paths to every (state, arriving transition) pair take those too. Together: every
 * transition, and long sequences of them. The kit's generated paths are added so that the paths the
 * middleware is tested on are compared here too, each once.
 */
function paths(input: (typeof SESSION_INPUTS)[number]) {
  const simple = getSimplePaths(sessionMachine, {
    events: SESSION_EVENTS,
    input,
    serializeState: stateKey,
  } as TraversalOptions);
  const perTransition = getShortestPaths(sessionMachine, {
    events: SESSION_EVENTS,
    input,
    serializeState: (snapshot: Snapshot, event: unknown, previous?: Snapshot) =>
      `${stateKey(snapshot)} via ${JSON.stringify(event)} from ${previous ? stateKey(previous) : '-'}`,
  } as TraversalOptions);
  // A graph path's first step is XState's init event, not one of the machine's.
  const traversed = [...simple, ...perTransition].map((path) =>
    path.steps.slice(1).map((step) => step.event as SessionEvent),
  );
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
 * Each input's traversal is finite CPU work (several seconds on an idle machine, three times that
 * on a busy one): the bound only stops a hang, so it is far above what the work can take.
 */
const TRAVERSAL_BOUND = 300_000;

describe('the compiled table agrees with XState', () => {
  const covered = new Set<string>();

  for (const input of SESSION_INPUTS) {
    it(
      `with ${JSON.stringify(input)}: on every simple path, a shortest path to every transition and every generated path`,
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
          for (const event of events) {
            const index = candidateTaken(fast.state, fast.context, event);
            if (index >= 0) covered.add(`${fast.state} ${event.type} #${index}`);
            const fastEffects = fast.send(event);
            const realEffects = real.send(event);
            const where = events.map((e) => JSON.stringify(e)).join(' → ');
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
