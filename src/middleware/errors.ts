/**
 * The errors the middleware raises itself. Each carries an HTTP status that Koa's default error
 * handling turns into the response (`expose` lets the short message reach the client).
 */

export class SessionError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
  ) {
    super(message);
    this.name = 'SessionError';
  }

  get expose(): boolean {
    return this.status < 500 || this.status === 503;
  }
}

/** The reference's message text is kept: apps match on it. */
export const STORE_UNAVAILABLE_MESSAGE = 'session store is unavailable';

/** The store is away (the connection machine refuses) or did not answer in time: a 503. */
export function storeUnavailable(reason?: string): SessionError {
  const err = new SessionError(STORE_UNAVAILABLE_MESSAGE, 503, 'ESESSIONSTORE');
  if (reason) err.cause = reason;
  return err;
}

/** A store call that got no answer within `storeTimeout`. */
const TIMED_OUT = new WeakSet<SessionError>();

export function storeTimedOut(operation: string, ms: number): SessionError {
  const err = storeUnavailable(`${operation} got no answer within ${ms} ms`);
  TIMED_OUT.add(err);
  return err;
}

export function isStoreTimeout(err: unknown): boolean {
  return err instanceof SessionError && TIMED_OUT.has(err);
}

/**
 * A store call failed because of the connection to the store (see src/stores/connection-failures.ts)
 * and could not be repeated in time: an outage of that call, not an error about the data.
 */
export function connectionLost(operation: string, err: unknown): SessionError {
  return storeUnavailable(`${operation} failed on the store's connection (${String(err)})`);
}

export function isStoreUnavailable(err: unknown): err is SessionError {
  return err instanceof SessionError && err.code === 'ESESSIONSTORE';
}

export function sessionTooLarge(bytes: number, max: number): SessionError {
  return new SessionError(
    `koa-session-machine: the session is ${bytes} bytes serialized, over the maxSize of ${max}; it was not saved`,
    500,
    'ESESSIONTOOLARGE',
  );
}
