/**
 * The store connection lifecycle: one long-lived actor per store (it changes state rarely, so a
 * real XState actor costs nothing that matters). It replaces koa-generic-session's status flag,
 * its promise and its timer: after a disconnect, requests wait for the store for at most
 * `reconnectTimeout`, then fail fast until the store is back (docs/store-outages.md).
 *
 * The wait is a delayed transition of the `reconnecting` state, so XState cancels its timer when
 * the state is left: a timer from an earlier disconnect can never cut a later wait short, and no
 * timer outlives the state it belongs to. Nothing here rejects a promise: requests that wait
 * subscribe to the actor, so a disconnect with nobody waiting costs nothing.
 *
 * Tags tell the middleware what a request does in each state: `serving` (go ahead), `waiting`
 * (wait for the next state), `refusing` (fail now with 503 or degrade, per the outage policy).
 */
import { setup } from 'xstate';

export type ConnectionEvent =
  /** The store reports it is connected and ready. */
  | { type: 'CONNECT' }
  /** The store reports it lost its connection. */
  | { type: 'DISCONNECT' }
  /** The app shuts the store down (`store.close()`): no reconnect is waited for. */
  | { type: 'CLOSE' };

/** Who causes each event: the store reports a result (it is back) or a failure, or the app closes it. */
export const CONNECTION_EVENT_KINDS: Readonly<Record<ConnectionEvent['type'], 'app' | 'result' | 'failure'>> = {
  CONNECT: 'result',
  DISCONNECT: 'failure',
  CLOSE: 'app',
};

export interface ConnectionMachineInput {
  /** ms that requests wait for a disconnected store before it is declared unavailable. */
  reconnectTimeout: number;
  /** Whether the store was ready when the middleware was created. */
  connected: boolean;
}

export type ConnectionTag = 'serving' | 'waiting' | 'refusing';

export const connectionMachine = setup({
  types: {
    context: {} as ConnectionMachineInput,
    events: {} as ConnectionEvent,
    input: {} as ConnectionMachineInput,
    tags: {} as ConnectionTag,
  },
  guards: {
    startsConnected: ({ context }) => context.connected,
  },
  delays: {
    reconnectTimeout: ({ context }) => context.reconnectTimeout,
  },
}).createMachine({
  id: 'connection',
  context: ({ input }) => ({ ...input }),
  initial: 'starting',
  states: {
    starting: {
      description: 'Picks the first state from what the store reported at start-up.',
      always: [{ guard: 'startsConnected', target: 'connected' }, { target: 'reconnecting' }],
    },
    connected: {
      tags: 'serving',
      description: 'Store calls go through.',
      on: { DISCONNECT: 'reconnecting', CLOSE: 'closed' },
    },
    reconnecting: {
      tags: 'waiting',
      description: 'The store is away: requests wait, at most `reconnectTimeout` after the disconnect.',
      after: { reconnectTimeout: 'unavailable' },
      on: { CONNECT: 'connected', CLOSE: 'closed' },
    },
    unavailable: {
      tags: 'refusing',
      description: 'Still away after `reconnectTimeout`: requests fail fast (503) or degrade, per the outage policy.',
      on: { CONNECT: 'connected', CLOSE: 'closed' },
    },
    closed: {
      tags: 'refusing',
      type: 'final',
      description: 'Shut down by the app: requests fail fast; no reconnect is waited for.',
    },
  },
});

export type ConnectionMachine = typeof connectionMachine;
