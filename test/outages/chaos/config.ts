/**
 * The configuration every chaos run uses, in one place: the session options of this library's app
 * processes, the settings of their Redis clients, and the forms of a run (CI's short one and
 * `npm run chaos`'s long one). Every bound the harness checks is derived from these numbers
 * (test/outages/chaos/scenarios.ts); nothing is tuned per machine.
 */

/** This library's options in the chaos apps (the others keep their defaults). */
export const SESSION = {
  /** The default: a store that is back within 10 s is waited for, never answered with a 503. */
  reconnectTimeout: 10_000,
  /** Shorter than the 3 s default, so that a 3 s freeze of Redis outlasts it. */
  storeTimeout: 1_000,
  /** The default. */
  lockTimeout: 5_000,
  /** Shorter than `lockTimeout`: a lock left behind by a request that died is waited out, not a 503. */
  lockLease: 3_000,
} as const;

/** The Redis clients of this library's apps (the reference keeps koa-redis's defaults). */
export const CLIENT = {
  /** ms between two reconnect attempts (ioredis `retryStrategy`, node-redis `reconnectStrategy`). */
  retryDelay: 100,
  /** ioredis: a server still loading its dataset is asked again after at most this many ms. */
  maxLoadingRetryTime: 200,
  /** ioredis Cluster: the slot map is refreshed this often, so a promoted replica is found. */
  slotsRefreshInterval: 1_000,
  /** ioredis Cluster: a refresh that gets no answer is given up after this many ms (its default). */
  slotsRefreshTimeout: 1_000,
} as const;

/**
 * Scheduling slack on a loaded 2-core machine (other test files run beside this one): it tells a
 * request that waited for the store from one that hung, not a fast recovery from a slow one.
 */
export const SLACK = 2_000;

/** How long a request may take before the harness calls it hung: the longest wait this library allows, plus slack. */
export const REQUEST_TIMEOUT = SESSION.reconnectTimeout + SESSION.lockTimeout + 3 * SESSION.storeTimeout + SLACK;

export interface Form {
  name: 'short' | 'long';
  /** Browsers (cookie jars) per app, each sending one request after the other. */
  browsers: number;
  /** ms each browser pauses between two requests (0: back to back). */
  think: number;
  /** ms after the start of the load when the fault is injected. */
  faultAt: number;
  /** ms after the start when a stopped server is restarted or a frozen one thawed. */
  restartAt: number;
  /** The load runs at least this long (ms). */
  duration: number;
  /** Keys written before the LOADING scenario's restart (DEBUG POPULATE), so that loading takes a while. */
  datasetKeys: number;
  /** Requests each browser has answered 200 after the recovery before the load may stop. */
  tail: number;
}

/** CI: 8 browsers, a fault of 1.5 s (longer than `storeTimeout`), a few seconds per scenario. */
export const SHORT: Form = {
  name: 'short',
  browsers: 8,
  think: 25,
  faultAt: 750,
  restartAt: 2_250,
  duration: 3_000,
  datasetKeys: 300_000,
  tail: 3,
};

/** `npm run chaos`: the long run (20 browsers for 12 s, the fault at 3 s, back at 6 s). */
export const LONG: Form = {
  name: 'long',
  browsers: 20,
  think: 0,
  faultAt: 3_000,
  restartAt: 6_000,
  duration: 12_000,
  datasetKeys: 1_500_000,
  tail: 3,
};
