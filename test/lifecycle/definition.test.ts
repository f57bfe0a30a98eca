/**
 * The one reader of XState's internals (src/machines/definition.ts): what it reads from the
 * package's machines, compared with what XState itself does with them, and what it refuses. A
 * later xstate release that stores a definition differently must make it throw, never read a
 * wrong model; and each refusal names what and where.
 */
import { and, assign, createActor, not, or, setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import { compileMachine } from '../../src/machines/compile.js';
import { tableRunnerFactory } from '../../src/machines/runner.js';
import { connectionMachine } from '../../src/machines/connection.machine.js';
import { DefinitionError, readDefinition, statesTagged } from '../../src/machines/definition.js';
import { SESSION_EFFECTS, sessionMachine } from '../../src/machines/session.machine.js';

const named = (name: string) => ({ kind: 'named', name, params: undefined });

describe('reading the session machine', () => {
  const definition = readDefinition(sessionMachine);

  it('lists the states in definition order, with their type, tags and entry actions', () => {
    expect([...definition.states.keys()]).toEqual(Object.keys(sessionMachine.config.states!));
    expect(definition.initial).toBe('uninitialized');
    expect(definition.states.get('saved')).toMatchObject({ type: 'final', entry: [named('releaseLock')], exit: [] });
    expect(definition.states.get('creating')).toMatchObject({
      type: 'atomic',
      entry: [named('markLifetimeStored'), named('createInStore')],
    });
    expect(statesTagged(definition, 'live')).toEqual(['late', 'fresh', 'loaded', 'degraded']);
  });

  it('lists the candidate transitions of each event in the order XState tries them', () => {
    const commit = definition.states.get('loaded')!.on.get('COMMIT')!;
    expect(commit.map((t) => [t.index, t.guard?.kind === 'named' ? t.guard.name : undefined, t.target])).toEqual([
      [0, 'loadedSessionNeedsSave', 'updating'],
      [1, 'rollingNeedsTouch', 'touching'],
      [2, undefined, 'unchanged'],
    ]);
    const regenerate = definition.states.get('fresh')!.on.get('REGENERATE')![0]!;
    expect(regenerate).toMatchObject({
      target: undefined,
      reenter: false,
      actions: [named('startNewSession'), named('issueSid')],
    });
  });

  it('tells the effects from the assign actions', () => {
    const custom = [...definition.actions].filter(([, impl]) => impl.kind === 'custom').map(([name]) => name);
    expect(custom.sort()).toEqual([...SESSION_EFFECTS].sort());
    expect(definition.actions.get('markEnding')?.kind).toBe('assign');
  });

  it('names the transition XState takes, from the object getTransitionData returns', () => {
    const actor = createActor(sessionMachine, {
      input: { rolling: false, allowEmpty: false, serialize: false, degradeOnOutage: false },
    }).start();
    actor.send({ type: 'LOAD', sid: 'present' });
    const snapshot = actor.getSnapshot();
    const [taken] = sessionMachine.getTransitionData(snapshot, {
      type: 'LOADED',
      usable: false,
      expired: false,
      lifetimeUnstamped: false,
    });
    expect(definition.transitionOf(taken)).toMatchObject({
      source: 'loading',
      trigger: { kind: 'event', type: 'LOADED' },
      index: 2,
      target: 'checkingTombstone',
    });
    const [expired] = sessionMachine.getTransitionData(snapshot, {
      type: 'LOADED',
      usable: true,
      expired: true,
      lifetimeUnstamped: false,
    });
    expect(definition.transitionOf(expired)).toMatchObject({
      source: 'loading',
      index: 0,
      target: 'expiring',
      actions: [named('reportLifetimeEnded')],
    });
    expect(definition.transitionOf({})).toBeUndefined();
  });
});

describe('reading the connection machine', () => {
  const definition = readDefinition(connectionMachine);

  it('reads eventless and delayed transitions, without the raise and cancel XState adds for a delay', () => {
    expect(definition.states.get('starting')!.always.map((t) => t.target)).toEqual(['connected', 'reconnecting']);
    const reconnecting = definition.states.get('reconnecting')!;
    expect([...reconnecting.after.keys()]).toEqual(['reconnectTimeout']);
    expect(reconnecting.after.get('reconnectTimeout')![0]).toMatchObject({
      target: 'unavailable',
      trigger: { kind: 'after' },
    });
    expect([...reconnecting.on.keys()]).toEqual(['CONNECT', 'CLOSE']);
    expect(reconnecting.entry).toEqual([]);
    expect(reconnecting.exit).toEqual([]);
    expect(reconnecting.tags).toEqual(['waiting']);
  });
});

describe('what the reader refuses', () => {
  it('a nested state, naming it', () => {
    const machine = setup({}).createMachine({
      initial: 'a',
      states: { a: { initial: 'b', states: { b: {} } } },
    });
    expect(() => readDefinition(machine)).toThrow(DefinitionError);
    expect(() => readDefinition(machine)).toThrow(/the state "a" is of type compound/);
  });

  it('a parallel root', () => {
    const machine = setup({}).createMachine({ type: 'parallel', states: { a: {}, b: {} } });
    expect(() => readDefinition(machine)).toThrow(/a root of type parallel/);
  });

  it('transitions on the root', () => {
    const machine = setup({}).createMachine({ initial: 'a', on: { GO: '.b' }, states: { a: {}, b: {} } });
    expect(() => readDefinition(machine)).toThrow(/transitions on the root are not supported/);
  });

  it('internals stored in another shape (as a later xstate might): a clear error, not a wrong model', () => {
    const machine = setup({}).createMachine({ initial: 'a', states: { a: { on: { GO: 'b' } }, b: {} } });
    const node = machine.root.states.a! as unknown as { transitions: unknown };
    node.transitions = Object.fromEntries(node.transitions as Map<string, unknown>);
    expect(() => readDefinition(machine)).toThrow(/the transitions of the state "a" are not a Map/);

    const other = setup({}).createMachine({ initial: 'a', states: { a: { on: { GO: 'b' } }, b: {} } });
    const go = (other.root.states.a!.transitions.get('GO') as unknown as { reenter?: unknown }[])[0]!;
    delete go.reenter;
    expect(() => readDefinition(other)).toThrow(/the reenter of a transition of "a" on GO is not a boolean/);
  });
});

describe('what the table refuses (read, but not reproducible by compile.ts)', () => {
  it('an inline guard, an inline assign, a delayed transition', () => {
    const inlineGuard = setup({}).createMachine({
      initial: 'a',
      states: { a: { on: { GO: { guard: () => true, target: 'b' } } }, b: {} },
    });
    expect(readDefinition(inlineGuard).states.get('a')!.on.get('GO')![0]!.guard).toEqual({ kind: 'inline' });
    expect(() => compileMachine(inlineGuard)).toThrow(/an inline guard in "a"/);

    const inlineAssign = setup({}).createMachine({
      initial: 'a',
      context: { n: 0 },
      states: { a: { on: { GO: { actions: assign({ n: 1 }) } } } },
    });
    expect(() => compileMachine(inlineAssign)).toThrow(/the built-in xstate.assign inline/);

    expect(() => compileMachine(connectionMachine)).toThrow(/always transition in "starting"/);
  });
});

describe("XState's guard combinators: read as written, compiled to what XState decides", () => {
  /** Four named guards over two booleans of the event, combined every way the combinators allow. */
  const combined = setup({
    types: { events: {} as { type: 'GO'; a: boolean; b: boolean } },
    guards: { a: ({ event }) => event.a, b: ({ event }) => event.b },
  }).createMachine({
    initial: 'start',
    states: {
      start: {
        on: {
          GO: [
            { guard: and(['a', not('b')]), target: 'aOnly' },
            { guard: not(or(['a', 'b'])), target: 'neither' },
            { guard: and(['a', 'b']), target: 'both' },
            { target: 'bOnly' },
          ],
        },
      },
      aOnly: {},
      neither: {},
      both: {},
      bOnly: {},
    },
  });

  it('reads and(), or() and not() as the guards they combine', () => {
    const go = readDefinition(combined).states.get('start')!.on.get('GO')!;
    expect(go.map((t) => t.guard)).toEqual([
      { kind: 'and', guards: [named('a'), { kind: 'not', guard: named('b') }] },
      { kind: 'not', guard: { kind: 'or', guards: [named('a'), named('b')] } },
      { kind: 'and', guards: [named('a'), named('b')] },
      undefined,
    ]);
  });

  it('the table takes the transition XState takes, for every value of the guards', () => {
    const table = tableRunnerFactory(compileMachine(combined), undefined);
    for (const a of [false, true])
      for (const b of [false, true]) {
        const run = table();
        run.send({ type: 'GO', a, b });
        const actor = createActor(combined).start();
        actor.send({ type: 'GO', a, b });
        expect(run.state, `a: ${a}, b: ${b}`).toBe(actor.getSnapshot().value);
      }
  });

  it('a function that only looks like a combinator is an inline guard, which the table refuses', () => {
    const lookalike = Object.assign(() => true, { check: () => true, guards: ['a'] });
    const machine = setup({ guards: { a: () => true } }).createMachine({
      initial: 'a',
      states: { a: { on: { GO: { guard: lookalike, target: 'b' } } }, b: {} },
    });
    expect(readDefinition(machine).states.get('a')!.on.get('GO')![0]!.guard).toEqual({ kind: 'inline' });
    expect(() => compileMachine(machine)).toThrow(/an inline guard in "a"/);
  });
});
