/**
 * A Graphviz DOT drawing of a machine model, laid out left to right, rendered to SVG by
 * `@viz-js/viz` (Graphviz compiled to WebAssembly: no browser, no native binary).
 *
 * Reading aids: edges are coloured by what triggers them, transitions between the same two states
 * share one arrow (one label block each), states that call the store are shaded, final states
 * have a double border, unhappy endings are tinted red, and a legend under the title says which
 * colour is which.
 */
import { edgeWords, type DiagramEdge, type DiagramModel, type DiagramState, type EdgeWords } from './model.js';
import type { TriggerKind } from './labels.js';
import {
  ALARM_FILL,
  ALARM_LINE,
  FINAL_FILL,
  KINDS,
  STORE_CALL_FILL,
  arrowColor,
  digraph,
  html,
  kindRows,
  legendTable,
  swatch,
  wrap,
} from './dot-style.js';

export interface DotOptions {
  title: string;
  /** States drawn as unhappy endings. */
  alarming?: readonly string[];
  /**
   * Layout hint: groups of states drawn in one column (one Graphviz rank), e.g. the states in which
   * the handler runs. States left out are placed by Graphviz.
   */
  columns?: readonly (readonly string[])[];
}

/**
 * A state's box: its name, its tags, its entry effects, and its internal transitions (those
 * without a target, which run their effects and stay), as UML writes them inside the state.
 */
function stateNode(state: DiagramState, internal: readonly EdgeWords[], options: DotOptions): string {
  const rows = [`<b>${html(state.key)}</b>`];
  for (const tag of state.tags) rows.push(`<font point-size="10">${html(tag)}</font>`);
  for (const effect of state.entry) rows.push(`<font point-size="10"><i>entry: ${html(effect)}</i></font>`);
  for (const words of internal) {
    const { color } = KINDS[words.kind];
    let text = words.trigger;
    if (words.condition) text += ` [${words.condition}]`;
    if (words.effects.length) text += ` / ${words.effects.join(', ')}`;
    rows.push(`<font point-size="10" color="${color}">${html(text)}</font>`);
  }
  const attributes = [`label=<${rows.join('<br/>')}>`];
  if (state.final) attributes.push('peripheries=2');
  if (options.alarming?.includes(state.key)) attributes.push(`fillcolor="${ALARM_FILL}"`, `color="${ALARM_LINE}"`);
  else if (state.final) attributes.push(`fillcolor="${FINAL_FILL}"`);
  else if (state.storeCall) attributes.push(`fillcolor="${STORE_CALL_FILL}"`);
  return `  ${state.key} [${attributes.join(', ')}];`;
}

/** One transition's block of lines in an edge label, in its trigger's colour. */
function labelBlock(words: EdgeWords): string {
  const { color } = KINDS[words.kind];
  const rows = [`<b>${html(words.trigger)}</b>`];
  if (words.condition) rows.push(...wrap(`[${words.condition}]`, 24).map(html));
  if (words.effects.length) rows.push(...wrap(`/ ${words.effects.join(', ')}`, 24).map((l) => `<i>${html(l)}</i>`));
  return `<font color="${color}">${rows.join('<br/>')}</font>`;
}

function legend(
  model: DiagramModel,
  used: ReadonlySet<TriggerKind>,
  hasInternal: boolean,
  options: DotOptions,
): string {
  const rows = kindRows(used);
  if (model.states.some((s) => s.storeCall)) {
    rows.push(`<tr>${swatch(STORE_CALL_FILL)}<td align="left">a store call is running</td></tr>`);
  }
  rows.push(`<tr>${swatch(FINAL_FILL, '#333333', true)}<td align="left">final state (double border)</td></tr>`);
  if (hasInternal) {
    rows.push('<tr><td><i>inside</i></td><td align="left">a transition that stays in the state</td></tr>');
  }
  if (options.alarming?.length) {
    rows.push(`<tr>${swatch(ALARM_FILL, ALARM_LINE, true)}<td align="left">final state: the request fails</td></tr>`);
  }
  const howToRead =
    'Each arrow: <b>trigger</b>, [condition], <i>/ effects</i>. ' +
    'Conditions of one trigger are tried in order: else if, else.';
  return legendTable(options.title, howToRead, rows, 2);
}

export function toDot(model: DiagramModel, options: DotOptions): string {
  // Transitions between the same two states share an arrow: fewer lines to follow.
  const pairs = new Map<string, DiagramEdge[]>();
  const internal = new Map<string, EdgeWords[]>();
  for (const edge of model.edges) {
    if (edge.from === edge.to) {
      internal.set(edge.from, [...(internal.get(edge.from) ?? []), edgeWords(edge)]);
      continue;
    }
    const key = `${edge.from}\u0000${edge.to}`;
    pairs.set(key, [...(pairs.get(key) ?? []), edge]);
  }
  const used = new Set<TriggerKind>([...internal.values()].flat().map((w) => w.kind));
  const edges: string[] = [];
  for (const group of pairs.values()) {
    const words = group.map(edgeWords);
    for (const w of words) used.add(w.kind);
    const color = arrowColor(words.map((w) => w.kind));
    const label = words.map(labelBlock).join('<br/>');
    const { from, to } = group[0]!;
    edges.push(`  ${from} -> ${to} [label=<${label}>, color="${color}"];`);
  }

  return digraph({
    id: model.id,
    legend: legend(model, used, internal.size > 0, options),
    spacing: { nodesep: 0.3, ranksep: 0.55, pad: 0.3, nodeSize: 13, nodeMargin: '0.14,0.07', edgeSize: 10 },
    initial: model.initial,
    nodes: model.states.map((state) => ({
      key: state.key,
      dot: stateNode(state, internal.get(state.key) ?? [], options),
    })),
    edges,
    columns: options.columns ?? [],
    kind: 'state',
  });
}
