/**
 * The Redis store, on ioredis 6 (an optional peer dependency) (SPEC §7). Sessions are JSON under
 * the middleware's key (prefix + sid), written with `SET … PX` so that Redis expires them.
 *
 * ioredis is never imported at run time unless the store has to create a client: the package loads
 * without it, and an app that passes its own client (a `Redis`, a Sentinel-backed `Redis` or a
 * `Cluster`) decides which copy is used.
 *
 * The client's lifecycle is folded into the two events the middleware's connection machine needs:
 * `connect` when the client is ready, `disconnect` on the first `close` of an outage (ioredis with
 * default settings retries forever and never emits `end`, which is why koa-redis, which waits for
 * `end`, never reported an outage), and `close` once when the app shuts the store down.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { jsonForWrite, sessionFromJson } from './serialized.js';
import { KeyedQueue } from './keyed-queue.js';
import type { LockOptions, SessionLock, SessionStore, StoredSession } from './types.js';

/** What the store talks to: an ioredis `Redis` (standalone or Sentinel) or `Cluster`. */
export type RedisClient = Redis | Cluster;

export interface RedisStoreOptions {
  /** A client of the app's. `close()` quits it unless asked not to (`close({ keepClient: true })`). */
  client?: RedisClient;
  /** A `redis://` or `rediss://` URL: the store creates its own client. */
  url?: string | URL;
  /** ioredis options for a client the store creates (with `url`, they complement it). */
  redis?: RedisOptions;
}

export interface RedisStoreCloseOptions {
  /** Leave a client that was passed in open (the store only stops using it). */
  keepClient?: boolean;
}

/**
 * Defaults for clients the store creates. One retry per command, so that an outage turns into
 * errors rather than commands queued for ever; the middleware bounds each store call anyway.
 */
const CLIENT_DEFAULTS: RedisOptions = {
  maxRetriesPerRequest: 1,
  enableOfflineQueue: true,
  lazyConnect: false,
  // Commands of concurrent requests issued in the same tick leave in one write: on a loaded server
  // the socket writes, not Redis, were the largest cost per request in the profile.
  enableAutoPipelining: true,
};

/** How long `close()` waits for the answer to QUIT before it cuts the connection. */
const QUIT_TIMEOUT = 1_000;
/** How long `close()` then waits for the connection to end (ioredis destroys it after 2 s). */
const END_TIMEOUT = 3_000;

const KNOWN_OPTIONS = new Set(['client', 'url', 'redis']);

function fail(message: string): never {
  throw new TypeError(`RedisStore: ${message}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Duck-typed: the app's ioredis may be another copy than the one this package would load. */
function isIoredisClient(value: unknown): value is RedisClient {
  if (!isObject(value)) return false;
  return (
    typeof value.status === 'string' &&
    ['get', 'set', 'del', 'pexpire', 'on', 'quit', 'disconnect'].every((m) => typeof value[m] === 'function')
  );
}

function createClient(url: string | undefined, redis: RedisOptions | undefined): RedisClient {
  let ioredis: typeof import('ioredis');
  try {
    ioredis = createRequire(import.meta.url)('ioredis') as typeof import('ioredis');
  } catch (err) {
    throw new Error('RedisStore: ioredis is not installed (npm install ioredis@6), or pass your own { client }', {
      cause: err,
    });
  }
  // Behind Sentinel, without ioredis' failover detector a client keeps writing to a demoted master
  // for seconds after a planned failover, and Sentinel then discards those writes.
  const sentinel = redis?.sentinels !== undefined ? { failoverDetector: true } : {};
  const options = { ...CLIENT_DEFAULTS, ...sentinel, ...redis };
  return url === undefined ? new ioredis.Redis(options) : new ioredis.Redis(url, options);
}

/** `promise`'s value, or `undefined` when it takes longer than `ms`. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Deletes the lock only if it still holds this owner's token: a late release never frees another's. */
const RELEASE_LOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;
/** Extends the lease only if the lock is still this owner's. */
const RENEW_LOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
/** The longest pause between two attempts at a busy lock. */
const MAX_LOCK_POLL = 25;

/**
 * The lock's key, in the session key's Cluster slot: Redis hashes only the part of a key inside its
 * first `{…}`, so the lock key carries the whole session key as its hash tag, or the session key's
 * own hash tag when it has one.
 */
export function lockKeyFor(key: string): string {
  const open = key.indexOf('{');
  const close = open < 0 ? -1 : key.indexOf('}', open + 1);
  return close > open + 1 ? `${key}:lock` : `{${key}}:lock`;
}

function closedError(): Error {
  return Object.assign(new Error('RedisStore: the store is closed'), { code: 'ERR_STORE_CLOSED' });
}

/** `ttl` as a PX argument, `undefined` for no expiry. Redis refuses 0 and fractions. */
function px(ttl: number | undefined): number | undefined {
  if (ttl === undefined || ttl === Infinity) return undefined;
  if (typeof ttl !== 'number' || Number.isNaN(ttl)) fail(`ttl must be a number of ms or undefined, got ${String(ttl)}`);
  return Math.max(1, Math.ceil(ttl));
}

/**
 * A session store on Redis through ioredis.
 *
 * ```ts
 * const store = new RedisStore({ url: 'redis://127.0.0.1:6379' });
 * app.use(session({ store }));
 * // on shutdown:
 * await store.close();
 * ```
 *
 * Events: `connect` (the client is ready again), `disconnect` (it lost its connection), `close`
 * (after {@link RedisStore.close}), and `error` (the client's errors, forwarded only while someone
 * listens, so that a connection error never crashes the process).
 */
export class RedisStore extends EventEmitter implements SessionStore {
  /** The ioredis client, for commands of the app's own (it stays the store's to close). */
  readonly client: RedisClient;
  private readonly ownsClient: boolean;
  /** The last lifecycle event reported, so that each transition is reported once. */
  private reported: 'connect' | 'disconnect';
  private closing: Promise<void> | undefined;
  /** This process's requests take turns per lock key before contending in Redis. */
  private readonly turns = new KeyedQueue();
  private readonly clientListeners: [string, (...args: any[]) => void][];

  constructor(options: RedisStoreOptions) {
    super();
    if (!isObject(options)) fail('options must be an object: { client }, { url } or { redis }');
    for (const key of Object.keys(options)) {
      if (!KNOWN_OPTIONS.has(key)) {
        fail(`unknown option "${key}"; connection settings go in { redis: { … } }, e.g. { redis: { host, port } }`);
      }
    }
    const { client, url, redis } = options;
    if (url !== undefined && !(typeof url === 'string' && url !== '') && !(url instanceof URL)) {
      fail(`url must be a non-empty string or a URL, got ${typeof url}`);
    }
    if (redis !== undefined && !isObject(redis)) fail('redis must be an object of ioredis options');
    if (client !== undefined) {
      if (!isIoredisClient(client)) fail('client must be an ioredis Redis or Cluster instance');
      if (url !== undefined || redis !== undefined) fail('pass either { client } or { url, redis }, not both');
      this.client = client;
      this.ownsClient = false;
    } else {
      if (url === undefined && redis === undefined) fail('pass { client }, { url } or { redis } (ioredis options)');
      this.client = createClient(url === undefined ? undefined : String(url), redis);
      this.ownsClient = true;
    }
    // A client already ready (the app's, connected before) is reported as connected from the
    // start; any other begins "disconnected", so that its first `ready` is reported as `connect`.
    this.reported = this.client.status === 'ready' ? 'connect' : 'disconnect';
    this.clientListeners = [
      ['ready', () => this.report('connect')],
      // `close` comes first in every outage; `end` only when ioredis gives up reconnecting.
      ['close', () => this.report('disconnect')],
      ['end', () => this.report('disconnect')],
      ['error', (err: unknown) => !this.closing && this.listenerCount('error') > 0 && this.emit('error', err)],
    ];
    for (const [event, listener] of this.clientListeners) this.client.on(event, listener);
  }

  /** Whether {@link RedisStore.close} was called: a `close` event of this store is a shutdown. */
  get closed(): boolean {
    return this.closing !== undefined;
  }

  /** Whether commands go straight to Redis now. */
  get connected(): boolean {
    return !this.closing && this.client.status === 'ready';
  }

  /** The session under `key`, or `undefined` when there is none or what is there is no session. */
  async get(key: string): Promise<StoredSession | undefined> {
    this.assertOpen();
    const json = await this.client.get(key);
    return json === null ? undefined : sessionFromJson(json);
  }

  /** `SET key json PX ttl`; without a `ttl` (the app asked for no expiry), a plain `SET`. */
  async set(key: string, session: StoredSession, ttl?: number): Promise<void> {
    this.assertOpen();
    const ms = px(ttl);
    const json = jsonForWrite(session);
    await (ms === undefined ? this.client.set(key, json) : this.client.set(key, json, 'PX', ms));
  }

  /**
   * `SET key json PX ttl XX`: writes only if `key` still exists. `false` when it does not, so that
   * a slow request never brings back a session that another request destroyed (SPEC §5.6).
   */
  async update(key: string, session: StoredSession, ttl?: number): Promise<boolean> {
    this.assertOpen();
    const ms = px(ttl);
    const json = jsonForWrite(session);
    const reply = await (ms === undefined
      ? this.client.set(key, json, 'XX')
      : this.client.set(key, json, 'PX', ms, 'XX'));
    return reply === 'OK';
  }

  /** `PEXPIRE key ttl` (`PERSIST` without a `ttl`): `false` when `key` does not exist. */
  async touch(key: string, ttl?: number): Promise<boolean> {
    this.assertOpen();
    const ms = px(ttl);
    if (ms !== undefined) return (await this.client.pexpire(key, ms)) === 1;
    // PERSIST answers 0 both for a missing key and for one without expiry: ask EXISTS too, in the
    // same transaction (one key, so one slot: fine on a Cluster).
    const replies = await this.client.multi().persist(key).exists(key).exec();
    const exists = replies?.[1];
    if (exists?.[0]) throw exists[0];
    return exists?.[1] === 1;
  }

  /** `DEL key`. */
  async destroy(key: string): Promise<void> {
    this.assertOpen();
    await this.client.del(key);
  }

  /**
   * A lease lock on the session (`concurrency: 'serialize'`), safe across processes: `SET NX PX`
   * with a random token; the lease is renewed while the lock is held, so a long request keeps it
   * and a dead holder loses it after `lease`; only the owner's token releases it (a Lua
   * compare-and-delete). Requests of this process take turns first (woken in order when the one
   * before releases), so only one of them at a time retries `SET NX`, with a growing pause, against
   * holders in other processes. Gives up with `undefined` when `wait` runs out.
   */
  async lock(key: string, options: LockOptions): Promise<SessionLock | undefined> {
    this.assertOpen();
    const lockKey = lockKeyFor(key);
    const deadline = Date.now() + options.wait;
    const turn = this.turns.enter(lockKey, options.wait);
    if (turn !== true && !(await turn)) return undefined;
    const token = randomBytes(16).toString('base64url');
    try {
      for (let pause = 1; ; pause = Math.min(pause * 2, MAX_LOCK_POLL)) {
        if ((await this.client.set(lockKey, token, 'PX', options.lease, 'NX')) === 'OK') break;
        const left = deadline - Date.now();
        if (left <= 0) {
          this.turns.leave(lockKey);
          return undefined;
        }
        await sleep(Math.min(pause + Math.random() * pause, left));
      }
    } catch (err) {
      this.turns.leave(lockKey);
      throw err;
    }
    const client = this.client;
    const renew = setInterval(() => {
      client.eval(RENEW_LOCK, 1, lockKey, token, options.lease).catch(() => undefined);
    }, Math.max(1, Math.floor(options.lease / 3)));
    renew.unref();
    let released: Promise<unknown> | undefined;
    return {
      release: () => {
        clearInterval(renew);
        // The next request of this process gets its turn once the lock is gone from Redis.
        released ??= client.eval(RELEASE_LOCK, 1, lockKey, token).finally(() => this.turns.leave(lockKey));
        return released;
      },
    };
  }

  /**
   * Shuts the store down gracefully: QUITs the client, so that pending replies arrive first (the
   * connection is cut instead when the client is offline, or when QUIT fails or is not answered
   * within a second), then emits `close` once. It resolves within about 4 s in every case.
   * Calls made afterwards reject. The middleware takes `close` as a shutdown, not an outage: it
   * does not wait for a reconnect, and no `disconnect` is emitted for the connection's end.
   *
   * This replaces koa-redis's advice to overwrite `client.emit` (so that quitting would not look
   * like an outage to koa-generic-session): call `await store.close()` instead.
   *
   * A client the app passed in is quit too, unless `{ keepClient: true }`; then the store only
   * stops listening to it. Calling `close()` again returns the same promise.
   */
  close(options: RedisStoreCloseOptions = {}): Promise<void> {
    this.closing ??= this.shutDown(options.keepClient === true && !this.ownsClient);
    return this.closing;
  }

  private async shutDown(keepClient: boolean): Promise<void> {
    if (keepClient) {
      for (const [event, listener] of this.clientListeners) this.client.off(event, listener);
    } else {
      // Our listeners stay on the client being closed: `report` ignores its last events, and the
      // error listener keeps a late socket error from being logged as unhandled.
      await this.quitClient();
    }
    this.emit('close');
  }

  private async quitClient(): Promise<void> {
    const client = this.client;
    if (client.status === 'end') return;
    const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
    // Offline (reconnecting), QUIT would wait for a connection: the connection is cut at once.
    // Online, QUIT lets pending replies arrive first, unless the server does not answer it.
    const quit = client.status === 'ready' ? client.quit().then(() => true, () => false) : undefined;
    if (!quit || !(await within(quit, QUIT_TIMEOUT))) client.disconnect();
    // Between two attempts there is no socket, and ioredis only cancels the next attempt: it never
    // emits 'end' then (its status stays 'reconnecting'). Otherwise a socket that does not close is
    // destroyed by ioredis after its disconnectTimeout (2 s).
    if (client.status !== 'reconnecting') await within(ended, END_TIMEOUT);
  }

  private report(event: 'connect' | 'disconnect'): void {
    if (this.closing || this.reported === event) return;
    this.reported = event;
    this.emit(event);
  }

  private assertOpen(): void {
    if (this.closing) throw closedError();
  }
}
