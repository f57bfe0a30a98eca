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

export function storeUnavailable(reason?: string): SessionError {
  const err = new SessionError(STORE_UNAVAILABLE_MESSAGE, 503, 'ESESSIONSTORE');
  if (reason) err.cause = reason;
  return err;
}

export function sessionTooLarge(bytes: number, max: number): SessionError {
  return new SessionError(
    `koa-session-machine: the session is ${bytes} bytes serialized, over the maxSize of ${max}; it was not saved`,
    500,
    'ESESSIONTOOLARGE',
  );
}
