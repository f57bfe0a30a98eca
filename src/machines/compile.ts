/**
 * Turns a flat XState machine into a transition table, once, at start-up.
 *
 * An XState actor per request costs tens of microseconds (NOTES.md); the session machine has to
 * run on every request, so the hot path reads this table instead. It is derived from the machine
 * definition, never written by hand: the states, the order of the guarded transitions, the guard
 * functions, the assign actions and the effect names all come from `machine.root` and
 * `machine.implementations`. Anything the table cannot reproduce exactly (nested or parallel
 * states, `always`, delayed or wildcard transitions, invokes, inline guards or actions) is refused
 * here, at start-up, rather than run differently. test/machines/compiled-agrees.test.ts proves the
 * table and XState agree on every generated path.
 */
import type { AnyStateMachine, EventObject } from 'xstate';

type Guard = (args: { context: unknown; event: EventObject }) => boolean;
type Assigner = (context: Record<string, unknown>, event: EventObject) => Record<string, unknown>;

interface CompiledTransition {
  guard: Guard | undefined;
  /** The state key after the transition (the same key for a targetless transition). */
  target: string;
  /** Assignments to apply, in order, interleaved with effects as the machine lists them. */
  steps: readonly ({ effect: string } | { assign: Assigner })[];
  /** The effect names alone, precomputed, so that a transition without assigns allocates nothing. */
  effects: readonly string[];
  hasAssign: boolean;
}

export interface CompiledMachine {
  readonly initialState: string;
  readonly finalStates: ReadonlySet<string>;
  /** For each state, for each event type, the candidate transitions in the machine's order. */
  readonly table: ReadonlyMap<string, ReadonlyMap<string, readonly CompiledTransition[]>>;
  /** The context a new run starts with, for a given input. */
  readonly createContext: (input: unknown) => Record<string, unknown>;
}

interface ActionLike {
  type?: string;
  assignment?: unknown;
}

function refuse(what: string): never {
  throw new Error(`compileMachine: ${what} is not supported by the transition table`);
}

function compileAssign(action: ActionLike): Assigner {
  const assignment = action.assignment;
  if (typeof assignment === 'function') {
    return (context, event) => ({ ...context, ...(assignment({ context, event }) as object) });
  }
  if (assignment === null || typeof assignment !== 'object') refuse('an assign without an assignment');
  const entries = Object.entries(assignment as Record<string, unknown>);
  return (context, event) => {
    const next = { ...context };
    for (const [key, value] of entries) {
      next[key] = typeof value === 'function' ? value({ context, event }) : value;
    }
    return next;
  };
}

export function compileMachine(machine: AnyStateMachine): CompiledMachine {
  const root = machine.root;
  const implementations = machine.implementations as unknown as {
    guards: Record<string, Guard>;
    actions: Record<string, unknown>;
  };
  if (root.type !== 'compound') refuse(`a root of type ${root.type}`);

  const steps = (actions: readonly unknown[], where: string) =>
    actions.map((action) => {
      if (typeof action !== 'string') refuse(`an inline action in ${where}`);
      const impl = implementations.actions[action] as ActionLike | undefined;
      if (impl === undefined) refuse(`the unknown action "${action}" in ${where}`);
      if (impl.type === 'xstate.assign') return { assign: compileAssign(impl) };
      if (typeof impl.type === 'string' && impl.type.startsWith('xstate.')) refuse(`the built-in ${impl.type} in ${where}`);
      return { effect: action };
    });
  const effectNames = (list: readonly ({ effect: string } | { assign: Assigner })[]) =>
    list.flatMap((s) => ('effect' in s ? [s.effect] : []));

  const entryOf = new Map<string, ReturnType<typeof steps>>();
  const finalStates = new Set<string>();
  for (const [key, node] of Object.entries(root.states)) {
    if (node.type !== 'atomic' && node.type !== 'final') refuse(`the ${node.type} state "${key}"`);
    if (node.always?.length) refuse(`an always transition in "${key}"`);
    if (node.exit.length) refuse(`exit actions in "${key}"`);
    if (node.after.length) refuse(`a delayed transition in "${key}"`);
    if (node.invoke.length) refuse(`an invoke in "${key}"`);
    entryOf.set(key, steps(node.entry, `the entry of "${key}"`));
    if (node.type === 'final') finalStates.add(key);
  }

  const table = new Map<string, Map<string, CompiledTransition[]>>();
  for (const [key, node] of Object.entries(root.states)) {
    const byEvent = new Map<string, CompiledTransition[]>();
    for (const [eventType, transitions] of node.transitions) {
      if (eventType.includes('*')) refuse(`the wildcard event "${eventType}" in "${key}"`);
      byEvent.set(
        eventType,
        transitions.map((t) => {
          if (t.guard !== undefined && typeof t.guard !== 'string') refuse(`an inline guard in "${key}"`);
          const guard = t.guard === undefined ? undefined : implementations.guards[t.guard];
          if (t.guard !== undefined && guard === undefined) refuse(`the unknown guard "${t.guard}"`);
          if ((t.target?.length ?? 0) > 1) refuse(`a transition with several targets in "${key}"`);
          const targetNode = t.target?.[0];
          if (targetNode && targetNode.parent !== root) refuse(`a target outside the root in "${key}"`);
          if (targetNode === node && t.reenter) refuse(`a re-entering self transition in "${key}"`);
          const target = targetNode?.key ?? key;
          const own = steps(t.actions, `a transition of "${key}" on ${eventType}`);
          // Entering a different state runs its entry actions after the transition's own.
          const all = targetNode && targetNode !== node ? [...own, ...(entryOf.get(target) ?? [])] : own;
          return {
            guard,
            target,
            steps: all,
            effects: effectNames(all),
            hasAssign: all.some((s) => 'assign' in s),
          };
        }),
      );
    }
    table.set(key, byEvent);
  }

  const initialKey = root.initial?.target?.[0]?.key;
  if (initialKey === undefined) refuse('a machine without an initial state');
  // A run starts without a transition, so the initial state must ask for nothing.
  if (entryOf.get(initialKey)?.length) refuse('entry actions on the initial state');
  const contextConfig = machine.config.context as unknown;
  const createContext = (input: unknown) =>
    typeof contextConfig === 'function'
      ? (contextConfig as (a: { input: unknown }) => Record<string, unknown>)({ input })
      : { ...(contextConfig as Record<string, unknown> | undefined) };

  return {
    initialState: initialKey,
    finalStates,
    table,
    createContext,
  };
}
