/**
 * Glue between a store's `connect` / `disconnect` / `close` events and its connection machine, and
 * the gate every store call passes: go ahead, wait, or fail. What to do in each state is the
 * machine's (its tags); this file only listens and waits.
 */
import { createActor, type Actor, type InspectionEvent } from 'xstate';
import { connectionMachine, type ConnectionMachine } from '../machines/connection.machine.js';
import type { SessionStore } from '../stores/types.js';
import { storeUnavailable } from './errors.js';
import { trace, traceConnection } from './trace.js';

export type ConnectionState = 'connected' | 'reconnecting' | 'unavailable' | 'closed';

export class StoreConnection {
  private readonly actor: Actor<ConnectionMachine>;

  constructor(
    store: SessionStore,
    reconnectTimeout: number,
    onChange: (state: ConnectionState) => void,
    inspect?: (event: InspectionEvent) => void,
  ) {
    const connected = (store as { connected?: unknown }).connected !== false;
    this.actor = createActor(connectionMachine, {
      input: { reconnectTimeout, connected },
      ...(inspect ? { inspect } : {}),
    });
    let last = '';
    this.actor.subscribe((snapshot) => {
      const state = String(snapshot.value);
      if (state !== last && state !== 'starting') {
        if (trace.enabled) traceConnection(last || 'starting', state);
        onChange(state as ConnectionState);
      }
      last = state;
    });
    this.actor.start();
    store.on!('connect', () => this.actor.send({ type: 'CONNECT' }));
    store.on!('disconnect', () => this.actor.send({ type: 'DISCONNECT' }));
    // koa-redis re-emits its client's `close` on every lost connection; only a store that says it
    // is closed for good (RedisStore after close()) ends the lifecycle.
    store.on!('close', () => {
      if ((store as { closed?: unknown }).closed === true) this.actor.send({ type: 'CLOSE' });
    });
  }

  get state(): ConnectionState {
    return String(this.actor.getSnapshot().value) as ConnectionState;
  }

  /**
   * Nothing when store calls may go ahead; a Promise that settles when the machine leaves its
   * waiting state; a thrown 503 when it refuses. Only a request that waits creates a Promise.
   */
  gate(): void | Promise<void> {
    const snapshot = this.actor.getSnapshot();
    if (snapshot.hasTag('serving')) return;
    if (!snapshot.hasTag('waiting')) throw storeUnavailable(String(snapshot.value));
    return new Promise<void>((resolve, reject) => {
      const subscription = this.actor.subscribe((next) => {
        if (next.hasTag('waiting')) return;
        subscription.unsubscribe();
        if (next.hasTag('serving')) resolve();
        else reject(storeUnavailable(String(next.value)));
      });
    });
  }

  /**
   * A value that is replaced on every change of state (the machine's snapshot): taken when a store
   * call is sent, it tells {@link StoreConnection.afterFailure} whether the store went away since.
   */
  get version(): object {
    return this.actor.getSnapshot();
  }

  /**
   * After a store call failed because of the connection, when it may be repeated: at once when the
   * state changed since the call was sent (`since`, the {@link StoreConnection.version} then) and
   * the store is serving again; the gate's wait while it is reconnecting; a thrown 503 when it
   * refuses. When nothing has changed yet, the error came before the store's `disconnect`, or the
   * server answered that it cannot serve now on a connection that stays up (LOADING, READONLY): the
   * next change is waited for, at most `bound` ms, and then the call may be repeated anyway.
   */
  afterFailure(since: object, bound: number): void | Promise<void> {
    const now = this.actor.getSnapshot();
    if (now !== since || !now.hasTag('serving')) return this.gate();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        subscription.unsubscribe();
        resolve();
      }, bound);
      const subscription = this.actor.subscribe((next) => {
        // An event that changes nothing notifies too, with the same snapshot.
        if (next === since) return;
        clearTimeout(timer);
        subscription.unsubscribe();
        try {
          const wait = this.gate();
          if (wait === undefined) resolve();
          else wait.then(resolve, reject);
        } catch (err) {
          reject(err);
        }
      });
    });
  }
}
