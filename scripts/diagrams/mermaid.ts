/**
 * Mermaid `stateDiagram-v2` drawings, for GitHub to render inside Markdown: the full diagram of a
 * machine model, whose edges read as UML transitions (`trigger [condition] / effects`), with entry
 * effects and tags written inside the state and final states leading to `[*]`; and the overview
 * of its phases.
 */
import { edgeWords, type DiagramModel } from './model.js';
import type { OverviewModel } from './phases.js';

/**
 * Mermaid ends a label at `;` or `::`, and reads `#…;` as an entity: keep labels clear of them.
 * A single `:` inside a label is fine.
 */
function clean(text: string): string {
  return text.replace(/[;#]/g, ',').replace(/:{2,}/g, ':').replace(/\s+/g, ' ').trim();
}

/**
 * A state with lines written inside it. Mermaid shows a state's first `key : text` line in place of
 * its name, so the name is given first, as the state's title (`state "key" as key`).
 */
function described(key: string, inside: readonly string[]): string[] {
  if (inside.length === 0) return [];
  return [`    state "${key}" as ${key}`, ...inside.map((line) => `    ${key} : ${clean(line)}`)];
}

export function edgeLabel(words: ReturnType<typeof edgeWords>): string {
  let label = words.trigger;
  if (words.condition) label += ` [${words.condition}]`;
  if (words.effects.length) label += ` / ${words.effects.join(', ')}`;
  return clean(label);
}

export function toMermaid(model: DiagramModel): string {
  const lines = ['stateDiagram-v2', '    direction LR', `    [*] --> ${model.initial}`];
  for (const state of model.states) {
    const inside = [...state.tags, ...state.entry.map((effect) => `entry / ${effect}`)];
    lines.push(...described(state.key, inside));
  }
  for (const edge of model.edges) lines.push(`    ${edge.from} --> ${edge.to} : ${edgeLabel(edgeWords(edge))}`);
  for (const state of model.states) if (state.final) lines.push(`    ${state.key} --> [*]`);
  return `${lines.join('\n')}\n`;
}

/**
 * The overview of a machine's phases as a Mermaid `stateDiagram-v2`: each phase with what happens
 * in it and its states in the full diagram, and one edge per pair of phases, labelled by its triggers.
 */
export function overviewMermaid(overview: OverviewModel): string {
  const lines = ['stateDiagram-v2', '    direction LR', `    [*] --> ${overview.initial}`];
  for (const phase of overview.phases) {
    lines.push(...described(phase.key, [phase.summary, `states: ${phase.states.join(', ')}`]));
  }
  for (const edge of overview.edges) {
    lines.push(`    ${edge.from} --> ${edge.to} : ${clean(edge.triggers.map((t) => t.text).join(', '))}`);
  }
  for (const phase of overview.phases) if (phase.final) lines.push(`    ${phase.key} --> [*]`);
  return `${lines.join('\n')}\n`;
}
