/**
 * A machine model seen from afar: its states grouped into phases (a table beside the machine, e.g.
 * src/machines/session.phases.ts), and one arrow per pair of phases that some transition joins,
 * labelled by the triggers of those transitions. Transitions within a phase are left out. Any
 * transition added later between states that have a phase lands on an arrow by itself; a state
 * without a phase stops the generator, naming it.
 */
import { edgeWords, type DiagramModel } from './model.js';
import type { TriggerKind } from './labels.js';

/** The phases of a machine: each phase with what happens in it, and each state's phase. */
export interface Phases {
  /** Phase → what happens to the session in it, in reading order. */
  readonly summaries: Readonly<Record<string, string>>;
  /** State → its phase. */
  readonly phaseOf: Readonly<Record<string, string>>;
}

export interface PhaseNode {
  key: string;
  summary: string;
  /** Its states, in the machine's definition order. */
  states: string[];
  /** Every state of it is final. */
  final: boolean;
}

export interface PhaseTrigger {
  text: string;
  kind: TriggerKind;
}

export interface PhaseEdge {
  from: string;
  to: string;
  /** The triggers of the transitions it stands for, each once, in definition order. */
  triggers: PhaseTrigger[];
}

export interface OverviewModel {
  id: string;
  /** The phase of the machine's initial state. */
  initial: string;
  phases: PhaseNode[];
  edges: PhaseEdge[];
  /** How many transitions of the machine the arrows stand for (the others stay within a phase). */
  transitions: number;
}

export function overviewModel(model: DiagramModel, { summaries, phaseOf }: Phases): OverviewModel {
  const where = `the phases of "${model.id}"`;
  const known = new Set(model.states.map((s) => s.key));
  for (const state of Object.keys(phaseOf)) {
    if (!known.has(state)) throw new Error(`scripts/diagrams: ${where} name "${state}", which is not a state`);
  }
  const phaseOfState = (state: string): string => {
    if (!Object.hasOwn(phaseOf, state)) {
      throw new Error(`scripts/diagrams: the state "${state}" has no phase: add it to ${where}`);
    }
    const phase = phaseOf[state]!;
    if (!Object.hasOwn(summaries, phase)) {
      throw new Error(`scripts/diagrams: the state "${state}" is in the phase "${phase}", which ${where} do not list`);
    }
    return phase;
  };

  const phases: PhaseNode[] = Object.entries(summaries).map(([key, summary]) => ({
    key,
    summary,
    states: [],
    final: true,
  }));
  const byKey = new Map(phases.map((p) => [p.key, p]));
  for (const state of model.states) {
    const phase = byKey.get(phaseOfState(state.key))!;
    phase.states.push(state.key);
    phase.final &&= state.final;
  }
  const empty = phases.find((p) => p.states.length === 0);
  if (empty) throw new Error(`scripts/diagrams: the phase "${empty.key}" has no state in ${where}`);

  const edges = new Map<string, PhaseEdge>();
  let transitions = 0;
  for (const edge of model.edges) {
    const from = phaseOfState(edge.from);
    const to = phaseOfState(edge.to);
    if (from === to) continue;
    transitions++;
    const key = `${from}\u0000${to}`;
    const arrow = edges.get(key) ?? { from, to, triggers: [] };
    edges.set(key, arrow);
    const { trigger: text, kind } = edgeWords(edge);
    if (!arrow.triggers.some((t) => t.text === text)) arrow.triggers.push({ text, kind });
  }
  return { id: model.id, initial: phaseOfState(model.initial), phases, edges: [...edges.values()], transitions };
}
