/**
 * The overview at the head of docs/lifecycle.md: every state of the session machine is in one
 * phase (src/machines/session.phases.ts), and the committed overview draws every phase and, for
 * every transition that leads from one phase to another, an arrow that says its trigger. The
 * expectations are read from the machine's definition, not from the generator's overview model.
 */
import { readFile } from 'node:fs/promises';
import { setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import { DIAGRAMS, overviewSources, ROOT } from '../../scripts/diagrams/index.js';
import { DELAYS, EVENTS } from '../../scripts/diagrams/labels.js';
import { machineModel } from '../../scripts/diagrams/model.js';
import { overviewModel } from '../../scripts/diagrams/phases.js';
import { readDefinition } from '../../src/machines/definition.js';
import { sessionMachine } from '../../src/machines/session.machine.js';
import { SESSION_PHASE_OF, SESSION_PHASES } from '../../src/machines/session.phases.js';

const session = DIAGRAMS.find((d) => d.name === 'session')!;
const overview = session.overview!;

/** Phase pair → the trigger words of the transitions between them, from the machine's definition. */
function phaseArrows(): Map<string, Set<string>> {
  const arrows = new Map<string, Set<string>>();
  for (const [key, node] of readDefinition(sessionMachine).states) {
    const triggers: [string, readonly { target: string | undefined }[]][] = [
      ...[...node.on].map(([type, list]) => [EVENTS[type]!.text, list] as [string, typeof list]),
      ['immediately', node.always],
      ...[...node.after].map(([delay, list]) => [DELAYS[delay]!, list] as [string, typeof list]),
    ];
    for (const [words, list] of triggers) {
      for (const t of list) {
        const from = SESSION_PHASE_OF[key as keyof typeof SESSION_PHASE_OF];
        const to = SESSION_PHASE_OF[(t.target ?? key) as keyof typeof SESSION_PHASE_OF];
        if (from === to) continue;
        const pair = `${from} --> ${to}`;
        arrows.set(pair, (arrows.get(pair) ?? new Set()).add(words));
      }
    }
  }
  return arrows;
}

describe('the phases of the session machine', () => {
  it('put every state in exactly one phase, and every phase holds a state', () => {
    const states = [...readDefinition(sessionMachine).states.keys()];
    expect(Object.keys(SESSION_PHASE_OF).sort()).toEqual([...states].sort());
    const used = new Set(Object.values(SESSION_PHASE_OF));
    expect([...used].sort()).toEqual(Object.keys(SESSION_PHASES).sort());
  });

  it('are few enough for an overview (at most 12)', () => {
    expect(Object.keys(SESSION_PHASES).length).toBeLessThanOrEqual(12);
  });
});

describe('the committed overview', () => {
  /** The overview's Mermaid lines (read in each test, so that a broken phase table fails the first test by itself). */
  const overviewLines = () =>
    overviewSources()
      .get('session')!
      .split('\n')
      .map((l) => l.trim());

  it('names every phase and lists its states', () => {
    const lines = overviewLines();
    for (const [phase, summary] of Object.entries(SESSION_PHASES)) {
      const states = Object.entries(SESSION_PHASE_OF)
        .filter(([, p]) => p === phase)
        .map(([s]) => s);
      expect(lines).toContain(`state "${phase}" as ${phase}`);
      expect(lines).toContain(`${phase} : ${summary}`);
      const listed = lines.find((l) => l.startsWith(`${phase} : states: `))!;
      expect(listed.slice(`${phase} : states: `.length).split(', ').sort()).toEqual(states.sort());
    }
  });

  it('draws one arrow per pair of phases a transition joins, saying every trigger', () => {
    const expected = phaseArrows();
    const arrows = overviewLines().filter((l) => / --> /.test(l) && !l.startsWith('[*]') && !l.endsWith('[*]'));
    expect(arrows).toHaveLength(expected.size);
    for (const [pair, triggers] of expected) {
      const line = arrows.find((l) => l.startsWith(`${pair} : `));
      expect(line, `no arrow "${pair}"`).toBeDefined();
      const said = line!.slice(`${pair} : `.length).split(', ');
      for (const words of triggers) expect(said, `${pair} does not say "${words}"`).toContain(words);
    }
  });

  it('draws the same phases and arrows in its SVG, each phase naming its states and linking the full diagram', async () => {
    const svg = await readFile(ROOT + overview.svg, 'utf8');
    for (const [state, phase] of Object.entries(SESSION_PHASE_OF)) {
      expect(svg).toContain(`<title>${phase}</title>`);
      expect(svg).toMatch(
        new RegExp(`<a xlink:href="session-lifecycle.svg" xlink:title="${phase}: [^"]*\\b${state}\\b`),
      );
    }
    for (const pair of phaseArrows().keys()) {
      const [from, to] = pair.split(' --> ');
      expect(svg).toContain(`<title>${from}&#45;&gt;${to}</title>`);
    }
  });

  it('fits a laptop screen at its natural size (at most 1024 × 540 pt, 1366 × 720 px)', async () => {
    const svg = await readFile(ROOT + overview.svg, 'utf8');
    const [, width, height] = /<svg width="([\d.]+)pt" height="([\d.]+)pt"/.exec(svg)!;
    expect(Number(width)).toBeLessThanOrEqual(1024);
    expect(Number(height)).toBeLessThanOrEqual(540);
  });
});

describe('the overview generator', () => {
  const toy = (extra: Record<string, unknown> = {}) =>
    setup({}).createMachine({
      id: 'toy',
      initial: 'a',
      states: {
        a: { description: 'a', on: { LOAD: 'b', ...extra } },
        b: { description: 'b', on: { COMMIT: 'c' } },
        c: { description: 'c', type: 'final' },
      },
    });
  const summaries = { start: 'starting', middle: 'in the middle' };

  it('refuses a state without a phase, naming it', () => {
    const model = machineModel(toy());
    expect(() => overviewModel(model, { summaries, phaseOf: { a: 'start', b: 'middle' } })).toThrow(
      /the state "c" has no phase/,
    );
  });

  it('refuses a phase without a state, and a phase table that names no state of the machine', () => {
    const model = machineModel(toy());
    const phaseOf = { a: 'start', b: 'middle', c: 'middle' };
    expect(() => overviewModel(model, { summaries: { ...summaries, end: 'ended' }, phaseOf })).toThrow(
      /the phase "end" has no state/,
    );
    expect(() => overviewModel(model, { summaries, phaseOf: { ...phaseOf, gone: 'start' } })).toThrow(
      /name "gone", which is not a state/,
    );
  });

  it('draws a transition added between two phases without a change to the phase table', () => {
    const phases = { summaries, phaseOf: { a: 'start', b: 'middle', c: 'middle' } };
    const before = overviewModel(machineModel(toy()), phases);
    const after = overviewModel(machineModel(toy({ REMOVE: 'c' })), phases);
    expect(before.edges).toEqual([{ from: 'start', to: 'middle', triggers: [{ text: 'load', kind: 'request' }] }]);
    expect(after.edges).toEqual([
      {
        from: 'start',
        to: 'middle',
        triggers: [
          { text: 'load', kind: 'request' },
          { text: 'ctx.session = null', kind: 'app' },
        ],
      },
    ]);
    expect(after.transitions).toBe(2);
  });
});
