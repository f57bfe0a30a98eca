/**
 * The one reader of XState's internals. XState 5 has no public API that lists a machine's states
 * with their ordered, guarded transitions and named actions, so the transition table
 * (compile.ts), the conformance kit (src/testing) and the diagrams (scripts/diagrams) all need
 * what only `machine.root` holds. This module reads it once per machine into a typed model and
 * nobody else touches `machine.root`.
 *
 * Only flat machines are read: a compound root whose states are atomic or final. The shape is
 * checked strictly (a Map where a Map is expected, arrays, strings, the targets among the root's
 * own states) and anything not understood throws a `DefinitionError` that says what and where:
 * a later XState release that changes these internals shows up as that error (the middleware then
 * runs real actors instead of the table, see session-runner.ts), never as a silently wrong model.
 */
import { and, not, or, type AnyStateMachine } from 'xstate';
import {
  DefinitionError,
  type ActionImplementation,
  type ActionRef,
  type Assignment,
  type ContextDefinition,
  type DelayedTransition,
  type GuardFunction,
  type GuardImplementation,
  type GuardRef,
  type MachineDefinition,
  type StateDefinition,
  type TransitionDefinition,
  type Trigger,
} from './definition-model.js';

export * from './definition-model.js';

type Loose = Record<string, unknown>;

const isObject = (value: unknown): value is Loose =>
  (typeof value === 'object' && value !== null) || typeof value === 'function';

const cache = new WeakMap<AnyStateMachine, MachineDefinition>();

/** The `check` of each of XState's guard combinators, taken from what the public functions return. */
const COMBINATORS: ReadonlyMap<unknown, 'and' | 'or' | 'not'> = new Map([
  [(and([]) as unknown as Loose).check, 'and'],
  [(or([]) as unknown as Loose).check, 'or'],
  [(not('') as unknown as Loose).check, 'not'],
]);

/** The model of a flat machine, read once per machine object; throws a `DefinitionError` on anything it does not understand. */
export function readDefinition(machine: AnyStateMachine): MachineDefinition {
  let definition = cache.get(machine);
  if (definition === undefined) {
    definition = new Reader(machine).read();
    cache.set(machine, definition);
  }
  return definition;
}

/** The keys of the states that carry `tag`, in definition order. */
export function statesTagged(definition: MachineDefinition, tag: string): string[] {
  return [...definition.states.values()].filter((s) => s.tags.includes(tag)).map((s) => s.key);
}

class Reader {
  private readonly id: string;
  private readonly byObject = new Map<unknown, TransitionDefinition>();
  private readonly root: Loose;

  constructor(private readonly machine: AnyStateMachine) {
    this.id = typeof machine.id === 'string' ? machine.id : '(no id)';
    this.root = this.object(machine.root, 'the root');
  }

  private fail(what: string): never {
    throw new DefinitionError(
      `koa-session-machine cannot read the machine "${this.id}": ${what}. Only flat XState 5 machines ` +
        '(atomic and final states under the root) are read; if the machine is one, the installed xstate ' +
        'stores its definition differently from the versions this package knows',
    );
  }

  private object(value: unknown, where: string): Loose {
    if (!isObject(value)) this.fail(`${where} is not an object`);
    return value;
  }

  private array(value: unknown, where: string): readonly unknown[] {
    if (!Array.isArray(value)) this.fail(`${where} is not an array`);
    return value;
  }

  private string(value: unknown, where: string): string {
    if (typeof value !== 'string') this.fail(`${where} is not a string`);
    return value;
  }

  private empty(value: unknown, where: string): void {
    if (value !== undefined && this.array(value, where).length > 0) this.fail(`${where} is not supported`);
  }

  read(): MachineDefinition {
    const root = this.root;
    if (root.type !== 'compound') this.fail(`a root of type ${String(root.type)}`);
    const transitions = root.transitions;
    if (!(transitions instanceof Map)) this.fail('the transitions of the root are not a Map');
    if (transitions.size > 0) this.fail('transitions on the root are not supported');
    for (const field of ['entry', 'exit', 'always', 'invoke', 'after'] as const)
      this.empty(root[field], `the ${field} of the root`);

    const children = this.object(root.states, 'the states of the root');
    const states = new Map<string, StateDefinition>();
    for (const [key, node] of Object.entries(children))
      states.set(key, this.state(key, this.object(node, `the state "${key}"`)));

    const initial = this.object(root.initial, 'the initial transition');
    const initialTargets = this.array(initial.target, 'the initial target');
    if (initialTargets.length !== 1) this.fail('a machine without exactly one initial state');
    this.empty(initial.actions, 'the actions of the initial transition');

    const implementations = this.object(this.machine.implementations, 'the implementations');
    const byObject = this.byObject;
    return {
      id: this.id,
      initial: this.targetKey(initialTargets[0], 'the initial transition'),
      states,
      context: this.context(),
      guards: this.guardImplementations(this.object(implementations.guards, 'the guard implementations')),
      actions: this.actionImplementations(this.object(implementations.actions, 'the action implementations')),
      transitionOf: (transition) => byObject.get(transition),
    };
  }

  private state(key: string, node: Loose): StateDefinition {
    const where = `the state "${key}"`;
    if (node.key !== key) this.fail(`${where} has the key ${String(node.key)}`);
    if (node.parent !== this.root) this.fail(`${where} is not a child of the root`);
    if (node.type !== 'atomic' && node.type !== 'final') {
      this.fail(`${where} is of type ${String(node.type)}; nested, parallel and history states are not supported`);
    }
    if (Object.keys(this.object(node.states, `the states of ${where}`)).length > 0)
      this.fail(`${where} has nested states`);
    if (node.description !== undefined) this.string(node.description, `the description of ${where}`);
    const tags = this.array(node.tags, `the tags of ${where}`).map((t) => this.string(t, `a tag of ${where}`));

    // The delayed transitions, and the event type XState raises for each delay.
    const after = new Map<string, DelayedTransition[]>();
    const afterTypes = new Set<string>();
    const delayedObjects = this.array(node.after, `the after of ${where}`);
    for (const t of delayedObjects) {
      const transition = this.object(t, `a delayed transition of ${where}`);
      const delay = transition.delay;
      if (typeof delay !== 'string' && typeof delay !== 'number')
        this.fail(`a delayed transition of ${where} has no delay`);
      const type = this.string(transition.eventType, `the event type of a delayed transition of ${where}`);
      afterTypes.add(type);
      const group = after.get(String(delay)) ?? [];
      group.push(
        this.transition(transition, node, { kind: 'after', delay: String(delay), type } as const, group.length),
      );
      after.set(String(delay), group);
    }

    const on = new Map<string, TransitionDefinition[]>();
    const transitions = node.transitions;
    if (!(transitions instanceof Map)) this.fail(`the transitions of ${where} are not a Map`);
    for (const [type, list] of transitions as Map<unknown, unknown>) {
      const eventType = this.string(type, `an event type of ${where}`);
      const candidates = this.array(list, `the transitions of ${where} on ${eventType}`);
      if (afterTypes.has(eventType)) {
        // The same objects as `after` lists: nothing more to read, but check that they are.
        if (candidates.some((t) => !this.byObject.has(t)))
          this.fail(`the delayed transitions of ${where} differ from its after`);
        continue;
      }
      on.set(
        eventType,
        candidates.map((t, i) =>
          this.transition(
            this.object(t, `a transition of ${where} on ${eventType}`),
            node,
            { kind: 'event', type: eventType },
            i,
          ),
        ),
      );
    }
    const always = (node.always === undefined ? [] : this.array(node.always, `the always of ${where}`)).map((t, i) =>
      this.transition(this.object(t, `an eventless transition of ${where}`), node, { kind: 'always' }, i),
    );

    return {
      key,
      type: node.type,
      description: node.description as string | undefined,
      tags,
      entry: this.actions(
        this.withoutDelays(node.entry, 'xstate.raise', 'id', afterTypes, `the entry of ${where}`),
        `the entry of ${where}`,
      ),
      exit: this.actions(
        this.withoutDelays(node.exit, 'xstate.cancel', 'sendId', afterTypes, `the exit of ${where}`),
        `the exit of ${where}`,
      ),
      on,
      always,
      after,
      invokes: this.array(node.invoke, `the invoke of ${where}`).length,
    };
  }

  /**
   * `after` makes XState add, for each delay, a delayed `raise` of its event to the entry and a
   * `cancel` of it to the exit. They are what the delayed transitions mean, not actions of the
   * machine's author: dropped here, each one checked to belong to a delay of the state.
   */
  private withoutDelays(
    list: unknown,
    builtin: string,
    idField: string,
    afterTypes: ReadonlySet<string>,
    where: string,
  ): unknown[] {
    const kept: unknown[] = [];
    let found = 0;
    for (const action of this.array(list, where)) {
      if (
        isObject(action) &&
        action.type === builtin &&
        typeof action[idField] === 'string' &&
        afterTypes.has(action[idField])
      )
        found++;
      else kept.push(action);
    }
    if (found !== afterTypes.size) this.fail(`${where} does not hold the ${builtin} XState adds for each delay`);
    return kept;
  }

  private transition<T extends Trigger>(
    t: Loose,
    node: Loose,
    trigger: T,
    index: number,
  ): TransitionDefinition & { readonly trigger: T } {
    const source = node.key as string;
    const where = `a transition of "${source}"${trigger.kind === 'event' ? ` on ${trigger.type}` : trigger.kind === 'after' ? ` after ${trigger.delay}` : ' (always)'}`;
    if (t.source !== node) this.fail(`${where} has another source`);
    const targets = t.target === undefined ? [] : this.array(t.target, `the target of ${where}`);
    if (targets.length > 1) this.fail(`${where} has several targets`);
    if (typeof t.reenter !== 'boolean') this.fail(`the reenter of ${where} is not a boolean`);
    const definition = {
      source,
      trigger,
      index,
      guard: this.guard(t.guard, where),
      target: targets.length === 0 ? undefined : this.targetKey(targets[0], where),
      reenter: t.reenter,
      actions: this.actions(t.actions, `the actions of ${where}`),
    };
    this.byObject.set(t, definition);
    return definition;
  }

  private targetKey(target: unknown, where: string): string {
    const node = this.object(target, `the target of ${where}`);
    if (node.parent !== this.root) this.fail(`${where} targets a state outside the root`);
    return this.string(node.key, `the target key of ${where}`);
  }

  private guard(guard: unknown, where: string): GuardRef | undefined {
    if (guard === undefined) return undefined;
    if (typeof guard === 'string') return { kind: 'named', name: guard, params: undefined };
    if (typeof guard === 'function') return this.composedGuard(guard as unknown as Loose, where) ?? { kind: 'inline' };
    if (isObject(guard) && typeof guard.type === 'string')
      return { kind: 'named', name: guard.type, params: guard.params };
    this.fail(`the guard of ${where} is not understood`);
  }

  /**
   * `and([...])`, `or([...])` or `not(...)`: a function whose `check` is the one XState's own
   * combinators carry (compared by identity with what the public `and`, `or` and `not` return, so a
   * look-alike is not taken for one); `undefined` for any other function, an inline guard.
   */
  private composedGuard(fn: Loose, where: string): GuardRef | undefined {
    const kind = COMBINATORS.get(fn.check);
    if (kind === undefined) return undefined;
    const parts = this.array(fn.guards, `the guards of the ${kind}() guard of ${where}`).map((g) => {
      const part = this.guard(g, where);
      if (part === undefined) this.fail(`the ${kind}() guard of ${where} holds an undefined guard`);
      return part;
    });
    if (kind !== 'not') return { kind, guards: parts };
    if (parts.length !== 1) this.fail(`the not() guard of ${where} holds ${parts.length} guards`);
    return { kind, guard: parts[0]! };
  }

  private actions(list: unknown, where: string): ActionRef[] {
    return this.array(list, where).map((action): ActionRef => {
      if (typeof action === 'string') return { kind: 'named', name: action, params: undefined };
      if (typeof action === 'function') {
        const type = (action as unknown as Loose).type;
        return { kind: 'inline', what: typeof type === 'string' ? `the built-in ${type}` : 'a function' };
      }
      if (isObject(action) && typeof action.type === 'string')
        return { kind: 'named', name: action.type, params: action.params };
      this.fail(`an action in ${where} is not understood`);
    });
  }

  private context(): ContextDefinition {
    const config = this.object(this.machine.config, 'the config');
    const context = config.context;
    if (context === undefined) return { kind: 'none' };
    if (typeof context === 'function')
      return { kind: 'factory', create: context as (args: { input: unknown }) => Record<string, unknown> };
    if (isObject(context)) return { kind: 'value', value: context };
    this.fail('the context is neither an object nor a function');
  }

  private guardImplementations(guards: Loose): Map<string, GuardImplementation> {
    const all = new Map<string, GuardImplementation>();
    for (const [name, impl] of Object.entries(guards)) {
      if (typeof impl !== 'function') this.fail(`the guard "${name}" is not implemented by a function`);
      const fn = impl as unknown as Loose;
      all.set(
        name,
        'check' in fn ? { kind: 'builtin', type: String(fn.type) } : { kind: 'custom', check: impl as GuardFunction },
      );
    }
    return all;
  }

  private actionImplementations(actions: Loose): Map<string, ActionImplementation> {
    const all = new Map<string, ActionImplementation>();
    for (const [name, impl] of Object.entries(actions)) {
      if (typeof impl !== 'function') this.fail(`the action "${name}" is not implemented by a function`);
      const type = (impl as unknown as Loose).type;
      if (type === 'xstate.assign') {
        const assignment = (impl as unknown as Loose).assignment;
        if (typeof assignment !== 'function' && !(isObject(assignment) && !Array.isArray(assignment))) {
          this.fail(`the assign action "${name}" has no assignment`);
        }
        all.set(name, { kind: 'assign', assignment: assignment as Assignment });
      } else if (typeof type === 'string' && type.startsWith('xstate.')) all.set(name, { kind: 'builtin', type });
      else all.set(name, { kind: 'custom' });
    }
    return all;
  }
}
