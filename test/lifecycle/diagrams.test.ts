/**
 * The diagrams in docs/ cannot go stale: everything `npm run docs` writes is generated
 * again in memory and compared with the committed files, byte for byte; and every state and every
 * transition of both machines must be drawn, read from the machine definitions (src/machines/
 * definition.ts) rather than from the generator's own diagram model.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import { DIAGRAMS, mermaidSources, renderAll, ROOT } from '../../scripts/diagrams/index.js';
import { DELAYS, EVENTS, GUARDS } from '../../scripts/diagrams/labels.js';
import { replaceBlock } from '../../scripts/diagrams/markdown.js';
import { machineModel } from '../../scripts/diagrams/model.js';
import { readDefinition, type GuardRef, type TransitionDefinition } from '../../src/machines/definition.js';

interface Expected {
  from: string;
  to: string;
  trigger: string;
  /** The named guards the transition's guard reads (one, or those an `and` / `or` / `not` combines). */
  guards: string[];
}

/** The names of the guards a guard reads, through XState's combinators. */
function guardNames(guard: GuardRef | undefined): string[] {
  if (guard === undefined || guard.kind === 'inline') return [];
  if (guard.kind === 'named') return [guard.name];
  if (guard.kind === 'not') return guardNames(guard.guard);
  return guard.guards.flatMap(guardNames);
}

/** Every transition of a machine, from its definition. */
function transitionsOf(machine: (typeof DIAGRAMS)[number]['machine']): Expected[] {
  const all: Expected[] = [];
  for (const [key, node] of readDefinition(machine).states) {
    const add = (trigger: string, list: readonly TransitionDefinition[]) => {
      for (const t of list) {
        all.push({
          from: key,
          to: t.target ?? key,
          trigger,
          guards: guardNames(t.guard),
        });
      }
    };
    for (const [type, list] of node.on) add(EVENTS[type]?.text ?? `<no phrase for ${type}>`, list);
    add('immediately', node.always);
    for (const [delay, list] of node.after) add(DELAYS[delay] ?? `<no phrase for ${delay}>`, list);
  }
  return all;
}

describe('the committed docs match the machines', () => {
  it('every generated file is up to date (run `npm run docs` when this fails)', async () => {
    const files = await renderAll();
    const pictures = DIAGRAMS.flatMap((d) => [d.svg, d.doc, ...(d.overview ? [d.overview.svg] : [])]);
    const others = [...files.keys()].filter((path) => !pictures.includes(path));
    expect([...files.keys()]).toEqual(expect.arrayContaining(pictures));
    // Any other file written is a doc with a sentence that counts a machine's states.
    for (const path of others) expect(files.get(path), path).toMatch(/<!-- counts:\w+:start -->/);
    const stale: string[] = [];
    for (const [path, content] of files) {
      const committed = await readFile(ROOT + path, 'utf8').catch(() => '<missing>');
      if (committed !== content) stale.push(path);
    }
    expect(
      stale,
      `stale: ${stale.join(', ')} differ from what \`npm run docs\` generates (a machine or scripts/diagrams changed, or a generated block was edited by hand): run \`npm run docs\` and commit the result`,
    ).toEqual([]);
  });

  it('renders the same bytes twice (no timestamps, stable order)', async () => {
    const [a, b] = [await renderAll(), await renderAll()];
    expect([...a]).toEqual([...b]);
  });

  it('docs/lifecycle.md quotes the numbers of states and transitions the session machine has', async () => {
    const doc = await readFile(`${ROOT}docs/lifecycle.md`, 'utf8');
    const { machine } = DIAGRAMS.find((d) => d.name === 'session')!;
    expect(doc).toContain(`The session machine has **${readDefinition(machine).states.size} states**`);
    expect(doc).toContain(`and **${transitionsOf(machine).length} transitions**`);
  });

  it('fills a counts block wherever README.md or a doc has one', async () => {
    const root = await mkdtemp(join(tmpdir(), 'ksm-docs-'));
    try {
      await cp(`${ROOT}docs`, join(root, 'docs'), { recursive: true });
      await writeFile(
        join(root, 'README.md'),
        'Intro.\n\n<!-- counts:connection:start -->\n<!-- counts:connection:end -->\n\n<!-- options:start -->\n<!-- options:end -->\n',
      );
      const files = await renderAll(`${root}/`);
      const states = readDefinition(DIAGRAMS.find((d) => d.name === 'connection')!.machine).states.size;
      expect(files.get('README.md')).toContain(`The connection machine has **${states} states**`);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe.each(DIAGRAMS.map((d) => [d.name, d] as const))('the %s diagram', (_name, diagram) => {
  const mermaid = mermaidSources().get(diagram.name)!;
  const lines = mermaid.split('\n').map((l) => l.trim());
  const { machine } = diagram;

  it('draws every state, the initial one and the final ones', () => {
    const definition = readDefinition(machine);
    expect(lines).toContain(`[*] --> ${definition.initial}`);
    for (const [key, node] of definition.states) {
      expect(
        lines.some((l) => l.startsWith(`${key} `) || l.endsWith(`--> ${key}`) || l.includes(`--> ${key} :`)),
        key,
      ).toBe(true);
      if (node.type === 'final') expect(lines).toContain(`${key} --> [*]`);
    }
  });

  it('titles every state with lines inside it by its name (Mermaid would show the first line instead)', () => {
    const model = machineModel(machine);
    const described = model.states.filter((s) => s.tags.length + s.entry.length > 0);
    expect(described.length).toBeGreaterThan(0);
    for (const state of described) expect(lines).toContain(`state "${state.key}" as ${state.key}`);
  });

  it('draws every transition with its trigger and its guard', () => {
    const expected = transitionsOf(machine);
    expect(expected.length).toBeGreaterThan(0);
    const edgeLines = lines.filter((l) => / --> /.test(l) && !l.startsWith('[*]') && !l.endsWith('[*]'));
    // One Mermaid edge per transition: a new transition cannot hide behind another.
    expect(edgeLines).toHaveLength(expected.length);
    for (const t of expected) {
      const prefix = `${t.from} --> ${t.to} : ${t.trigger}`;
      const candidates = edgeLines.filter((l) => l === prefix || l.startsWith(`${prefix} `));
      expect(candidates.length, `no edge "${prefix}"`).toBeGreaterThan(0);
      for (const guard of t.guards) {
        const phrase = GUARDS[guard];
        expect(phrase, `labels.ts has no phrase for the guard ${guard}`).toBeDefined();
        expect(
          candidates.some((l) => l.includes(phrase!)),
          `"${prefix}" does not say "${phrase}"`,
        ).toBe(true);
      }
    }
  });

  it('draws every state and every pair of states in the SVG', async () => {
    const svg = await readFile(ROOT + diagram.svg, 'utf8');
    for (const key of readDefinition(machine).states.keys()) expect(svg).toContain(`<title>${key}</title>`);
    for (const t of transitionsOf(machine)) {
      // A transition that stays in its state is written inside the state's box.
      if (t.from === t.to) expect(svg).toContain(`>${t.trigger}`);
      else expect(svg).toContain(`<title>${t.from}&#45;&gt;${t.to}</title>`);
    }
  });
});

describe('the generator', () => {
  it('refuses a guard that has no words in labels.ts, naming it', () => {
    const machine = setup({ guards: { someNewRule: () => true } }).createMachine({
      initial: 'a',
      states: {
        a: { description: 'a', on: { COMMIT: { guard: 'someNewRule', target: 'b' } } },
        b: { description: 'b', type: 'final' },
      },
    });
    expect(() => machineModel(machine)).toThrow(/no phrase for the guard "someNewRule"/);
  });

  it('refuses a state without a description', () => {
    const machine = setup({}).createMachine({ initial: 'a', states: { a: {} } });
    expect(() => machineModel(machine)).toThrow(/has no description/);
  });

  it('rewrites only what lies between the markers', () => {
    const doc = 'intro\n<!-- x:start -->\nold\n<!-- x:end -->\noutro\n';
    const out = replaceBlock(doc, 'x', 'new', 'doc.md');
    expect(out.startsWith('intro\n<!-- x:start -->\n')).toBe(true);
    expect(out.endsWith('\nnew\n<!-- x:end -->\noutro\n')).toBe(true);
    expect(out).not.toContain('old');
    expect(() => replaceBlock('no markers', 'x', 'new', 'doc.md')).toThrow(/doc.md needs exactly one/);
  });
});
