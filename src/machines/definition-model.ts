/**
 * The model of a machine definition that definition.ts reads out of XState's internals: what the
 * transition table (compile.ts), the conformance kit and the diagrams know of a machine. Types
 * only, and the error the reader throws.
 */
import type { EventObject } from 'xstate';

export class DefinitionError extends Error {
  override name = 'DefinitionError';
}

/** What makes a transition be tried: an event, a delay elapsing (`after`), or nothing (`always`). */
export type Trigger =
  | { readonly kind: 'event'; readonly type: string }
  /** `type` is the event XState raises when the delay elapses (`xstate.after.<delay>.<state id>`). */
  | { readonly kind: 'after'; readonly delay: string; readonly type: string }
  | { readonly kind: 'always' };

export type GuardRef =
  | { readonly kind: 'named'; readonly name: string; readonly params: unknown }
  /** XState's `and([...])` and `or([...])` of other guards. */
  | { readonly kind: 'and' | 'or'; readonly guards: readonly GuardRef[] }
  /** XState's `not(guard)`. */
  | { readonly kind: 'not'; readonly guard: GuardRef }
  /** A function written in the transition. */
  | { readonly kind: 'inline' };

export type ActionRef =
  | { readonly kind: 'named'; readonly name: string; readonly params: unknown }
  /** A function or a built-in action (`assign(…)`, `raise(…)`) written in place; `what` says which. */
  | { readonly kind: 'inline'; readonly what: string };

export interface TransitionDefinition {
  /** The state it leaves. */
  readonly source: string;
  readonly trigger: Trigger;
  /** Its place among the candidates of its state for its trigger: XState tries them in this order. */
  readonly index: number;
  readonly guard: GuardRef | undefined;
  /** The state it enters; `undefined` for a transition that stays, running its actions only. */
  readonly target: string | undefined;
  /** True when a transition to its own state leaves and re-enters it. */
  readonly reenter: boolean;
  readonly actions: readonly ActionRef[];
}

/** A transition of `after`: its trigger names the delay and the event XState raises for it. */
export type DelayedTransition = TransitionDefinition & { readonly trigger: Extract<Trigger, { kind: 'after' }> };

export interface StateDefinition {
  readonly key: string;
  readonly type: 'atomic' | 'final';
  readonly description: string | undefined;
  readonly tags: readonly string[];
  /**
   * Entry and exit actions, without the `raise` / `cancel` pairs XState adds for `after` (those are
   * the delayed transitions, listed in `after`).
   */
  readonly entry: readonly ActionRef[];
  readonly exit: readonly ActionRef[];
  /** For each event type, the candidate transitions in the order XState tries them. */
  readonly on: ReadonlyMap<string, readonly TransitionDefinition[]>;
  /** Eventless transitions, in order. */
  readonly always: readonly TransitionDefinition[];
  /** Delayed transitions, by delay (a name from `delays`, or a number of ms), in order. */
  readonly after: ReadonlyMap<string, readonly DelayedTransition[]>;
  /** How many actors the state invokes. */
  readonly invokes: number;
}

export type GuardFunction = (args: { context: unknown; event: EventObject }, params: unknown) => boolean;
export type Assignment =
  ((args: { context: unknown; event: EventObject }) => Record<string, unknown>) | Readonly<Record<string, unknown>>;

export type GuardImplementation =
  | { readonly kind: 'custom'; readonly check: GuardFunction }
  /** `and(…)`, `or(…)`, `not(…)`, `stateIn(…)`. */
  | { readonly kind: 'builtin'; readonly type: string };

export type ActionImplementation =
  | { readonly kind: 'custom' }
  | { readonly kind: 'assign'; readonly assignment: Assignment }
  /** Any other built-in action (`raise`, `sendTo`, `log`, …). */
  | { readonly kind: 'builtin'; readonly type: string };

export type ContextDefinition =
  | { readonly kind: 'none' }
  | { readonly kind: 'value'; readonly value: Readonly<Record<string, unknown>> }
  | { readonly kind: 'factory'; readonly create: (args: { input: unknown }) => Record<string, unknown> };

export interface MachineDefinition {
  readonly id: string;
  readonly initial: string;
  /** The states, in definition order. */
  readonly states: ReadonlyMap<string, StateDefinition>;
  readonly context: ContextDefinition;
  /** The named implementations given to `setup()` (or `provide()`). */
  readonly guards: ReadonlyMap<string, GuardImplementation>;
  readonly actions: ReadonlyMap<string, ActionImplementation>;
  /**
   * The definition of a transition object XState hands out (`machine.getTransitionData`), found
   * by identity; `undefined` for an object that is not a transition of this machine.
   */
  transitionOf(transition: unknown): TransitionDefinition | undefined;
}
