/**
 * Transition coverage for flat XState machines, read from the machine definition itself
 * (`machine.root`), so that a transition added to a machine is counted without anyone listing it.
 *
 * A transition is named `<state> <event type> #<candidate>`: the candidate is its index among the
 * guarded transitions of that state for that event (`#0` is tried first). Eventless transitions are
 * `<state> always #<candidate>`, delayed ones carry XState's event type
 * (`xstate.after.<delay>.<machine>.<state>`).
 */
import type { AnyMachineSnapshot, AnyStateMachine, EventObject } from 'xstate';

interface NodeLike {
  key: string;
  states: Record<string, NodeLike>;
  transitions: Map<string, readonly TransitionLike[]>;
  always?: readonly TransitionLike[];
}

interface TransitionLike {
  source: NodeLike;
  eventType: string;
  target?: readonly NodeLike[];
  guard?: unknown;
}

function topStates(machine: AnyStateMachine): [string, NodeLike][] {
  const states = Object.entries(machine.root.states as unknown as Record<string, NodeLike>);
  for (const [key, node] of states) {
    if (Object.keys(node.states).length > 0) throw new Error(`transitionsOf: state "${key}" is nested; only flat machines are supported`);
  }
  return states;
}

/** Every transition of the definition: each (state, event type, candidate). */
export function transitionsOf(machine: AnyStateMachine): string[] {
  const all: string[] = [];
  for (const [key, node] of topStates(machine)) {
    node.always?.forEach((_, i) => all.push(`${key} always #${i}`));
    for (const [eventType, candidates] of node.transitions) candidates.forEach((_, i) => all.push(`${key} ${eventType} #${i}`));
  }
  return all;
}

/** The transition `event` takes from `snapshot`, or `undefined` when no transition is enabled. */
export function transitionTaken(machine: AnyStateMachine, snapshot: AnyMachineSnapshot, event: EventObject): string | undefined {
  const [taken] = machine.getTransitionData(snapshot, event) as unknown as TransitionLike[];
  if (taken === undefined) return undefined;
  const candidates = taken.source.transitions.get(taken.eventType) ?? [];
  return `${taken.source.key} ${taken.eventType} #${candidates.indexOf(taken)}`;
}

type GuardImpl = (args: { context: unknown; event: EventObject }, params: unknown) => boolean;

/**
 * The eventless transition taken out of the machine's initial state when it starts, if it has any
 * (the connection machine picks its first state that way). Eventless transitions of other states
 * are not recognized, so they stay uncovered and a coverage test reports them.
 */
export function initialTransition(machine: AnyStateMachine, started: AnyMachineSnapshot): string | undefined {
  const initialKey = (machine.root as unknown as { initial?: { target?: readonly NodeLike[] } }).initial?.target?.[0]?.key;
  if (initialKey === undefined) return undefined;
  const node = (machine.root.states as unknown as Record<string, NodeLike>)[initialKey];
  if (!node?.always?.length) return undefined;
  const guards = (machine.implementations as unknown as { guards: Record<string, GuardImpl> }).guards;
  const index = node.always.findIndex((t) => {
    if (t.guard === undefined) return true;
    const ref = t.guard as string | { type: string; params?: unknown };
    const name = typeof ref === 'string' ? ref : ref.type;
    const guard = guards[name];
    if (guard === undefined) throw new Error(`initialTransition: the guard "${name}" is not a named guard of the machine`);
    return guard({ context: started.context, event: { type: 'xstate.init' } }, typeof ref === 'string' ? undefined : ref.params);
  });
  return index < 0 ? undefined : `${initialKey} always #${index}`;
}

/** The transitions of `machine` that no transition in `covered` names, in definition order. */
export function uncoveredTransitions(machine: AnyStateMachine, covered: Iterable<string>): string[] {
  const seen = new Set(covered);
  return transitionsOf(machine).filter((t) => !seen.has(t));
}
