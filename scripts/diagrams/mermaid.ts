/**
 * A Mermaid `stateDiagram-v2` of a machine model, for GitHub to render inside Markdown. Edges
 * read as UML transitions: `trigger [condition] / effects`. Entry effects and tags are written
 * inside the state, and final states lead to `[*]`.
 */
import { edgeWords, type DiagramModel } from './model.js';

/**
 * Mermaid ends a label at `;` or `::`, and reads `#…;` as an entity: keep labels clear of them.
 * A single `:` inside a label is fine.
 */
function clean(text: string): string {
  return text.replace(/[;#]/g, ',').replace(/:{2,}/g, ':').replace(/\s+/g, ' ').trim();
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
    for (const tag of state.tags) lines.push(`    ${state.key} : ${clean(tag)}`);
    for (const effect of state.entry) lines.push(`    ${state.key} : ${clean(`entry / ${effect}`)}`);
  }
  for (const edge of model.edges) lines.push(`    ${edge.from} --> ${edge.to} : ${edgeLabel(edgeWords(edge))}`);
  for (const state of model.states) if (state.final) lines.push(`    ${state.key} --> [*]`);
  return `${lines.join('\n')}\n`;
}
