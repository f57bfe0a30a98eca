/**
 * A flat XState 5 machine (as src/machines/definition.ts reads it) as what a diagram needs: its
 * states in definition order, and one edge per transition, with its trigger, its guard, its place
 * among the transitions of the same trigger (if / else if / else) and its actions. Both renderers
 * (Mermaid and DOT) draw from this model, and both read their words from labels.ts.
 */
import type { AnyStateMachine } from 'xstate';
import {
  readDefinition,
  type ActionRef,
  type GuardRef,
  type TransitionDefinition,
  type Trigger,
} from '../../src/machines/definition.js';
import { actionPhrase, delayPhrase, eventPhrase, guardPhrase, tagPhrase, type TriggerKind } from './labels.js';

export interface DiagramState {
  key: string;
  description: string;
  final: boolean;
  /** Tags, as phrases (what requests do in the state). */
  tags: string[];
  /** Entry effects, as phrases. */
  entry: string[];
  /**
   * Whether a store call is running in this state: it has entry effects, or it only waits for the
   * outcome of a call started on the way in (every trigger that leaves it is a store result).
   */
  storeCall: boolean;
}

export interface DiagramEdge {
  from: string;
  /** The same as `from` for a transition without a target (it stays, running its actions). */
  to: string;
  trigger: Trigger;
  /** The guard in words (labels.ts), if any. */
  guard: string | undefined;
  /** Where it stands among the transitions of the same trigger, which XState tries in order. */
  branch: 'only' | 'if' | 'else if' | 'else';
  /** Action names, in order (hidden ones included: see `effects`). */
  actions: string[];
}

export interface DiagramModel {
  id: string;
  initial: string;
  states: DiagramState[];
  edges: DiagramEdge[];
}

function actionNames(actions: readonly ActionRef[], where: string): string[] {
  return actions.map((action) => {
    if (action.kind === 'inline') {
      throw new Error(
        `scripts/diagrams: ${action.what} inline in ${where} cannot be explained; give it a name in setup()`,
      );
    }
    return action.name;
  });
}

/** A guard in words: a named guard's phrase, or XState's `and` / `or` / `not` of such phrases. */
function guardWords(guard: GuardRef | undefined, where: string): string | undefined {
  if (guard === undefined) return undefined;
  switch (guard.kind) {
    case 'inline':
      throw new Error(`scripts/diagrams: an inline guard in ${where} cannot be explained; give it a name in setup()`);
    case 'named':
      return guardPhrase(guard.name);
    case 'not':
      return `not (${guardWords(guard.guard, where)!})`;
    case 'and':
    case 'or':
      return guard.guards.map((g) => guardWords(g, where)!).join(guard.kind === 'and' ? ', and ' : ', or ');
  }
}

export function machineModel(machine: AnyStateMachine): DiagramModel {
  const definition = readDefinition(machine);
  const states: DiagramState[] = [];
  const edges: DiagramEdge[] = [];

  /** The transitions of one trigger of one state (each knows its source and trigger), as edges. */
  const addGroup = (transitions: readonly TransitionDefinition[], where: string) => {
    transitions.forEach((t, i) => {
      const guard = guardWords(t.guard, where);
      const branch =
        transitions.length === 1 && guard === undefined
          ? 'only'
          : i === 0
            ? 'if'
            : guard === undefined
              ? 'else'
              : 'else if';
      const actions = actionNames(t.actions, where);
      // Fail early, with the name, when a phrase is missing.
      actions.forEach(actionPhrase);
      edges.push({ from: t.source, to: t.target ?? t.source, trigger: t.trigger, guard, branch, actions });
    });
  };

  for (const [key, node] of definition.states) {
    if (node.description === undefined || node.description === '') {
      throw new Error(`scripts/diagrams: the state "${key}" of "${machine.id}" has no description`);
    }
    if (node.invokes > 0)
      throw new Error(`scripts/diagrams: the invoke of "${key}" is not drawn yet; extend scripts/diagrams/model.ts`);
    states.push({
      key,
      description: node.description,
      final: node.type === 'final',
      tags: node.tags.map(tagPhrase),
      entry: actionNames(node.entry, `the entry of "${key}"`)
        .map(actionPhrase)
        .filter((p): p is string => p !== null),
      storeCall: false,
    });
    for (const [type, transitions] of node.on) {
      if (type.includes('*')) throw new Error(`scripts/diagrams: the wildcard "${type}" in "${key}" is not drawn`);
      eventPhrase(type);
      addGroup(transitions, `"${key}" on ${type}`);
    }
    if (node.always.length > 0) addGroup(node.always, `the always of "${key}"`);
    for (const [delay, transitions] of node.after) {
      delayPhrase(delay);
      addGroup(transitions, `"${key}" after ${delay}`);
    }
  }
  for (const state of states) {
    if (state.final) continue;
    const leaving = edges.filter((e) => e.from === state.key).map((e) => edgeWords(e).kind);
    state.storeCall =
      state.entry.length > 0 || (leaving.length > 0 && leaving.every((k) => k === 'result' || k === 'failure'));
  }
  return { id: machine.id, initial: definition.initial, states, edges };
}

/** The words on an edge: the trigger, the condition (empty when unconditional) and the effects. */
export interface EdgeWords {
  trigger: string;
  kind: TriggerKind;
  condition: string;
  effects: string[];
}

export function edgeWords(edge: DiagramEdge): EdgeWords {
  const t = edge.trigger;
  const { text: trigger, kind } =
    t.kind === 'event'
      ? eventPhrase(t.type)
      : t.kind === 'after'
        ? { text: delayPhrase(t.delay), kind: 'timer' as const }
        : { text: 'immediately', kind: 'automatic' as const };
  const guard = edge.guard ?? '';
  const condition =
    edge.branch === 'only' ? '' : edge.branch === 'if' ? guard : edge.branch === 'else' ? 'else' : `else if ${guard}`;
  const effects = edge.actions.map(actionPhrase).filter((p): p is string => p !== null);
  return { trigger, kind, condition, effects };
}
