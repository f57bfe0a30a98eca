/**
 * Two ways to run a machine, behind one small interface: the compiled table (the hot path) and a
 * real XState actor (used when the app passes an `inspect` callback, and by the tests that prove
 * both agree). `send` returns the names of the effects the transition asks for, in order.
 */
import { createActor, type AnyStateMachine, type EventObject, type InspectionEvent } from 'xstate';
import type { CompiledMachine } from './compile.js';

export interface MachineRunner<E extends EventObject = EventObject> {
  readonly state: string;
  readonly context: Readonly<Record<string, unknown>>;
  send(event: E): readonly string[];
}

const NO_EFFECTS: readonly string[] = Object.freeze([]);

class TableRunner implements MachineRunner {
  state: string;
  context: Record<string, unknown>;

  constructor(
    private readonly compiled: CompiledMachine,
    context: Record<string, unknown>,
  ) {
    this.state = compiled.initialState;
    this.context = context;
  }

  send(event: EventObject): readonly string[] {
    const candidates = this.compiled.table.get(this.state)?.get(event.type);
    if (candidates === undefined) return NO_EFFECTS;
    for (const t of candidates) {
      if (t.guard !== undefined && !t.guard({ context: this.context, event })) continue;
      this.state = t.target;
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
export function tableRunnerFactory<E extends EventObject>(
  compiled: CompiledMachine,
  input: unknown,
): () => MachineRunner<E> {
  const initialContext = compiled.createContext(input);
  return () => new TableRunner(compiled, { ...initialContext }) as MachineRunner<E>;
}

/**
 * A factory for XState-actor runners. The machine is given recording implementations of its effect
 * actions once; `send` is synchronous, so one shared buffer collects what a single send asks for.
 */
export function actorRunnerFactory<E extends EventObject>(
  machine: AnyStateMachine,
  effectNames: readonly string[],
  input: unknown,
  inspect?: (event: InspectionEvent) => void,
): () => MachineRunner<E> {
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
        return String(actor.getSnapshot().value);
      },
      get context() {
        return actor.getSnapshot().context as Record<string, unknown>;
      },
      send(event: E) {
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
