/**
 * How one store call becomes the event the session machine expects: through the connection gate,
 * bounded by `storeTimeout`, repeated after a connection failure until the store is back (within
 * `reconnectTimeout`), its errors turned into failure events. Synchronous stores (the MemoryStore) answer without a Promise or a timer.
 */
import type { SessionEvent } from '../machines/session.machine.js';
import { isConnectionFailure } from '../stores/connection-failures.js';
import { STORE_CLOSED_CODE } from '../stores/errors.js';
import type { StoreConnection } from './connection.js';
import { connectionLost, isStoreTimeout, storeTimedOut, storeUnavailable } from './errors.js';

/**
 * Rejects with a 503 when `value` has not settled within `ms`; the timer never outlives the call.
 * One Promise per call (not `Promise.race` and `finally`, which made three more on every store
 * round trip of a Redis request). A value that comes after that goes to `late`.
 */
function bounded<T>(value: Promise<T>, ms: number, operation: string, late?: (value: T) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let gaveUp = false;
    const timer = setTimeout(() => {
      gaveUp = true;
      reject(storeTimedOut(operation, ms));
    }, ms);
    value.then(
      (result) => {
        if (gaveUp) late?.(result);
        clearTimeout(timer);
        resolve(result);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/**
 * Calls the store for one request's effect and answers with the event the machine expects, errors
 * included. The call first passes the connection gate (go, wait — bounded by `reconnectTimeout` —
 * or a 503), then an asynchronous call is bounded by `timeout` (default `storeTimeout`). A call
 * that fails because of the connection to the store is repeated when the store is back. A
 * synchronous store (the MemoryStore) answers without a Promise or a timer. A store closed by the
 * app is an unavailable store. `ok` may go on with another call (a fenced write merged into a
 * newer entry). The answer of a call that came after the request stopped waiting for it (after
 * `timeout`) goes to `late`.
 */
export type CallStore = <T>(
  operation: string,
  call: () => T | Promise<T>,
  ok: (value: T) => SessionEvent | Promise<SessionEvent>,
  failed: (err: unknown) => SessionEvent,
  timeout?: number,
  late?: (value: T) => void,
) => SessionEvent | Promise<SessionEvent>;

/** The first pause before a call that failed on a live connection (LOADING, READONLY…) is repeated; it doubles. */
const FIRST_PAUSE = 50;
const LONGEST_PAUSE = 500;

/**
 * The {@link CallStore} of one middleware, made once: every request's calls share its connection
 * (only for stores that report theirs) and its time limits.
 */
export function storeCaller(
  connection: StoreConnection | undefined,
  limits: { readonly storeTimeout: number; readonly reconnectTimeout: number },
): CallStore {
  const { storeTimeout, reconnectTimeout } = limits;

  /**
   * Whether a call failed because of the connection to the store: an error of the table in
   * src/stores/connection-failures.ts, or no answer within `storeTimeout` while the store went away
   * (the command waited in the client for a reconnection that came too late for it).
   */
  const lostToConnection = (err: unknown, sent: object | undefined): boolean =>
    isConnectionFailure(err) ||
    (isStoreTimeout(err) && connection !== undefined && sent !== undefined && connection.version !== sent);

  /**
   * A call that failed because of the connection to the store (a socket that died with the command
   * on the wire, a server still loading its data after a restart, a demoted master): it is repeated
   * when the store is serving again, as long as it fails that way, until `reconnectTimeout` after
   * the first failure. Every session store call may be repeated: a read, a PEXPIRE, a SET or SET XX
   * of the same JSON, a DEL; a lock is asked for again (the RedisStore's finds one the lost attempt
   * took to be its own). The wait is the connection machine's (`StoreConnection.afterFailure`): the
   * store's reconnection, or, while the connection stays up and the server answers that it cannot
   * serve yet (LOADING, READONLY), a pause that doubles from 50 ms to 500 ms; each repeat is bounded
   * like the first call. A store that is not back in time is an outage of the call (503 or degrade),
   * never an error for the app's `errorHandler`; so a write whose outcome is unknown is never
   * reported as saved unless a repeat confirmed it. A store without connection events cannot say
   * when it is back: an outage at once.
   */
  function retried<T>(
    operation: string,
    call: () => T | Promise<T>,
    sent: object | undefined,
    ok: (value: T) => SessionEvent | Promise<SessionEvent>,
    failed: (err: unknown) => SessionEvent,
    err: unknown,
  ): SessionEvent | Promise<SessionEvent> {
    const lost = (cause: unknown) => failed(connectionLost(operation, cause));
    if (connection === undefined || sent === undefined) return lost(err);
    const deadline = Date.now() + reconnectTimeout;
    const attempt = (since: object, last: unknown, pause: number): SessionEvent | Promise<SessionEvent> => {
      const left = deadline - Date.now();
      if (left <= 0) return lost(last);
      let back: void | Promise<void>;
      try {
        back = connection.afterFailure(since, Math.min(left, pause));
      } catch {
        return lost(last);
      }
      const repeat = () => {
        const now = connection.version;
        return Promise.resolve()
          .then(call)
          .then(
            (v) => okOrFailed(ok, v, failed),
            (again: unknown) =>
              lostToConnection(again, now)
                ? attempt(connection.version, again, Math.min(pause * 2, LONGEST_PAUSE))
                : failed(asOutage(again)),
          );
      };
      return back === undefined ? repeat() : back.then(repeat, () => lost(last));
    };
    return attempt(sent, err, FIRST_PAUSE);
  }

  return function callStore<T>(
    operation: string,
    call: () => T | Promise<T>,
    ok: (value: T) => SessionEvent | Promise<SessionEvent>,
    failed: (err: unknown) => SessionEvent,
    timeout = storeTimeout,
    late?: (value: T) => void,
  ): SessionEvent | Promise<SessionEvent> {
    /** The connection's version when the call was sent: did the store go away since? */
    let sent: object | undefined;
    const boundedCall = () => {
      sent = connection?.version;
      const value = call();
      return value instanceof Promise ? bounded(value, timeout, operation, late) : value;
    };
    const fail = (err: unknown) =>
      lostToConnection(err, sent) ? retried(operation, boundedCall, sent, ok, failed, err) : failed(asOutage(err));
    try {
      const gate = connection?.gate();
      const value = gate === undefined ? boundedCall() : gate.then(boundedCall);
      return value instanceof Promise ? value.then((v) => okOrFailed(ok, v, failed), fail) : ok(value);
    } catch (err) {
      return fail(err);
    }
  };
}

/** A store closed by the app is a store that is away (a 503), not a failure of its data. */
function asOutage(err: unknown): unknown {
  return (err as { code?: unknown } | null)?.code === STORE_CLOSED_CODE ? storeUnavailable('the store is closed') : err;
}

/** `ok(value)`, or `fail` with what it threw: an answer the app's data makes unusable is a failed call. */
function okOrFailed<T>(
  ok: (value: T) => SessionEvent | Promise<SessionEvent>,
  value: T,
  fail: (err: unknown) => SessionEvent,
): SessionEvent | Promise<SessionEvent> {
  try {
    return ok(value);
  } catch (err) {
    return fail(err);
  }
}
