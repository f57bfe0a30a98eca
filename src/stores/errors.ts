/**
 * Errors stores raise that the middleware acts on. Stores do not import the middleware: it matches
 * these by code.
 */

/**
 * The `code` of the error a closed store's calls reject with (the RedisStore after `close()`): the
 * middleware answers 503, as for a store that is away, instead of treating it as a failure of its own.
 */
export const STORE_CLOSED_CODE = 'ERR_STORE_CLOSED';

/** The error a call to `store` rejects with once the app has closed it. */
export function storeClosedError(store: string): Error & { code: string } {
  return Object.assign(new Error(`${store}: the store is closed`), { code: STORE_CLOSED_CODE });
}
