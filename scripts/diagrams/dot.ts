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

/**
 * Boxes are sized with DejaVu Sans' metrics, which Graphviz knows; the SVG then asks for DejaVu
 * Sans or Verdana (the same widths) before any sans-serif, so text fits its box in a browser on
 * Linux, macOS or Windows, and in `rsvg-convert`.
 */
const FONT = 'DejaVu Sans';
const SVG_FONTS = 'DejaVu Sans,Verdana,sans-serif';

/** The SVG of a DOT source, with the font list above. */
export function finishSvg(svg: string): string {
  return svg.replaceAll(/font-family="[^"]*"/g, `font-family="${SVG_FONTS}"`);
}

/** Edge colours by trigger; the legend lists the ones a diagram uses, in this order. */
const KINDS: Record<TriggerKind, { color: string; legend: string }> = {
  request: { color: '#1f4e9c', legend: 'the request starts or ends' },
  app: { color: '#7b3fa0', legend: 'the handler or the app calls' },
  result: { color: '#2e7d32', legend: 'the store answered or came back' },
  failure: { color: '#c62828', legend: 'a store call failed or the store went away' },
  timer: { color: '#b26a00', legend: 'a timer fired' },
  automatic: { color: '#555555', legend: 'decided at once, without an event' },
};

const STORE_CALL_FILL = '#fff3d6';
const FINAL_FILL = '#e3f1e4';
const ALARM_FILL = '#fde0e0';
const ALARM_LINE = '#c62828';
const MIXED = '#444444';

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

function html(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Breaks `text` into lines of at most about `width` characters, at spaces. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
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
  const rows: string[] = [];
  const swatch = (fill: string, line = '#333333', double = false) =>
    `<td width="26" height="14" fixedsize="true" bgcolor="${fill}" border="${double ? 3 : 1}" color="${line}" style="rounded"></td>`;
  for (const kind of Object.keys(KINDS) as TriggerKind[]) {
    if (!used.has(kind)) continue;
    const { color, legend: text } = KINDS[kind];
    rows.push(
      `<tr><td><font color="${color}"><b>━━━</b></font></td>` +
        `<td align="left"><font color="${color}">${html(text)}</font></td></tr>`,
    );
  }
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
  const half = Math.ceil(rows.length / 2);
  const column = (r: string[]) =>
    `<td valign="top"><table border="0" cellborder="0" cellspacing="3" cellpadding="1">${r.join('')}</table></td>`;
  return (
    '<table border="0" cellborder="0" cellspacing="0" cellpadding="2">' +
    `<tr><td align="left" colspan="3"><font point-size="16"><b>${html(options.title)}</b></font></td></tr>` +
    `<tr><td align="left" colspan="3"><font point-size="11">Each arrow: <b>trigger</b>, [condition], <i>/ effects</i>. ` +
    'Conditions of one trigger are tried in order: else if, else.</font></td></tr>' +
    `<tr>${column(rows.slice(0, half))}<td width="24"></td>${column(rows.slice(half))}</tr>` +
    '</table>'
  );
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
    const colors = new Set(words.map((w) => KINDS[w.kind].color));
    const color = colors.size === 1 ? [...colors][0]! : MIXED;
    const label = words.map(labelBlock).join('<br/>');
    const { from, to } = group[0]!;
    edges.push(`  ${from} -> ${to} [label=<${label}>, color="${color}"];`);
  }

  const out: string[] = [];
  out.push(`digraph ${model.id} {`);
  out.push(
    `  graph [rankdir=LR, fontname="${FONT}", labelloc=t, labeljust=l, nodesep=0.3, ranksep=0.55, pad=0.3, ` +
      `label=<${legend(model, used, internal.size > 0, options)}>];`,
  );
  out.push(
    `  node [shape=box, style="rounded,filled", fillcolor="#ffffff", color="#333333", fontname="${FONT}", ` +
      'fontsize=13, margin="0.14,0.07"];',
  );
  out.push(`  edge [fontname="${FONT}", fontsize=10, arrowsize=0.7, penwidth=1.2];`);
  out.push(
    '  __start [shape=circle, style=filled, fillcolor="#000000", width=0.18, height=0.18, fixedsize=true, label=""];',
  );
  for (const state of model.states) out.push(stateNode(state, internal.get(state.key) ?? [], options));
  out.push(`  __start -> ${model.initial};`);
  out.push(...edges);
  const known = new Set(model.states.map((s) => s.key));
  for (const column of options.columns ?? []) {
    for (const key of column) {
      if (!known.has(key))
        throw new Error(`scripts/diagrams: the layout column [${column.join(', ')}] names an unknown state "${key}"`);
    }
    out.push(`  { rank=same; ${column.join('; ')}; }`);
  }
  out.push('}');
  return `${out.join('\n')}\n`;
}
