/**
 * The lifecycle paths of the session machine, generated with `xstate/graph` from the machine the
 * package exports. Each path is one complete request: it starts where a request starts and ends in
 * a final state, and every step is something a handler, a client or a store can make happen.
 *
 * How the traversal is bounded, and why that covers the machine:
 *
 * - Events: one representative payload per value a guard distinguishes (`sid`, `usable`, `expired`,
 *   `lifetimeUnstamped`, `found`, `swallowed`, `outage`, `stored`, `changed`, `save`), restricted
 *   to what can be driven from outside in that state (a session can only be `changed` where the app
 *   holds one; only a rewrite, not the creation of a session, can find its entry gone; only a
 *   session the store had can be `expired` or unstamped). Guards read nothing else, so these events
 *   reach every guard outcome; the repository's model test checks that the restriction loses no
 *   transition.
 * - Context: the options the machine reads (`rolling`, `allowEmpty`, `serialize`, one traversal for
 *   each of their 8 combinations; the outage policy `'degrade'`, which only changes what an outage
 *   does, with `rolling`, with and without `serialize`; and, alone, the app's own `genSid`, which
 *   the machine does not read but the middleware does) and what the machine keeps of the request
 *   (`ending`, `lifetimeUnstored`). It is finite, so the state space is too: one
 *   `getAdjacencyMap` per combination holds every reachable (state, context) and every enabled edge.
 * - Paths: for every combination, and for every edge of its adjacency map, a shortest path to the
 *   edge's source, the edge, and the cheapest way on to a final state (what `getShortestPaths`
 *   gives with XState's "via" serialization, computed once instead of once per edge). Then the
 *   fewest of those that still take every transition reachable under that combination are kept (a
 *   greedy cover, shortest paths first). Every transition of the definition is therefore taken,
 *   under every option combination where it can happen at all;
 *   `uncoveredTransitions(sessionMachine, coveredBy(paths))` is the check, and the repository's
 *   model test fails when a transition added to the machine is left out.
 */
import { getAdjacencyMap } from 'xstate/graph';
import type { EventFromLogic, SnapshotFrom } from 'xstate';
import { sessionMachine } from '../index.js';
import { readDefinition, statesTagged, type ActionRef } from '../machines/definition.js';
import { SESSION_EVENT_KINDS, type SessionState, type SessionTag } from '../machines/session.machine.js';
import { transitionTaken } from './graph.js';

export type SessionMachineEvent = EventFromLogic<typeof sessionMachine>;
type Snapshot = SnapshotFrom<typeof sessionMachine>;

const definition = readDefinition(sessionMachine);

/** The options the session machine reads, and whether the paths run with an app's own `genSid`. */
export interface LifecycleInput {
  rolling: boolean;
  allowEmpty: boolean;
  serialize: boolean;
  /**
   * The app gives its own `genSid` (the kit gives an async one); false when left out. The machine
   * does not read it (a new session's sid is issued as it starts either way), but the middleware
   * then starts every session before the handlers, and awaits the sid.
   */
  ownGenSid?: boolean;
  /** `storeOutage: 'degrade'` (false when left out: `'fail'`). */
  degradeOnOutage?: boolean;
}

/** Store capabilities a path can need (see `StoreCapabilities`). */
export type PathCapability = 'lock';

export interface LifecycleStep {
  event: SessionMachineEvent;
  /** The state the event led to. */
  state: SessionState;
  /** The effects (machine actions the middleware performs) the transition asked for, in order. */
  effects: string[];
  /** The transition taken, as `<state> <event> #<candidate>`. */
  transition: string;
}

export interface LifecyclePath {
  /** A readable, unique name: the options, then each event and the state it led to. */
  name: string;
  input: Required<LifecycleInput>;
  steps: LifecycleStep[];
  /** The capabilities a store needs for this path to be driven. */
  requires: PathCapability[];
}

const NOT_SET = { ownGenSid: false, degradeOnOutage: false };

/**
 * Every combination of `rolling`, `allowEmpty` and `serialize`; the app's own async `genSid`
 * alone: it changes when the middleware starts a session and how the sid arrives, which no other
 * option changes; and `storeOutage: 'degrade'`, which only changes what an outage of the store
 * does: with `rolling` (a refresh can meet one), without and with `serialize` (so can the lock),
 * so that a store without `lock()` still runs every outage it can.
 */
export const LIFECYCLE_INPUTS: readonly Required<LifecycleInput>[] = [
  ...[false, true].flatMap((serialize) =>
    [false, true].flatMap((rolling) =>
      [false, true].map((allowEmpty) => ({ ...NOT_SET, rolling, allowEmpty, serialize })),
    ),
  ),
  { ...NOT_SET, rolling: false, allowEmpty: false, serialize: false, ownGenSid: true },
  ...[false, true].map((serialize) => ({
    ...NOT_SET,
    rolling: true,
    allowEmpty: false,
    serialize,
    degradeOnOutage: true,
  })),
];

const LIVE: SessionTag = 'live';
/** The states in which the app holds a session object it can change (tagged `live` in the machine). */
export const LIVE_STATES: ReadonlySet<SessionState> = new Set(statesTagged(definition, LIVE) as SessionState[]);
const SAVES = ['auto', 'force', 'skip'] as const;

/** The representative payloads of each event type that can be driven in `state`. */
function payloads(type: string, state: SessionState, entry: readonly string[]): SessionMachineEvent[] {
  switch (type) {
    case 'LOAD':
      return (['absent', 'present', 'forged'] as const).map((sid) => ({ type, sid }));
    case 'LOADED':
      // `expired` (older than `maxLifetime`) and `lifetimeUnstamped` (no beginning stored) are
      // only read for a session the store had, and only one at a time.
      return [
        { type, usable: true, expired: false, lifetimeUnstamped: false },
        { type, usable: true, expired: true, lifetimeUnstamped: false },
        { type, usable: true, expired: false, lifetimeUnstamped: true },
        { type, usable: false, expired: false, lifetimeUnstamped: false },
      ];
    case 'TOMBSTONE':
      return [true, false].map((found) => ({ type, found }));
    case 'LOAD_FAILED':
      return [true, false].map((swallowed) => ({ type, swallowed }));
    case 'SAVE_NOW':
    case 'COMMIT': {
      const changes = LIVE_STATES.has(state) ? [true, false] : [false];
      return changes.flatMap((changed) => SAVES.map((save) => ({ type, changed, save })));
    }
    case 'WRITTEN':
      // Only a rewrite can find the entry gone; creating a session always stores it.
      return entry.includes('updateInStore')
        ? [true, false].map((stored) => ({ type, stored }))
        : [{ type, stored: true }];
    case 'TOUCHED':
      return [true, false].map((stored) => ({ type, stored }));
    case 'WRITE_FAILED':
    case 'TOUCH_FAILED':
      // The store does not answer in time (an outage), or throws, and the app's `errorHandler`
      // returns (swallows) or rethrows.
      return [
        { type, outage: true, swallowed: false },
        { type, outage: false, swallowed: true },
        { type, outage: false, swallowed: false },
      ];
    default:
      return [{ type } as SessionMachineEvent];
  }
}

const namesOf = (actions: readonly ActionRef[]) => actions.flatMap((a) => (a.kind === 'named' ? [a.name] : []));

function eventsIn(snapshot: Snapshot): SessionMachineEvent[] {
  const state = snapshot.value;
  const node = definition.states.get(state);
  if (node === undefined) return [];
  const entry = namesOf(node.entry);
  return [...node.on.keys()].flatMap((type) => payloads(type, state, entry));
}

const stateKey = (s: Snapshot) => JSON.stringify([s.value, s.context]);
const enabled = (s: Snapshot, e: SessionMachineEvent) => transitionTaken(sessionMachine, s, e) !== undefined;

/**
 * What a step costs when choosing how a path ends: 1, plus a little for a failure or an entry found
 * gone, for a retired sid or an expired session, and for anything but the plainest request end
 * (nothing changed, no `sessionSave`), so that the endings added to reach a final state are ordinary
 * ones.
 */
function stepCost(event: SessionMachineEvent): number {
  let c = 1;
  if (SESSION_EVENT_KINDS[event.type] === 'failure') c += 0.5;
  if ('stored' in event && !event.stored) c += 0.5;
  // A retired sid and an expired session need the kit to arrange the store; a plain miss does not.
  if (('found' in event && event.found) || ('expired' in event && event.expired)) c += 0.1;
  if ('changed' in event && event.changed) c += 0.1;
  if ('save' in event && event.save !== 'auto') c += 0.1;
  return c;
}

interface Edge extends LifecycleStep {
  /** The key of the state reached. */
  to: string;
}

/**
 * Candidate paths for one input: for every edge (state, event) of the traversal, a shortest path
 * to its state, the edge, and the cheapest way from there to a final state. That is what XState's
 * "via" serialization gives, computed from one adjacency map instead of one vertex per edge.
 */
function candidatePaths(input: Required<LifecycleInput>): LifecycleStep[][] {
  const options = { input, events: eventsIn, filterEvents: enabled, serializeState: (s: Snapshot) => stateKey(s) };
  const adjacency = getAdjacencyMap(sessionMachine, options);
  const edges = new Map<string, Edge[]>();
  const done = new Set<string>();
  let initial: string | undefined;
  for (const [key, { state, transitions }] of Object.entries(adjacency)) {
    initial ??= key; // the traversal starts from the initial state
    if (state.status === 'done') done.add(key);
    edges.set(
      key,
      Object.values(transitions as Record<string, { event: SessionMachineEvent; state: Snapshot }>).map(
        ({ event, state: next }) => ({
          event,
          state: next.value,
          effects: effectsOf(state, event),
          transition: transitionTaken(sessionMachine, state, event)!,
          to: stateKey(next),
        }),
      ),
    );
  }
  // The cheapest ending from every state (Bellman-Ford backwards from the final states; the graph is small).
  const ending = new Map<string, { cost: number; steps: Edge[] }>();
  for (const key of done) ending.set(key, { cost: 0, steps: [] });
  for (let changed = true; changed;) {
    changed = false;
    for (const [key, out] of edges) {
      for (const edge of out) {
        const tail = ending.get(edge.to);
        if (tail === undefined) continue;
        const cost = stepCost(edge.event) + tail.cost;
        if (cost < (ending.get(key)?.cost ?? Infinity)) {
          ending.set(key, { cost, steps: [edge, ...tail.steps] });
          changed = true;
        }
      }
    }
  }
  // A shortest path to every state (breadth first from the initial state).
  const prefixes = new Map<string, Edge[]>([[initial!, []]]);
  for (const [key, prefix] of prefixes) {
    for (const edge of edges.get(key) ?? []) if (!prefixes.has(edge.to)) prefixes.set(edge.to, [...prefix, edge]);
  }
  const paths: LifecycleStep[][] = [];
  for (const [key, out] of edges) {
    for (const edge of out) {
      const tail = ending.get(edge.to);
      if (tail === undefined) throw new Error(`lifecyclePaths: no final state is reachable from ${edge.to}`);
      paths.push(
        [...prefixes.get(key)!, edge, ...tail.steps].map(({ event, state, effects, transition }) => ({
          event,
          state,
          effects,
          transition,
        })),
      );
    }
  }
  return paths;
}

/** The machine's own actions (not assigns): the effects the middleware performs. */
const EFFECT_NAMES: ReadonlySet<string> = new Set(
  [...definition.actions].filter(([, impl]) => impl.kind === 'custom').map(([name]) => name),
);

const effectNames = (actions: readonly ActionRef[]) => namesOf(actions).filter((name) => EFFECT_NAMES.has(name));

/**
 * The effects of a transition of a flat machine, in XState's order: the exit actions of the state
 * left, the transition's actions, the entry actions of the state entered (a targetless transition
 * leaves and enters nothing). The repository's model test checks this against a recording actor.
 */
function effectsOf(snapshot: Snapshot, event: SessionMachineEvent): string[] {
  const [taken] = sessionMachine.getTransitionData(snapshot, event);
  const t = taken === undefined ? undefined : definition.transitionOf(taken);
  if (t === undefined) return [];
  const target = t.target === undefined ? undefined : definition.states.get(t.target)!;
  const moves = target !== undefined && (t.target !== t.source || t.reenter);
  const source = definition.states.get(t.source)!;
  return [
    ...(moves ? effectNames(source.exit) : []),
    ...effectNames(t.actions),
    ...(moves ? effectNames(target.entry) : []),
  ];
}

/** `LOAD present`, `COMMIT changed force`, `WRITTEN not stored`: an event as words. */
export function describeEvent(event: SessionMachineEvent): string {
  const words: string[] = [event.type];
  for (const [key, value] of Object.entries(event)) {
    if (key === 'type') continue;
    if (typeof value === 'boolean') words.push(value ? key : `not ${key}`);
    else words.push(String(value));
  }
  return words.join(' ');
}

function describeInput(input: LifecycleInput): string {
  const on = [
    input.rolling && 'rolling',
    input.allowEmpty && 'allowEmpty',
    input.serialize && 'serialize',
    input.ownGenSid && 'genSid',
    input.degradeOnOutage && 'degrade',
  ].filter(Boolean);
  return on.length === 0 ? 'defaults' : on.join('+');
}

/**
 * The capabilities a path needs: `concurrency: 'serialize'` needs `lock()`. Everything else can be
 * driven with get/set/destroy alone (the middleware reads a store without `update` or `touch`
 * before rewriting, so an entry destroyed meanwhile is noticed there too).
 */
function requirements(input: LifecycleInput): PathCapability[] {
  return input.serialize ? ['lock'] : [];
}

/** The generated paths for one combination of options (see the file comment for the bound). */
export function lifecyclePathsFor(options: LifecycleInput): LifecyclePath[] {
  const input: Required<LifecycleInput> = { ...NOT_SET, ...options };
  const unique = new Map(candidatePaths(input).map((steps) => [JSON.stringify(steps.map((s) => s.event)), steps]));
  const paths = [...unique.values()].sort((a, b) => a.length - b.length);
  // A greedy cover: shortest first, keep a path only when it takes a transition no kept path takes.
  const covered = new Set<string>();
  const kept: LifecyclePath[] = [];
  for (const steps of paths) {
    if (steps.every((s) => covered.has(s.transition))) continue;
    for (const s of steps) covered.add(s.transition);
    kept.push({
      name: `${describeInput(input)}: ${steps.map((s) => `${describeEvent(s.event)} → ${s.state}`).join(', ')}`,
      input,
      steps,
      requires: requirements(input),
    });
  }
  return kept;
}

/** The generated paths for every combination of the options the machine reads. */
export function lifecyclePaths(): LifecyclePath[] {
  return LIFECYCLE_INPUTS.flatMap(lifecyclePathsFor);
}

/** The transitions the given paths take. */
export function coveredBy(paths: readonly LifecyclePath[]): Set<string> {
  return new Set(paths.flatMap((p) => p.steps.map((s) => s.transition)));
}
