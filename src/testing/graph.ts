/**
 * Transition coverage for flat XState machines, read from the machine definition itself (through
 * the package's one reader of it, src/machines/definition.ts), so that a transition added to a
 * machine is counted without anyone listing it.
 *
 * A transition is named `<state> <event type> #<candidate>`: the candidate is its index among the
 * guarded transitions of that state for that event (`#0` is tried first). Eventless transitions are
 * `<state> always #<candidate>`, delayed ones carry XState's event type
 * (`xstate.after.<delay>.<machine>.<state>`).
 */
import type { AnyMachineSnapshot, AnyStateMachine, EventObject } from 'xstate';
import { compileGuard } from '../machines/compile.js';
import { readDefinition, type TransitionDefinition } from '../machines/definition.js';

function nameOf(t: TransitionDefinition): string {
  return `${t.source} ${t.trigger.kind === 'always' ? 'always' : t.trigger.type} #${t.index}`;
}

/** Every transition of the definition: each (state, event type, candidate). */
export function transitionsOf(machine: AnyStateMachine): string[] {
  const all: string[] = [];
  for (const state of readDefinition(machine).states.values()) {
    for (const t of state.always) all.push(nameOf(t));
    for (const candidates of state.on.values()) for (const t of candidates) all.push(nameOf(t));
    for (const candidates of state.after.values()) for (const t of candidates) all.push(nameOf(t));
  }
  return all;
}

/** The transition `event` takes from `snapshot`, or `undefined` when no transition is enabled. */
export function transitionTaken(
  machine: AnyStateMachine,
  snapshot: AnyMachineSnapshot,
  event: EventObject,
): string | undefined {
  const [taken] = machine.getTransitionData(snapshot, event);
  if (taken === undefined) return undefined;
  const definition = readDefinition(machine).transitionOf(taken);
  if (definition === undefined)
    throw new Error(`transitionTaken: XState took a transition the definition of "${machine.id}" does not list`);
  return nameOf(definition);
}

/**
 * The eventless transition taken out of the machine's initial state when it starts, if it has any
 * (the connection machine picks its first state that way). Eventless transitions of other states
 * are not recognized, so they stay uncovered and a coverage test reports them.
 */
export function initialTransition(machine: AnyStateMachine, started: AnyMachineSnapshot): string | undefined {
  const definition = readDefinition(machine);
  const taken = definition.states.get(definition.initial)!.always.find(
    (t) =>
      t.guard === undefined ||
      compileGuard(
        definition,
        t.guard,
        `"${definition.initial}"`,
      )({
        context: started.context,
        event: { type: 'xstate.init' },
      }),
  );
  return taken === undefined ? undefined : nameOf(taken);
}

/** The transitions of `machine` that no transition in `covered` names, in definition order. */
export function uncoveredTransitions(machine: AnyStateMachine, covered: Iterable<string>): string[] {
  const seen = new Set(covered);
  return transitionsOf(machine).filter((t) => !seen.has(t));
}
