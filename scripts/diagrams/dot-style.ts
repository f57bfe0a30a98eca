/**
 * What both Graphviz drawings share (the full diagram of a machine, dot.ts, and the overview of its
 * phases, overview-dot.ts): the font, the colours of the triggers and of the states, HTML-label
 * helpers, and the legend under the title.
 */
import type { TriggerKind } from './labels.js';

/**
 * Boxes are sized with DejaVu Sans' metrics, which Graphviz knows; the SVG then asks for DejaVu
 * Sans or Verdana (the same widths) before any sans-serif, so text fits its box in a browser on
 * Linux, macOS or Windows, and in `rsvg-convert`.
 */
export const FONT = 'DejaVu Sans';
const SVG_FONTS = 'DejaVu Sans,Verdana,sans-serif';

/** The SVG of a DOT source, with the font list above. */
export function finishSvg(svg: string): string {
  return svg.replaceAll(/font-family="[^"]*"/g, `font-family="${SVG_FONTS}"`);
}

/** Edge colours by trigger; the legend lists the ones a diagram uses, in this order. */
export const KINDS: Record<TriggerKind, { color: string; legend: string }> = {
  request: { color: '#1f4e9c', legend: 'the request starts or ends' },
  app: { color: '#7b3fa0', legend: 'the handler or the app calls' },
  result: { color: '#2e7d32', legend: 'the store answered or came back' },
  failure: { color: '#c62828', legend: 'a store call failed or the store went away' },
  timer: { color: '#b26a00', legend: 'a timer fired' },
  automatic: { color: '#555555', legend: 'decided at once, without an event' },
};

export const STORE_CALL_FILL = '#fff3d6';
export const FINAL_FILL = '#e3f1e4';
export const ALARM_FILL = '#fde0e0';
export const ALARM_LINE = '#c62828';
/** An arrow that stands for triggers of several kinds. */
const MIXED = '#444444';

/** The colour of an arrow that stands for triggers of these kinds: theirs if they share one. */
export function arrowColor(kinds: readonly TriggerKind[]): string {
  const colors = new Set(kinds.map((kind) => KINDS[kind].color));
  return colors.size === 1 ? [...colors][0]! : MIXED;
}

export function html(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Breaks `text` into lines of at most about `width` characters, at spaces. */
export function wrap(text: string, width: number): string[] {
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

/** A legend row's swatch: a small rounded box, with a double border for final states. */
export const swatch = (fill: string, line = '#333333', double = false) =>
  `<td width="26" height="14" fixedsize="true" bgcolor="${fill}" border="${double ? 3 : 1}" color="${line}" style="rounded"></td>`;

/** One legend row per trigger kind a diagram uses, in its colour. */
export function kindRows(used: ReadonlySet<TriggerKind>): string[] {
  const rows: string[] = [];
  for (const kind of Object.keys(KINDS) as TriggerKind[]) {
    if (!used.has(kind)) continue;
    const { color, legend: text } = KINDS[kind];
    rows.push(
      `<tr><td><font color="${color}"><b>━━━</b></font></td>` +
        `<td align="left"><font color="${color}">${html(text)}</font></td></tr>`,
    );
  }
  return rows;
}

/**
 * The graph label: the title, a line on how to read the arrows (HTML, already escaped), and the
 * legend rows in `columns` columns.
 */
export function legendTable(title: string, howToRead: string, rows: readonly string[], columns: number): string {
  const per = Math.ceil(rows.length / columns);
  const parts: string[] = [];
  for (let i = 0; i < columns; i++) {
    if (i > 0) parts.push('<td width="24"></td>');
    parts.push(
      `<td valign="top"><table border="0" cellborder="0" cellspacing="3" cellpadding="1">${rows.slice(i * per, (i + 1) * per).join('')}</table></td>`,
    );
  }
  const span = 2 * columns - 1;
  return (
    '<table border="0" cellborder="0" cellspacing="0" cellpadding="2">' +
    `<tr><td align="left" colspan="${span}"><font point-size="16"><b>${html(title)}</b></font></td></tr>` +
    `<tr><td align="left" colspan="${span}"><font point-size="11">${howToRead}</font></td></tr>` +
    `<tr>${parts.join('')}</tr>` +
    '</table>'
  );
}

/** How tightly a drawing is set: the spacing of Graphviz, and the font sizes in points. */
export interface Spacing {
  nodesep: number;
  ranksep: number;
  pad: number;
  /** The legend's text (the graph's font size), when not Graphviz's 14. */
  legendSize?: number;
  nodeSize: number;
  /** A box's margin around its text, in inches: "x,y". */
  nodeMargin: string;
  edgeSize: number;
}

/**
 * A left-to-right digraph in the house style: the legend as its label, rounded boxes, a black dot
 * leading to the initial node, the nodes and edges given, and the layout columns (groups of nodes
 * drawn in one column; a name that is not one of `nodes` is an error naming the `kind`).
 */
export function digraph(drawing: {
  id: string;
  legend: string;
  spacing: Spacing;
  initial: string;
  nodes: readonly { key: string; dot: string }[];
  edges: readonly string[];
  columns: readonly (readonly string[])[];
  kind: string;
}): string {
  const { nodesep, ranksep, pad, legendSize, nodeSize, nodeMargin, edgeSize } = drawing.spacing;
  const legendFont = legendSize === undefined ? '' : `, fontsize=${legendSize}`;
  const known = drawing.nodes.map((n) => n.key);
  const ranks = drawing.columns.map((column) => {
    for (const key of column) {
      if (!known.includes(key))
        throw new Error(
          `scripts/diagrams: the layout column [${column.join(', ')}] names an unknown ${drawing.kind} "${key}"`,
        );
    }
    return `  { rank=same; ${column.join('; ')}; }`;
  });
  return `${[
    `digraph ${drawing.id} {`,
    `  graph [rankdir=LR, fontname="${FONT}"${legendFont}, labelloc=t, labeljust=l, nodesep=${nodesep}, ` +
      `ranksep=${ranksep}, pad=${pad}, label=<${drawing.legend}>];`,
    `  node [shape=box, style="rounded,filled", fillcolor="#ffffff", color="#333333", fontname="${FONT}", ` +
      `fontsize=${nodeSize}, margin="${nodeMargin}"];`,
    `  edge [fontname="${FONT}", fontsize=${edgeSize}, arrowsize=0.7, penwidth=1.2];`,
    '  __start [shape=circle, style=filled, fillcolor="#000000", width=0.18, height=0.18, fixedsize=true, label=""];',
    ...drawing.nodes.map((n) => n.dot),
    `  __start -> ${drawing.initial};`,
    ...drawing.edges,
    ...ranks,
    '}',
  ].join('\n')}\n`;
}
