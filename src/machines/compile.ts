/**
 * Turns a flat XState machine into a transition table, once, at start-up.
 *
 * An XState actor per request costs tens of microseconds; the session machine has to run on every
 * request, so the hot path reads this table instead. It is derived from the machine definition
 * (as definition.ts reads it), never written by hand: the states, the order of the guarded
 * transitions, the guard functions (named, or XState's `and` / `or` / `not` of named ones), the
 * assign actions and the effect names. Anything the table
 * cannot reproduce exactly (`always`, delayed or wildcard transitions, invokes, exit actions, inline
 * or built-in guards and actions) is refused here, at start-up, rather than run differently.
 * test/lifecycle/compiled-agrees.test.ts proves the table and XState agree on every generated path.
 */
import type { AnyStateMachine, EventFromLogic, EventObject, StateValueFrom, TagsFrom } from 'xstate';
import {
  readDefinition,
  type ActionRef,
  type Assignment,
  type GuardRef,
  type MachineDefinition,
} from './definition.js';

export type Guard = (args: { context: unknown; event: EventObject }) => boolean;
type Assigner = (context: Record<string, unknown>, event: EventObject) => Record<string, unknown>;
type Step = { effect: string } | { assign: Assigner };

interface CompiledTransition<S extends string, T extends string> {
  guard: Guard | undefined;
  /** The state key after the transition (the same key for a targetless transition). */
  target: S;
  /** The tags of that state. */
  targetTags: ReadonlySet<T>;
  /** Assignments to apply, in order, interleaved with effects as the machine lists them. */
  steps: readonly Step[];
  /** The effect names alone, precomputed, so that a transition without assigns allocates nothing. */
  effects: readonly string[];
  hasAssign: boolean;
}

/** The table of a machine whose state keys are `S`, whose tags are `T` and whose events are `E`. */
export interface CompiledMachine<
  S extends string = string,
  T extends string = string,
  E extends EventObject = EventObject,
> {
  readonly initialState: S;
  readonly initialTags: ReadonlySet<T>;
  readonly finalStates: ReadonlySet<S>;
  /** For each state, for each event type, the candidate transitions in the machine's order. */
  readonly table: ReadonlyMap<S, ReadonlyMap<E['type'], readonly CompiledTransition<S, T>[]>>;
  /** The context a new run starts with, for a given input. */
  readonly createContext: (input: unknown) => Record<string, unknown>;
}

function refuse(what: string): never {
  throw new Error(`compileMachine: ${what} is not supported by the transition table`);
}

function compileAssign(assignment: Assignment): Assigner {
  if (typeof assignment === 'function') {
    return (context, event) => ({ ...context, ...assignment({ context, event }) });
  }
  const entries = Object.entries(assignment);
  return (context, event) => {
    const next = { ...context };
    for (const [key, value] of entries) {
      next[key] = typeof value === 'function' ? (value as (args: unknown) => unknown)({ context, event }) : value;
    }
    return next;
  };
}

function stepsOf(definition: MachineDefinition, actions: readonly ActionRef[], where: string): Step[] {
  return actions.map((action) => {
    if (action.kind === 'inline') refuse(`${action.what} inline in ${where}`);
    if (action.params !== undefined) refuse(`the parameters of "${action.name}" in ${where}`);
    const impl = definition.actions.get(action.name);
    if (impl === undefined) refuse(`the unknown action "${action.name}" in ${where}`);
    if (impl.kind === 'builtin') refuse(`the built-in ${impl.type} in ${where}`);
    return impl.kind === 'assign' ? { assign: compileAssign(impl.assignment) } : { effect: action.name };
  });
}

/**
 * A guard as one function of `{ context, event }`: a named guard of the machine, or XState's
 * `and`, `or` and `not` of such guards, evaluated as XState evaluates them (in order, stopping
 * early). Inline guards, parameters and the built-in `stateIn` are refused.
 */
export function compileGuard(definition: MachineDefinition, guard: GuardRef, where: string): Guard {
  switch (guard.kind) {
    case 'inline':
      return refuse(`an inline guard in ${where}`);
    case 'not': {
      const inner = compileGuard(definition, guard.guard, where);
      return (args) => !inner(args);
    }
    case 'and':
    case 'or': {
      const parts = guard.guards.map((g) => compileGuard(definition, g, where));
      return guard.kind === 'and' ? (args) => parts.every((p) => p(args)) : (args) => parts.some((p) => p(args));
    }
    case 'named': {
      if (guard.params !== undefined) refuse(`the parameters of the guard "${guard.name}" in ${where}`);
      const impl = definition.guards.get(guard.name);
      if (impl === undefined) refuse(`the unknown guard "${guard.name}"`);
      if (impl.kind === 'builtin') refuse(`the built-in guard ${impl.type} "${guard.name}"`);
      // Called with the arguments alone: a named guard without parameters gets `undefined` for them.
      return impl.check as Guard;
    }
  }
}

/** The state keys of a flat machine. */
export type StateKeyOf<M extends AnyStateMachine> = Extract<StateValueFrom<M>, string>;

export type CompiledMachineOf<M extends AnyStateMachine> = CompiledMachine<
  StateKeyOf<M>,
  TagsFrom<M>,
  EventFromLogic<M>
>;

export function compileMachine<M extends AnyStateMachine>(machine: M): CompiledMachineOf<M> {
  const definition = readDefinition(machine);
  const entryOf = new Map<string, Step[]>();
  const finalStates = new Set<string>();
  const tags = new Map<string, ReadonlySet<string>>();
  for (const [key, state] of definition.states) {
    if (state.always.length > 0) refuse(`an always transition in "${key}"`);
    if (state.exit.length > 0) refuse(`exit actions in "${key}"`);
    if (state.after.size > 0) refuse(`a delayed transition in "${key}"`);
    if (state.invokes > 0) refuse(`an invoke in "${key}"`);
    entryOf.set(key, stepsOf(definition, state.entry, `the entry of "${key}"`));
    if (state.type === 'final') finalStates.add(key);
    tags.set(key, new Set(state.tags));
  }

  const table = new Map<string, Map<string, CompiledTransition<string, string>[]>>();
  for (const [key, state] of definition.states) {
    const byEvent = new Map<string, CompiledTransition<string, string>[]>();
    for (const [eventType, transitions] of state.on) {
      if (eventType.includes('*')) refuse(`the wildcard event "${eventType}" in "${key}"`);
      byEvent.set(
        eventType,
        transitions.map((t) => {
          if (t.target === key && t.reenter) refuse(`a re-entering self transition in "${key}"`);
          const target = t.target ?? key;
          const own = stepsOf(definition, t.actions, `a transition of "${key}" on ${eventType}`);
          // Entering a different state runs its entry actions after the transition's own.
          const all = t.target !== undefined && t.target !== key ? [...own, ...(entryOf.get(target) ?? [])] : own;
          return {
            guard: t.guard === undefined ? undefined : compileGuard(definition, t.guard, `"${key}"`),
            target,
            targetTags: tags.get(target)!,
            steps: all,
            effects: all.flatMap((s) => ('effect' in s ? [s.effect] : [])),
            hasAssign: all.some((s) => 'assign' in s),
          };
        }),
      );
    }
    table.set(key, byEvent);
  }

  // A run starts without a transition, so the initial state must ask for nothing.
  if (entryOf.get(definition.initial)?.length) refuse('entry actions on the initial state');
  const context = definition.context;
  const createContext = (input: unknown) =>
    context.kind === 'factory' ? context.create({ input }) : context.kind === 'value' ? { ...context.value } : {};

  return {
    initialState: definition.initial,
    initialTags: tags.get(definition.initial)!,
    finalStates,
    table,
    createContext,
  } as CompiledMachineOf<M>;
}
