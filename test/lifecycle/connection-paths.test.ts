/**
 * Model-based tests of the store connection machine (docs/store-outages.md): paths generated from
 * the machine with `xstate/graph`, each driven over HTTP against a real Koa app whose store is an
 * EventEmitter the test controls (it emits `connect` / `disconnect` / `close` like koa-redis and
 * RedisStore do, in front of a MemoryStore).
 *
 * In each state the test checks what a client observes: `connected` serves (200, the session
 * counter goes on, the store holds it); `reconnecting` makes a request wait (it is still pending
 * while its session machine sits at the store call) until the next event decides it (CONNECT: 200;
 * CLOSE or the reconnect timeout: 503); `unavailable` and `closed` answer 503 "session store is
 * unavailable" at once. Through `inspect` it checks that the connection actor went through exactly
 * the path's events and states, and through `onEvent` that the app was told each state.
 *
 * Why the bound covers the machine: its only context is the two inputs (`connected` at start-up,
 * which picks the first state through the eventless transitions of `starting`, and
 * `reconnectTimeout`, which only times the delayed transition); its events carry no payload. For
 * both start-up values, a shortest path to every transition (XState's "via" serialization of
 * vertices) takes every transition reachable from there, the delayed one included (driven by
 * waiting for it, with a short `reconnectTimeout` in those paths only). Paths that are a prefix of
 * another are dropped: the longer one checks the same states. The last test compares the taken
 * transitions with the set read from the machine definition, so a transition added to the machine
 * without being covered fails here.
 */
import { EventEmitter } from 'node:events';
import Koa from 'koa';
import type { InspectionEvent } from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import { afterEach, describe, expect, it } from 'vitest';
import session, { MemoryStore, STORE_UNAVAILABLE_MESSAGE, type StoredSession } from '../../src/index.js';
import { connectionMachine } from '../../src/machines/connection.machine.js';
import { readDefinition } from '../../src/machines/definition.js';
import { initialTransition, transitionsOf, transitionTaken, uncoveredTransitions } from '../../src/testing/index.js';
import { Client, listen, type Listening, type Reply } from '../helpers/http.js';
import { PREFIX } from '../helpers/store-keys.js';
import { KEYS } from '../helpers/koa.js';

type ConnectionEvent = { type: string };
interface Step {
  event: ConnectionEvent;
  state: string;
  transition: string;
}
interface ConnectionPath {
  name: string;
  connected: boolean;
  /** The first step is the start (`xstate.init`, through the eventless transition of `starting`). */
  steps: Step[];
}

/** Every event type the machine's states react to, the delayed one included. */
const EVENT_TYPES = [
  ...new Set(
    [...readDefinition(connectionMachine).states.values()].flatMap((node) => [
      ...node.on.keys(),
      ...[...node.after.values()].flatMap((list) => list.map((t) => t.trigger.type)),
    ]),
  ),
];
const AFTER = EVENT_TYPES.find((t) => t.startsWith('xstate.after.'));
const describeEvent = (type: string) => (type === AFTER ? 'reconnectTimeout elapses' : type);

function generate(): ConnectionPath[] {
  const all: ConnectionPath[] = [];
  for (const connected of [true, false]) {
    const key = (s: { value: unknown; context: unknown }) => JSON.stringify([s.value, s.context]);
    const found = getShortestPaths(connectionMachine, {
      input: { connected, reconnectTimeout: 1 },
      events: EVENT_TYPES.map((type) => ({ type })) as never,
      filterEvents: (s, e) => transitionTaken(connectionMachine, s, e) !== undefined,
      serializeState: (s, e, prev) => `${key(s)} via ${JSON.stringify(e)} from ${prev ? key(prev) : '-'}`,
    });
    const paths = found.map((p) => {
      const steps: Step[] = [];
      p.steps.forEach((step, i) => {
        const before = i === 0 ? undefined : p.steps[i - 1]!.state;
        steps.push({
          event: step.event,
          state: String(step.state.value),
          transition: before
            ? transitionTaken(connectionMachine, before, step.event)!
            : initialTransition(connectionMachine, step.state)!,
        });
      });
      return steps;
    });
    const signature = (steps: Step[]) => steps.map((s) => `${s.event.type}>${s.state}`).join(' ');
    for (const steps of paths) {
      const sig = signature(steps);
      if (paths.some((other) => other !== steps && signature(other).startsWith(`${sig} `))) continue;
      all.push({
        name: `${connected ? 'connected' : 'not connected'} at start-up: ${steps
          .map((s, i) => (i === 0 ? `start → ${s.state}` : `${describeEvent(s.event.type)} → ${s.state}`))
          .join(', ')}`,
        connected,
        steps,
      });
    }
  }
  return all;
}

/** A store whose connection the test controls, backed by a MemoryStore. */
class ControlledStore extends EventEmitter {
  readonly inner = new MemoryStore();
  /** Set before `close` is emitted: the store is shut down for good (as RedisStore says after close()). */
  closed = false;
  constructor(public connected: boolean) {
    super();
  }
  async get(key: string) {
    return this.inner.get(key);
  }
  async set(key: string, value: StoredSession, ttl?: number) {
    this.inner.set(key, value, ttl);
  }
  async destroy(key: string) {
    this.inner.destroy(key);
  }
}

/** The connection actor's events and states, and the latest state of each request's session machine. */
class Observer {
  readonly connection: string[] = [];
  readonly sessions = new Map<unknown, string>();
  readonly inspect = (e: InspectionEvent) => {
    if (e.type !== '@xstate.snapshot') return;
    const id = (e.actorRef as unknown as { logic?: { id?: string } }).logic?.id;
    const value = String((e.snapshot as { value?: unknown }).value);
    if (id === 'connection') this.connection.push(`${describeEvent(e.event.type)} → ${value}`);
    if (id === 'session') this.sessions.set(e.actorRef, value);
  };
}

async function until(test: () => boolean, what: string, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

const paths = generate();
let server: Listening | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function run(path: ConnectionPath): Promise<void> {
  const store = new ControlledStore(path.connected);
  const observer = new Observer();
  const notices: string[] = [];
  const app = new Koa();
  app.keys = KEYS;
  app.silent = true;
  app.use(
    session({
      store: store as never,
      // Long enough never to fire, except in the paths that wait for it.
      reconnectTimeout: path.steps.some((s) => s.event.type === AFTER) ? 300 : 60_000,
      inspect: observer.inspect,
      onEvent: (e) => void (e.type === 'connection' && notices.push(e.state)),
    }),
  );
  app.use((ctx) => {
    const s = ctx.session!;
    s.n = ((s.n as number | undefined) ?? 0) + 1;
    ctx.body = { n: s.n };
  });
  server = await listen(app);
  const client = new Client(server.url);
  let count = 0;
  let pending: { reply: Promise<Reply>; settled: boolean } | undefined;

  const served = async (reply: Reply, where: string) => {
    expect(reply.status, `${where}: status (${reply.text})`).toBe(200);
    expect(reply.body, where).toEqual({ n: ++count });
    const stored = store.inner.get(PREFIX + client.cookie('koa.sid'));
    expect(stored?.n, `${where}: the store holds the session`).toBe(count);
  };
  const refused = (reply: Reply, where: string) => {
    expect(reply.status, `${where}: status`).toBe(503);
    expect(reply.text, where).toBe(STORE_UNAVAILABLE_MESSAGE);
  };

  for (const [i, step] of path.steps.entries()) {
    const where = `after ${i === 0 ? 'start' : describeEvent(step.event.type)} → ${step.state}`;
    // Drive the event (the first step is the start itself).
    if (i > 0) {
      if (step.event.type === 'CONNECT') {
        store.connected = true;
        store.emit('connect');
      } else if (step.event.type === 'DISCONNECT') {
        store.connected = false;
        store.emit('disconnect');
      } else if (step.event.type === 'CLOSE') {
        store.closed = true;
        store.emit('close');
      } else if (step.event.type === AFTER)
        await until(() => observer.connection.length > i, 'the reconnect timeout elapsed');
      else throw new Error(`no driver for ${step.event.type}`);
    }
    expect(observer.connection, where).toEqual(
      path.steps.slice(0, i + 1).map((s, j) => `${j === 0 ? 'xstate.init' : describeEvent(s.event.type)} → ${s.state}`),
    );
    expect(notices, `${where}: the app's onEvent notices`).toEqual(path.steps.slice(0, i + 1).map((s) => s.state));
    // A request that waited in the previous state is decided by this event.
    if (pending) {
      const reply = await pending.reply;
      if (step.state === 'connected') await served(reply, `${where}: the request that waited`);
      else refused(reply, `${where}: the request that waited`);
      pending = undefined;
    }
    // What a request observes in this state.
    if (step.state === 'connected') await served(await client.get('/'), where);
    else if (step.state === 'unavailable' || step.state === 'closed') refused(await client.get('/'), where);
    else if (step.state === 'reconnecting') {
      const before = new Set(observer.sessions.keys());
      const waiting = { reply: client.get('/'), settled: false };
      const settle = () => void (waiting.settled = true);
      waiting.reply.then(settle, settle);
      // It reaches its first store call (a read with a cookie, the write of a new session without)
      // and stays there.
      await until(
        () =>
          [...observer.sessions].some(
            ([actor, state]) => !before.has(actor) && (state === 'loading' || state === 'creating'),
          ),
        'the request reached its store call',
      );
      await new Promise((resolve) => setImmediate(resolve));
      expect(waiting.settled, `${where}: the request waits for the store`).toBe(false);
      pending = waiting;
    } else throw new Error(`no check for state ${step.state}`);
  }
  // A request still waiting at the end: the store comes back.
  if (pending) {
    store.connected = true;
    store.emit('connect');
    await served(await pending.reply, 'the request that waited until the end of the path');
  }
  // Closing stops any timer of the connection machine.
  if (path.steps.at(-1)!.state !== 'closed') {
    store.closed = true;
    store.emit('close');
  }
}

describe('connection machine paths over HTTP, with a store whose connection the test controls', () => {
  for (const path of paths) it(path.name, () => run(path));
});

describe('the bound covers the connection machine', () => {
  it(`generates ${paths.length} paths`, () => {
    expect(paths.length).toBeGreaterThan(0);
    expect(AFTER).toBeDefined();
  });

  it('every transition of the definition (state, event, candidate, from the machine definition) is taken by a generated path', () => {
    const all = transitionsOf(connectionMachine);
    expect(all).toContain('starting always #0');
    expect(all).toContain(`reconnecting ${AFTER} #0`);
    const covered = new Set(paths.flatMap((p) => p.steps.map((s) => s.transition)));
    expect(uncoveredTransitions(connectionMachine, covered)).toEqual([]);
  });
});
