/**
 * Values that are either plain or Promises, combined without making a Promise of a plain value: a
 * request on the MemoryStore, whose calls answer synchronously, stays synchronous (with `owner`,
 * `hashIds` and tombstones too).
 */
export type Awaitable<T> = T | Promise<T>;

export function andThen<T, U>(value: Awaitable<T>, fn: (v: T) => Awaitable<U>): Awaitable<U> {
  return value instanceof Promise ? value.then(fn) : fn(value);
}

/**
 * `first` (already sent) and then `second()` sent right behind it, so that a client that pipelines
 * sends both in one write; the value of `second`, once both have settled, or the first failure.
 */
export function both<T>(first: Awaitable<unknown>, second: () => Awaitable<T>): Awaitable<T> {
  let value: Awaitable<T>;
  try {
    value = second();
  } catch (err) {
    // The caller sees this error: the first call's outcome no longer matters.
    if (first instanceof Promise) first.catch(() => undefined);
    throw err;
  }
  if (!(first instanceof Promise)) return value;
  return Promise.all([first, value]).then(([, v]) => v);
}
