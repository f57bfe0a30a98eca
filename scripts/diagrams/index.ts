/**
 * Everything `npm run docs` writes, computed in memory: the SVG of each machine, and the Markdown
 * docs with their generated blocks (between `<!-- diagram:NAME:start -->` and
 * `<!-- diagram:NAME:end -->` markers) brought up to date. The prose around the blocks is
 * hand-written and kept as it is. test/lifecycle/diagrams.test.ts compares this with the committed files.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { AnyStateMachine } from 'xstate';
import { connectionMachine } from '../../src/machines/connection.machine.js';
import { sessionMachine } from '../../src/machines/session.machine.js';
import { finishSvg } from './dot-style.js';
import { toDot } from './dot.js';
import { replaceBlock, stateTable, eventTable } from './markdown.js';
import { toMermaid } from './mermaid.js';
import { machineModel } from './model.js';

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

/** The DOT source of each diagram (exported for tests and for tinkering). */
export function dotSources(): Map<string, string> {
  return new Map(DIAGRAMS.map((d) => [d.name, toDot(machineModel(d.machine), d)]));
}

export function mermaidSources(): Map<string, string> {
  return new Map(DIAGRAMS.map((d) => [d.name, toMermaid(machineModel(d.machine))]));
}

/** Path (relative to the root, with `/`) → content, for every generated file. */
export async function renderAll(root: string = ROOT): Promise<Map<string, string>> {
  const { instance } = await import('@viz-js/viz');
  const viz = await instance();
  const files = new Map<string, string>();
  const docs = new Map<string, string>();
  for (const d of DIAGRAMS) {
    const model = machineModel(d.machine);
    const dot = toDot(model, d);
    files.set(d.svg, finishSvg(viz.renderString(dot, { format: 'svg' })));
    let doc = docs.get(d.doc) ?? (await readFile(root + d.doc, 'utf8'));
    doc = replaceBlock(doc, `diagram:${d.name}`, `\`\`\`mermaid\n${toMermaid(model)}\`\`\``, d.doc);
    doc = replaceBlock(doc, `states:${d.name}`, stateTable(model), d.doc);
    doc = replaceBlock(doc, `events:${d.name}`, eventTable(model), d.doc);
    docs.set(d.doc, doc);
  }
  for (const [path, content] of docs) files.set(path, content);
  return files;
}
