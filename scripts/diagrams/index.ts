/**
 * Everything `npm run docs` writes, computed in memory: the SVG of each machine (and of its
 * overview, for a machine whose states are grouped into phases), and the Markdown docs with their
 * generated blocks (between `<!-- KIND:NAME:start -->` and `<!-- KIND:NAME:end -->` markers)
 * brought up to date. The prose around the blocks is hand-written and kept as it is.
 * test/lifecycle/diagrams.test.ts compares this with the committed files.
 *
 * Each machine's doc must have its blocks (`diagram`, `states`, `events`, and `overview` and
 * `phases` with an overview). The sentence that counts its states and transitions (`counts`) is
 * filled in wherever README.md or a doc under docs/ has its markers. The README's table of options
 * (`options`) comes from the middleware's option table (../options-table.ts).
 */
import { readdir, readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AnyStateMachine } from 'xstate';
import { connectionMachine } from '../../src/machines/connection.machine.js';
import { sessionMachine } from '../../src/machines/session.machine.js';
import { toDot } from './dot.js';
import { finishSvg } from './dot-style.js';
import { countsSentence, eventTable, phaseTable, replaceBlock, stateTable } from './markdown.js';
import { overviewMermaid, toMermaid } from './mermaid.js';
import { machineModel } from './model.js';
import { toOverviewDot } from './overview-dot.js';
import { overviewModel, type OverviewModel, type Phases } from './phases.js';
import { SESSION_PHASE_OF, SESSION_PHASES } from '../../src/machines/session.phases.js';
import { optionsTable } from '../options-table.js';

/** The repository root, whatever the working directory. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Diagram {
  /** The name in the markers: `<!-- diagram:NAME:start -->`. */
  name: string;
  machine: AnyStateMachine;
  title: string;
  /** The SVG, relative to the repository root. */
  svg: string;
  /** The Markdown doc that embeds the Mermaid block and the tables, relative to the root. */
  doc: string;
  alarming: string[];
  /** Layout hint for the SVG (see `DotOptions.columns`). */
  columns: string[][];
  /** The machine seen from afar: its states grouped into phases, drawn first in its doc. */
  overview?: {
    title: string;
    /** The SVG, relative to the repository root, beside the full one. */
    svg: string;
    phases: Phases;
    alarming: string[];
    /** Layout hint (see `OverviewDotOptions.columns`). */
    columns: string[][];
  };
}

export const DIAGRAMS: readonly Diagram[] = [
  {
    name: 'session',
    machine: sessionMachine,
    title: 'Session lifecycle of one request',
    svg: 'docs/diagrams/session-lifecycle.svg',
    doc: 'docs/lifecycle.md',
    alarming: ['failed'],
    // Load, then the handler's states, then the store calls of the commit, then the outcomes.
    columns: [
      ['degraded', 'fresh', 'loaded'],
      ['creating', 'updating', 'touching', 'destroying', 'regenerating'],
      ['unchanged', 'saved', 'touched', 'destroyed', 'superseded', 'failed'],
    ],
    overview: {
      title: 'Session lifecycle at a glance',
      svg: 'docs/diagrams/session-overview.svg',
      phases: { summaries: SESSION_PHASES, phaseOf: SESSION_PHASE_OF },
      alarming: ['failed'],
      // Loading and loaded find their own columns; then what the handler or the end of the request
      // leads to, then the endings.
      columns: [
        ['degraded', 'removed', 'regenerating', 'saving'],
        ['saved', 'unchanged', 'destroyed', 'failed'],
      ],
    },
  },
  {
    name: 'connection',
    machine: connectionMachine,
    title: 'Store connection lifecycle',
    svg: 'docs/diagrams/connection-lifecycle.svg',
    doc: 'docs/store-outages.md',
    alarming: [],
    columns: [],
  },
];

/** The overview of a diagram's machine, for one that has phases. */
function overviewOf(d: Diagram): OverviewModel | undefined {
  return d.overview && overviewModel(machineModel(d.machine), d.overview.phases);
}

/** How the overview of a diagram is drawn: it links each phase to the full SVG beside it. */
function overviewOptions(d: Diagram) {
  const { title, alarming, columns } = d.overview!;
  return { title, alarming, columns, full: posix.relative(posix.dirname(d.overview!.svg), d.svg) };
}

/** The DOT source of each diagram and overview, by name (exported for tests and for tinkering). */
export function dotSources(): Map<string, string> {
  const sources = new Map<string, string>();
  for (const d of DIAGRAMS) {
    sources.set(`${d.name}-lifecycle`, toDot(machineModel(d.machine), d));
    const overview = overviewOf(d);
    if (overview) sources.set(`${d.name}-overview`, toOverviewDot(overview, overviewOptions(d)));
  }
  return sources;
}

export function mermaidSources(): Map<string, string> {
  return new Map(DIAGRAMS.map((d) => [d.name, toMermaid(machineModel(d.machine))]));
}

/** The Mermaid overview of each diagram that has one, by name. */
export function overviewSources(): Map<string, string> {
  const sources = new Map<string, string>();
  for (const d of DIAGRAMS) {
    const overview = overviewOf(d);
    if (overview) sources.set(d.name, overviewMermaid(overview));
  }
  return sources;
}

/** README.md and the Markdown docs under docs/, where a `counts` block may be. */
async function markdownDocs(root: string): Promise<string[]> {
  const docs = (await readdir(`${root}docs`)).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`);
  return ['README.md', ...docs.sort()];
}

/** Path (relative to the root, with `/`) → content, for every generated file. */
export async function renderAll(root: string = ROOT): Promise<Map<string, string>> {
  const { instance } = await import('@viz-js/viz');
  const viz = await instance();
  const files = new Map<string, string>();
  const docs = new Map<string, string>();
  const read = async (path: string) => docs.get(path) ?? (await readFile(root + path, 'utf8'));
  const svg = (dot: string) => finishSvg(viz.renderString(dot, { format: 'svg' }));
  for (const d of DIAGRAMS) {
    const model = machineModel(d.machine);
    const overview = overviewOf(d);
    files.set(d.svg, svg(toDot(model, d)));
    let doc = await read(d.doc);
    if (overview) {
      files.set(d.overview!.svg, svg(toOverviewDot(overview, overviewOptions(d))));
      doc = replaceBlock(doc, `overview:${d.name}`, `\`\`\`mermaid\n${overviewMermaid(overview)}\`\`\``, d.doc);
      doc = replaceBlock(doc, `phases:${d.name}`, phaseTable(overview), d.doc);
    }
    doc = replaceBlock(doc, `diagram:${d.name}`, `\`\`\`mermaid\n${toMermaid(model)}\`\`\``, d.doc);
    doc = replaceBlock(doc, `states:${d.name}`, stateTable(model), d.doc);
    doc = replaceBlock(doc, `events:${d.name}`, eventTable(model), d.doc);
    docs.set(d.doc, doc);
    for (const path of await markdownDocs(root)) {
      const text = await read(path);
      if (!text.includes(`<!-- counts:${d.name}:start -->`)) continue;
      docs.set(path, replaceBlock(text, `counts:${d.name}`, countsSentence(model, overview), path));
    }
  }
  const readme = await read('README.md');
  docs.set(
    'README.md',
    replaceBlock(
      readme,
      'options',
      optionsTable(),
      'README.md',
      'generated by npm run docs: edit src/middleware/option-table.ts, not this block',
    ),
  );
  for (const [path, content] of docs) files.set(path, content);
  return files;
}
