/**
 * The keys the middleware writes in a store: sessions under `PREFIX + sid`, and the tombstones of
 * retired sids (`<prefix>retired:…`, see the `late` state in docs/lifecycle.md), which are entries
 * of their own, not sessions.
 */

/** The middleware's default store key prefix. */
export const PREFIX = 'koa:sess:';

/** Whether a store key is a session's, not the tombstone of a retired sid. */
export function isSessionKey(key: string): boolean {
  return !key.includes(':retired:');
}

/** The session keys of a store's key-value map (tombstones left out). */
export function sessionKeys(data: Map<string, unknown>): string[] {
  return [...data.keys()].filter(isSessionKey);
}
