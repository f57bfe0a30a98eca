/**
 * Walks a flat XState 5 machine (`machine.root`) into what a diagram needs: its states in
 * definition order, and one edge per transition, with its trigger, its guard, its place among the
 * transitions of the same trigger (if / else if / else) and its actions. Both renderers (Mermaid
 * and DOT) draw from this model, and both read their words from labels.ts.
 */
import type { AnyStateMachine } from 'xstate';
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

export type Trigger =
  | { kind: 'event'; type: string }
  | { kind: 'after'; delay: string }
  | { kind: 'always' };

export interface DiagramEdge {
  from: string;
  /** The same as `from` for a transition without a target (it stays, running its actions). */
  to: string;
  trigger: Trigger;
  /** The guard's name, if any. */
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

interface TransitionLike {
  target?: readonly { key: string; parent?: unknown }[] | undefined;
  guard?: unknown;
  actions: readonly unknown[];
}

function actionNames(actions: readonly unknown[], where: string): string[] {
  const names: string[] = [];
  for (const action of actions) {
    if (typeof action === 'string') {
      names.push(action);
      continue;
    }
    // The delayed events of `after` are raised by built-in actions XState adds to the entry.
    const type = (action as { type?: unknown } | null)?.type;
    if (typeof type === 'string' && type.startsWith('xstate.')) continue;
    throw new Error(`scripts/diagrams: an inline action in ${where} cannot be explained; give it a name in setup()`);
  }
  return names;
}

function guardName(guard: unknown, where: string): string | undefined {
  if (guard === undefined) return undefined;
  if (typeof guard !== 'string') {
    throw new Error(`scripts/diagrams: an inline guard in ${where} cannot be explained; give it a name in setup()`);
  }
  return guard;
}

export function machineModel(machine: AnyStateMachine): DiagramModel {
  const root = machine.root;
  const initial = root.initial?.target?.[0]?.key;
  if (initial === undefined) throw new Error(`scripts/diagrams: the machine "${machine.id}" has no initial state`);
  const states: DiagramState[] = [];
  const edges: DiagramEdge[] = [];

  const addGroup = (from: string, trigger: Trigger, transitions: readonly TransitionLike[], where: string) => {
    transitions.forEach((t, i) => {
      if ((t.target?.length ?? 0) > 1) throw new Error(`scripts/diagrams: several targets in ${where}`);
      const target = t.target?.[0];
      if (target && target.parent !== root) throw new Error(`scripts/diagrams: a target outside the root in ${where}`);
      const guard = guardName(t.guard, where);
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
      if (guard !== undefined) guardPhrase(guard);
      actions.forEach(actionPhrase);
      edges.push({ from, to: target?.key ?? from, trigger, guard, branch, actions });
    });
  };

  for (const [key, node] of Object.entries(root.states)) {
    if (node.type !== 'atomic' && node.type !== 'final') {
      throw new Error(`scripts/diagrams: the ${node.type} state "${key}" is not drawn yet; extend scripts/diagrams/model.ts`);
    }
    if (typeof node.description !== 'string' || node.description === '') {
      throw new Error(`scripts/diagrams: the state "${key}" of "${machine.id}" has no description`);
    }
    states.push({
      key,
      description: node.description,
      final: node.type === 'final',
      tags: [...node.tags].map(tagPhrase),
      entry: actionNames(node.entry, `the entry of "${key}"`)
        .map(actionPhrase)
        .filter((p): p is string => p !== null),
      storeCall: false,
    });
    for (const [type, transitions] of node.transitions) {
      // Delayed transitions are listed here too, under a generated event: drawn from `after` below.
      if (type.startsWith('xstate.after.')) continue;
      if (type.includes('*')) throw new Error(`scripts/diagrams: the wildcard "${type}" in "${key}" is not drawn`);
      eventPhrase(type);
      addGroup(key, { kind: 'event', type }, transitions, `"${key}" on ${type}`);
    }
    if (node.always?.length) addGroup(key, { kind: 'always' }, node.always, `the always of "${key}"`);
    const byDelay = new Map<string, TransitionLike[]>();
    for (const t of node.after) {
      const delay = String((t as { delay?: unknown }).delay);
      byDelay.set(delay, [...(byDelay.get(delay) ?? []), t]);
    }
    for (const [delay, transitions] of byDelay) {
      delayPhrase(delay);
      addGroup(key, { kind: 'after', delay }, transitions, `"${key}" after ${delay}`);
    }
  }
  for (const state of states) {
    if (state.final) continue;
    const leaving = edges.filter((e) => e.from === state.key).map((e) => edgeWords(e).kind);
    state.storeCall =
      state.entry.length > 0 || (leaving.length > 0 && leaving.every((k) => k === 'result' || k === 'failure'));
  }
  return { id: machine.id, initial, states, edges };
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
  const guard = edge.guard === undefined ? '' : guardPhrase(edge.guard);
  const condition = edge.branch === 'only' ? '' : edge.branch === 'if' ? guard : edge.branch === 'else' ? 'else' : `else if ${guard}`;
  const effects = edge.actions.map(actionPhrase).filter((p): p is string => p !== null);
  return { trigger, kind, condition, effects };
}
