/**
 * Which store errors are failures of the connection to the store rather than answers about the
 * data: the middleware treats those as an outage (wait for the store, repeat the call once, then
 * 503 or degrade) instead of handing them to the app's `errorHandler`. One table for every store,
 * since koa-redis and hand-written stores sit on the same clients (ioredis, node-redis 4 and 5).
 *
 * Each entry is checked against the real error from a real redis-server in
 * test/outages/connection-failure-errors.test.ts; an entry added here needs its test there.
 */

/**
 * Error classes, by name. ioredis sets `name` on its own classes; node-redis's classes leave
 * `name` as 'Error', so the constructor's name is read too.
 */
const CLASSES: ReadonlySet<string> = new Set([
  // ioredis: a command on the wire, or queued, when the connection died and the client gave up on it.
  'MaxRetriesPerRequestError',
  // ioredis Cluster: no node answered the slots query.
  'ClusterAllFailedError',
  // node-redis 4 and 5
  'SocketClosedUnexpectedlyError',
  'ClientClosedError',
  'ClientOfflineError',
  'ConnectionTimeoutError',
  'ReconnectStrategyError',
  'DisconnectsClientError',
  'RootNodesUnavailableError',
  'SocketTimeoutError',
]);

/** Plain `Error`s of ioredis whose message is all that tells them apart. */
const MESSAGES: ReadonlySet<string> = new Set([
  'Connection is closed.',
  "Stream isn't writeable and enableOfflineQueue options is false",
  "Cluster isn't ready and enableOfflineQueue options is false",
  'None of startup nodes is available',
]);

/** System errors of the socket, as Node reports them (and ioredis' connect timeout imitates). */
const CODES: ReadonlySet<string> = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT']);

/**
 * Redis replies that say the server cannot serve now, not that the command or the data is wrong:
 * still loading its dataset after a restart, a replica (a master demoted by a failover), a slot
 * being moved or not served, a replica cut off from its master.
 */
const REPLIES = /^(?:LOADING|READONLY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN)\b/;

/** How many `cause` links are followed: a store that wraps its client's error is still understood. */
const MAX_CAUSES = 3;

/**
 * ioredis' Cluster gives up on a command after too many redirections with only the text of the
 * last error: `… Last error: Error: Connection is closed.` when a master dies, `… ReplyError: MOVED
 * 14456 …` while its replica takes over the slots. Either way the cluster is between two maps of its
 * slots, which is a state of the connection, never a fault of the data.
 */
const REDIRECTIONS = /^Too many Cluster redirections\. Last error: /;

function failureMessage(message: string): boolean {
  return MESSAGES.has(message) || REPLIES.test(message) || REDIRECTIONS.test(message);
}

function matches(err: object): boolean {
  const { name, message, code } = err as { name?: unknown; message?: unknown; code?: unknown };
  if (typeof name === 'string' && CLASSES.has(name)) return true;
  if (CLASSES.has((err as { constructor?: { name?: string } }).constructor?.name ?? '')) return true;
  if (typeof code === 'string' && CODES.has(code)) return true;
  return typeof message === 'string' && failureMessage(message);
}

/** Whether `err` (or an error it wraps as its `cause`) is a failure of the connection to the store. */
export function isConnectionFailure(err: unknown): boolean {
  let current = err;
  for (let depth = 0; depth <= MAX_CAUSES; depth++) {
    if (current === null || typeof current !== 'object') return false;
    if (matches(current)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
