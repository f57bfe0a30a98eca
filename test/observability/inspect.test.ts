/**
 * Observability: with the `inspect` option every transition of each request's session
 * machine and of the store connection machine reaches an XState inspection callback, and
 * `onEvent` gives typed notices of the connection and of degraded requests. A real Koa app on
 * 127.0.0.1 goes through a full lifecycle; the exact state sequences are asserted.
 */
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import type { InspectionEvent } from 'xstate';
import { createCounterApp } from '../../examples/app.js';
import { MemoryStore, type SessionOptions, type StoredSession } from '../../src/index.js';
import { Client, listen, type Listening } from '../helpers/http.js';
import { PREFIX } from '../helpers/store-keys.js';

type Notice = Parameters<NonNullable<SessionOptions['onEvent']>>[0];

/** Collects, per actor, the states it went through and the events it received. */
class Recorder {
  private readonly actors = new Map<string, { machine: string; states: string[]; events: string[] }>();
  private taken = new Set<string>();

  readonly inspect = (event: InspectionEvent): void => {
    const id = event.actorRef.sessionId;
    if (event.type === '@xstate.snapshot') {
      const snapshot = event.snapshot as { value?: unknown; machine?: { id?: string } };
      let actor = this.actors.get(id);
      if (!actor) this.actors.set(id, (actor = { machine: snapshot.machine?.id ?? '?', states: [], events: [] }));
      const state = String(snapshot.value);
      if (actor.states.at(-1) !== state) actor.states.push(state);
    } else if (event.type === '@xstate.event') {
      // The first event (xstate.init) comes before the first snapshot, which registers the actor.
      this.actors.get(id)?.events.push(event.event.type);
    }
  };

  /** The session machines run since the last call, in order: one per request. */
  takeSessions(): { states: string[]; events: string[] }[] {
    const fresh = [...this.actors].filter(([id, a]) => a.machine === 'session' && !this.taken.has(id));
    for (const [id] of fresh) this.taken.add(id);
    return fresh.map(([, a]) => ({ states: a.states, events: a.events }));
  }

  /** The states of the store connection machine so far. */
  connectionStates(): string[] {
    return [...this.actors.values()].filter((a) => a.machine === 'connection').flatMap((a) => a.states);
  }
}

/** A MemoryStore that reports its connection like RedisStore does: an EventEmitter. */
class ReportingStore extends EventEmitter {
  private readonly memory = new MemoryStore();
  connected = true;
  /** A `close` event ends the connection lifecycle only from a store that says it is closed. */
  closed = false;
  close(): void {
    this.closed = true;
    this.emit('close');
  }
  get(key: string) {
    return this.memory.get(key);
  }
  set(key: string, session: StoredSession, ttl?: number) {
    return this.memory.set(key, session, ttl);
  }
  destroy(key: string) {
    return this.memory.destroy(key);
  }
}

async function until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

let server: Listening | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(options: SessionOptions): Promise<Client> {
  server = await listen(createCounterApp(options));
  return new Client(server.url);
}

describe('inspect: the session machine of each request', () => {
  it('shows the exact states of a full lifecycle', async () => {
    const recorder = new Recorder();
    const store = new MemoryStore();
    const client = await start({ store, inspect: recorder.inspect });
    const one = async (path: string, options?: Parameters<Client['get']>[1]) => {
      const reply = await client.get(path, options);
      const runs = recorder.takeSessions();
      expect(runs, `one session machine per request to ${path}`).toHaveLength(1);
      return { reply, ...runs[0]! };
    };

    // A new session, changed: written, cookie sent.
    const created = await one('/get');
    expect(created.states).toEqual(['uninitialized', 'fresh', 'creating', 'saved']);
    expect(created.events).toEqual(['LOAD', 'COMMIT', 'WRITTEN']);
    expect(created.reply.body).toEqual({ count: 1 });
    const firstCookie = client.cookieHeader('/');

    // An unchanged loaded session: no write, no cookie.
    const read = await one('/read');
    expect(read.states).toEqual(['uninitialized', 'loading', 'loaded', 'unchanged']);
    expect(read.events).toEqual(['LOAD', 'LOADED', 'COMMIT']);
    expect(read.reply.setCookies).toEqual([]);

    // A changed loaded session: rewritten.
    const updated = await one('/get');
    expect(updated.states).toEqual(['uninitialized', 'loading', 'loaded', 'updating', 'saved']);
    expect(updated.reply.body).toEqual({ count: 2 });

    // regenerateSession(): the old entry is deleted, a new empty session is left unsaved.
    const regenerated = await one('/regenerate');
    expect(regenerated.states).toEqual(['uninitialized', 'loading', 'loaded', 'regenerating', 'fresh', 'unchanged']);
    expect(regenerated.events).toEqual(['LOAD', 'LOADED', 'REGENERATE', 'DESTROYED', 'COMMIT']);

    // The old sid is unknown now and never adopted; it was retired moments ago (a tombstone), so a
    // request that still carries it is late: an empty session, and no cookie that could expire the new one.
    const stale = await one('/read', { cookie: firstCookie });
    expect(stale.states).toEqual(['uninitialized', 'loading', 'checkingTombstone', 'late', 'unchanged']);
    expect(stale.events).toEqual(['LOAD', 'LOADED', 'TOMBSTONE', 'COMMIT']);
    expect(stale.reply.body).toEqual({ count: 0 });
    expect(stale.reply.setCookies).toEqual([]);

    // A sid whose entry is gone without a login or logout (expired, lost): a fresh session, the cookie expired.
    const lost = new Client(server!.url);
    await lost.get('/get');
    await store.destroy(PREFIX + lost.cookie('koa.sid')!);
    recorder.takeSessions();
    const unknown = await lost.get('/read');
    const [unknownRun] = recorder.takeSessions();
    expect(unknownRun!.states).toEqual(['uninitialized', 'loading', 'checkingTombstone', 'fresh', 'unchanged']);
    expect(unknown.body).toEqual({ count: 0 });
    expect(unknown.setCookies.some((c) => c.name === 'koa.sid' && c.expired)).toBe(true);

    // Log in again, then log out: ctx.session = null destroys it and expires the cookie.
    expect((await one('/get')).states).toEqual(['uninitialized', 'fresh', 'creating', 'saved']);
    const removed = await one('/remove');
    expect(removed.states).toEqual(['uninitialized', 'loading', 'loaded', 'removed', 'destroying', 'destroyed']);
    expect(removed.events).toEqual(['LOAD', 'LOADED', 'REMOVE', 'COMMIT', 'DESTROYED']);
    expect(removed.reply.setCookies.every((c) => c.expired)).toBe(true);

    // No cookie, session only read: nothing to save.
    expect((await one('/read')).states).toEqual(['uninitialized', 'fresh', 'unchanged']);

    // A forged cookie: reset, fresh session.
    const forged = await one('/read', { cookie: 'koa.sid=not-a-real-sid; koa.sid.sig=forged' });
    expect(forged.states).toEqual(['uninitialized', 'fresh', 'unchanged']);
    expect(forged.reply.setCookies.some((c) => c.name === 'koa.sid' && c.expired)).toBe(true);
  });

  it('shows rolling as a TTL refresh, not a rewrite', async () => {
    const recorder = new Recorder();
    const client = await start({ rolling: true, inspect: recorder.inspect });
    await client.get('/get');
    recorder.takeSessions();
    const reply = await client.get('/read');
    const [run] = recorder.takeSessions();
    expect(run!.states).toEqual(['uninitialized', 'loading', 'loaded', 'touching', 'touched']);
    expect(run!.events).toEqual(['LOAD', 'LOADED', 'COMMIT', 'TOUCHED']);
    expect(reply.setCookies.map((c) => c.name)).toContain('koa.sid');
  });
});

describe('the store connection: inspect and onEvent', () => {
  it("reports connect, disconnect, the reconnect timeout and close; 'fail' answers 503", async () => {
    const recorder = new Recorder();
    const notices: Notice[] = [];
    const store = new ReportingStore();
    const client = await start({
      store,
      reconnectTimeout: 200,
      inspect: recorder.inspect,
      onEvent: (n) => notices.push(n),
    });
    const states = () => notices.flatMap((n) => (n.type === 'connection' ? [n.state] : []));
    expect(states()).toEqual(['connected']);

    expect((await client.get('/get')).body).toEqual({ count: 1 });
    recorder.takeSessions();

    // Nobody waiting: the disconnect costs nothing; the wait runs out after reconnectTimeout.
    store.emit('disconnect');
    expect(states()).toEqual(['connected', 'reconnecting']);
    await until(() => states().includes('unavailable'), 'unavailable');

    const refused = await client.get('/read');
    expect(refused.status).toBe(503);
    expect(refused.text).toBe('session store is unavailable');
    expect(recorder.takeSessions().map((r) => r.states)).toEqual([['uninitialized', 'loading', 'failed']]);

    store.emit('connect');
    expect((await client.get('/read')).body).toEqual({ count: 1 });
    recorder.takeSessions();

    // A request that arrives while the store is away waits for it, and goes on when it is back.
    store.emit('disconnect');
    const waiting = client.get('/get');
    await new Promise((r) => setTimeout(r, 30));
    store.emit('connect');
    expect((await waiting).body).toEqual({ count: 2 });
    expect(recorder.takeSessions().map((r) => r.states)).toEqual([
      ['uninitialized', 'loading', 'loaded', 'updating', 'saved'],
    ]);

    store.close();
    expect(states()).toEqual([
      'connected',
      'reconnecting',
      'unavailable',
      'connected',
      'reconnecting',
      'connected',
      'closed',
    ]);
    // The inspection callback saw the same transitions of the connection machine.
    expect(recorder.connectionStates()).toEqual(states());
    expect((await client.get('/read')).status).toBe(503);
  });

  it("'degrade' gives an empty session that is never saved, with a notice", async () => {
    const recorder = new Recorder();
    const notices: Notice[] = [];
    const store = new ReportingStore();
    const client = await start({
      store,
      reconnectTimeout: 20,
      storeOutage: 'degrade',
      inspect: recorder.inspect,
      onEvent: (n) => notices.push(n),
    });
    await client.get('/get');
    recorder.takeSessions();
    store.emit('disconnect');
    await until(() => notices.some((n) => n.type === 'connection' && n.state === 'unavailable'), 'unavailable');

    const reply = await client.get('/read');
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ count: 0 });
    expect(reply.setCookies).toEqual([]);
    expect(recorder.takeSessions().map((r) => r.states)).toEqual([
      ['uninitialized', 'loading', 'degraded', 'unchanged'],
    ]);
    const degraded = notices.filter((n) => n.type === 'degraded');
    expect(degraded).toHaveLength(1);
    expect(degraded[0]!.type === 'degraded' && degraded[0]!.ctx.path).toBe('/read');

    store.emit('connect');
    expect((await client.get('/read')).body).toEqual({ count: 1 });
  });
});
