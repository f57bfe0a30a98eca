/**
 * The overview of a machine as Graphviz DOT: one box per phase (its name, what happens in it, and
 * the states of the full diagram it stands for), one arrow per pair of phases, labelled by the
 * triggers that lead from one to the other, each in its colour. Small on purpose: it is read
 * first, on a laptop screen, before the full diagram.
 */
import {
  ALARM_FILL,
  ALARM_LINE,
  FINAL_FILL,
  KINDS,
  arrowColor,
  digraph,
  html,
  kindRows,
  legendTable,
  swatch,
  wrap,
} from './dot-style.js';
import type { TriggerKind } from './labels.js';
import type { OverviewModel, PhaseEdge, PhaseNode } from './phases.js';

export interface OverviewDotOptions {
  title: string;
  /** The SVG of the full diagram, relative to the overview's: each phase box links to it. */
  full: string;
  /** Phases drawn as unhappy endings. */
  alarming?: readonly string[];
  /** Layout hint: groups of phases drawn in one column. */
  columns?: readonly (readonly string[])[];
}

const STATES_COLOR = '#555555';

function phaseNode(phase: PhaseNode, options: OverviewDotOptions): string {
  const rows = [`<b>${html(phase.key)}</b>`];
  for (const line of wrap(phase.summary, 20)) rows.push(`<font point-size="10">${html(line)}</font>`);
  for (const line of wrap(phase.states.join(' · '), 22)) {
    rows.push(`<font point-size="9" color="${STATES_COLOR}"><i>${html(line)}</i></font>`);
  }
  const attributes = [
    `label=<${rows.join('<br/>')}>`,
    `href="${options.full}"`,
    `tooltip="${html(`${phase.key}: ${phase.states.join(', ')} (open the full diagram)`)}"`,
  ];
  if (phase.final) attributes.push('peripheries=2');
  if (options.alarming?.includes(phase.key)) attributes.push(`fillcolor="${ALARM_FILL}"`, `color="${ALARM_LINE}"`);
  else if (phase.final) attributes.push(`fillcolor="${FINAL_FILL}"`);
  return `  ${phase.key} [${attributes.join(', ')}];`;
}

function arrow(edge: PhaseEdge): string {
  const color = arrowColor(edge.triggers.map((t) => t.kind));
  const label = edge.triggers.map((t) => `<font color="${KINDS[t.kind].color}">${html(t.text)}</font>`).join('<br/>');
  return `  ${edge.from} -> ${edge.to} [label=<${label}>, color="${color}"];`;
}

function legend(overview: OverviewModel, options: OverviewDotOptions): string {
  const used = new Set<TriggerKind>(overview.edges.flatMap((e) => e.triggers.map((t) => t.kind)));
  const rows = kindRows(used);
  rows.push(`<tr>${swatch(FINAL_FILL, '#333333', true)}<td align="left">where a request ends</td></tr>`);
  if (options.alarming?.length) {
    rows.push(`<tr>${swatch(ALARM_FILL, ALARM_LINE, true)}<td align="left">a store call failed</td></tr>`);
  }
  const howToRead =
    'Each box is a phase: what happens in it, and <i>its states</i> in the full diagram. ' +
    'Each arrow: what moves the session on.';
  return legendTable(options.title, howToRead, rows, 3);
}

export function toOverviewDot(overview: OverviewModel, options: OverviewDotOptions): string {
  return digraph({
    id: `${overview.id}_overview`,
    legend: legend(overview, options),
    spacing: {
      nodesep: 0.15,
      ranksep: 0.2,
      pad: 0.2,
      legendSize: 11,
      nodeSize: 12,
      nodeMargin: '0.1,0.05',
      edgeSize: 9,
    },
    initial: overview.initial,
    nodes: overview.phases.map((phase) => ({ key: phase.key, dot: phaseNode(phase, options) })),
    edges: overview.edges.map(arrow),
    columns: options.columns ?? [],
    kind: 'phase',
  });
}
