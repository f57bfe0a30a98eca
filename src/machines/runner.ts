/**
 * Two ways to run a machine, behind one small interface: the compiled table (the hot path) and a
 * real XState actor (used when the app passes an `inspect` callback, and by the tests that prove
 * both agree). `send` returns the names of the effects the transition asks for, in order.
 */
import {
  createActor,
  type AnyStateMachine,
  type EventFromLogic,
  type EventObject,
  type InputFrom,
  type InspectionEvent,
  type TagsFrom,
} from 'xstate';
import type { CompiledMachine, StateKeyOf } from './compile.js';

/** A run of a machine with events `E`, state keys `S` and tags `T`. */
export interface MachineRunner<
  E extends EventObject = EventObject,
  S extends string = string,
  T extends string = string,
> {
  readonly state: S;
  readonly context: Readonly<Record<string, unknown>>;
  /** Whether the current state carries `tag`. */
  hasTag(tag: T): boolean;
  send(event: E): readonly string[];
}

/** The runner of a flat machine, its state keys and tags typed from it. */
export type RunnerOf<M extends AnyStateMachine> = MachineRunner<EventFromLogic<M>, StateKeyOf<M>, TagsFrom<M>>;

const NO_EFFECTS: readonly string[] = Object.freeze([]);

class TableRunner<S extends string, T extends string, E extends EventObject> implements MachineRunner<E, S, T> {
  state: S;
  context: Record<string, unknown>;
  private tags: ReadonlySet<T>;

  constructor(
    private readonly compiled: CompiledMachine<S, T, E>,
    context: Record<string, unknown>,
  ) {
    this.state = compiled.initialState;
    this.tags = compiled.initialTags;
    this.context = context;
  }

  hasTag(tag: T): boolean {
    return this.tags.has(tag);
  }

  send(event: E): readonly string[] {
    const candidates = this.compiled.table.get(this.state)?.get(event.type);
    if (candidates === undefined) return NO_EFFECTS;
    for (const t of candidates) {
      if (t.guard !== undefined && !t.guard({ context: this.context, event })) continue;
      this.state = t.target;
      this.tags = t.targetTags;
      if (!t.hasAssign) return t.effects;
      let context = this.context;
      for (const step of t.steps) if ('assign' in step) context = step.assign(context, event);
      this.context = context;
      return t.effects;
    }
    return NO_EFFECTS;
  }
}

/** A factory for table runners of one machine and one input (the middleware's options). */
export function tableRunnerFactory<S extends string, T extends string, E extends EventObject>(
  compiled: CompiledMachine<S, T, E>,
  input: unknown,
): () => MachineRunner<E, S, T> {
  const initialContext = compiled.createContext(input);
  return () => new TableRunner(compiled, { ...initialContext });
}

/**
 * A factory for XState-actor runners. The machine is given recording implementations of its effect
 * actions once; `send` is synchronous, so one shared buffer collects what a single send asks for.
 */
export function actorRunnerFactory<M extends AnyStateMachine>(
  machine: M,
  effectNames: readonly string[],
  input: InputFrom<M>,
  inspect?: (event: InspectionEvent) => void,
): () => RunnerOf<M> {
  let buffer: string[] = [];
  const recording = Object.fromEntries(effectNames.map((name) => [name, () => void buffer.push(name)]));
  const provided = machine.provide({ actions: recording });
  return () => {
    const actor = createActor(provided, { input, ...(inspect ? { inspect } : {}) });
    buffer = [];
    actor.start();
    buffer = [];
    return {
      get state() {
        return actor.getSnapshot().value as StateKeyOf<M>;
      },
      get context() {
        return actor.getSnapshot().context as Record<string, unknown>;
      },
      hasTag(tag: TagsFrom<M>) {
        return actor.getSnapshot().hasTag(tag);
      },
      send(event: EventFromLogic<M>) {
        // A finished run ignores events, as the table does (XState would warn about a stopped actor).
        if (actor.getSnapshot().status !== 'active') return NO_EFFECTS;
        buffer = [];
        actor.send(event);
        const effects = buffer;
        buffer = [];
        return effects;
      },
    };
  };
}
