/**
 * The Redis store, on the client the app already has: ioredis 5 or 6 (`Redis`, Sentinel-backed
 * `Redis`, `Cluster`) or node-redis 4 or 5 (`createClient`, `createCluster`), both optional peer
 * dependencies. Sessions are JSON under the middleware's key (prefix + sid), as koa-redis keeps
 * them, with a `PX` expiry so that Redis expires them; the middleware writes them with a
 * compare-and-set script (COMPARE_AND_SET below). Every client kind runs the same commands; what differs
 * between them (how a command is sent, the lifecycle events, closing) is in ./redis-clients/.
 *
 * Neither library is imported at run time unless the store has to create a client (then ioredis):
 * the package loads without them, and an app that passes its own client decides which copy is used.
 *
 * The client's lifecycle is folded into the two events the middleware's connection machine needs:
 * `connect` when the client is ready, `disconnect` on the first sign of a lost connection, and
 * `close` once when the app shuts the store down.
 */
import { hash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { storeClosedError } from './errors.js';
import { jsonForWrite, sessionFromJson } from './serialized.js';
import { connectionFor, type RedisClient } from './redis-clients/index.js';
import type { RedisConnection } from './redis-clients/connection.js';
import { createIoredisClient } from './redis-clients/ioredis.js';
import { LeaseLocks } from './redis-lock.js';
import { RedisScript } from './redis-script.js';
import { RedisOwnerIndexes } from './redis-owner-index.js';
import type {
  CompareAndSetReply,
  ListedOwnerIndexEntry,
  LockOptions,
  OwnerIndexEntry,
  SessionLock,
  SessionStore,
  StoredSession,
  VersionedEntry,
} from './types.js';

export type { RedisClient };

export interface RedisStoreOptions<Client extends RedisClient = RedisClient> {
  /**
   * A client of the app's: ioredis 5 or 6, or node-redis 4 or 5 (a cluster already connected).
   * `close()` closes it unless asked not to (`close({ keepClient: true })`).
   */
  client?: Client;
  /** A `redis://` or `rediss://` URL: the store creates its own ioredis client. */
  url?: string | URL;
  /** ioredis options (`RedisOptions`) for a client the store creates (with `url`, they complement it). */
  redis?: object;
}

export interface RedisStoreCloseOptions {
  /** Leave a client that was passed in open (the store only stops using it). */
  keepClient?: boolean;
}

const KNOWN_OPTIONS = new Set(['client', 'url', 'redis']);

/**
 * The fenced write (`compareAndSet`), one script on one key, so that it is atomic and runs on a
 * Cluster as on a single Redis. A version is the stored value itself, compared by its SHA-1 (the
 * caller sends the SHA-1 of the value it read, `''` when it expects no entry): nothing is stored
 * beside the session, so the entries stay what koa-redis reads and writes. A value that already
 * holds exactly what is written counts as written (the repeat of a write that landed). Replies: 1
 * written, 0 gone, or the value that is there instead.
 */
const COMPARE_AND_SET = new RedisScript(`local current = redis.call('GET', KEYS[1])
if current ~= ARGV[2] then
  if current then
    if ARGV[1] == '' or redis.sha1hex(current) ~= ARGV[1] then return current end
  elseif ARGV[1] ~= '' then
    return 0
  end
end
if ARGV[3] == '' then redis.call('SET', KEYS[1], ARGV[2]) else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
return 1`);

/** `PERSIST` answers 0 both for a missing key and for one without expiry: `EXISTS` tells them apart. */
const PERSIST_EXISTING = `redis.call('PERSIST', KEYS[1]) return redis.call('EXISTS', KEYS[1])`;

function fail(message: string): never {
  throw new TypeError(`RedisStore: ${message}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** `ttl` as a PX argument, `undefined` for no expiry. Redis refuses 0 and fractions. */
function px(ttl: number | undefined): string | undefined {
  if (ttl === undefined || ttl === Infinity) return undefined;
  if (typeof ttl !== 'number' || Number.isNaN(ttl)) fail(`ttl must be a number of ms or undefined, got ${String(ttl)}`);
  return String(Math.max(1, Math.ceil(ttl)));
}

/** `SET key json [PX ms] [XX | NX]`: `condition` writes only an existing (XX) or a missing (NX) key. */
function setCommand(key: string, json: string, ms: string | undefined, condition?: 'XX' | 'NX'): string[] {
  const args = ['SET', key, json];
  if (ms !== undefined) args.push('PX', ms);
  if (condition) args.push(condition);
  return args;
}

/**
 * A session store on Redis.
 *
 * ```ts
 * const store = new RedisStore({ url: 'redis://127.0.0.1:6379' });      // its own ioredis client
 * const client = createClient({ url });  await client.connect();         // or the app's node-redis
 * app.use(session({ store: new RedisStore({ client }) }));
 * // on shutdown:
 * await store.close();
 * ```
 *
 * Events: `connect` (the client is ready again), `disconnect` (it lost its connection), `close`
 * (after {@link RedisStore.close}), and `error` (the client's errors, forwarded only while someone
 * listens, so that a connection error never crashes the process).
 */
export class RedisStore<Client extends RedisClient = RedisClient> extends EventEmitter implements SessionStore {
  /** The client, for commands of the app's own (it stays the store's to close). */
  readonly client: Client;
  private readonly connection: RedisConnection;
  private readonly ownsClient: boolean;
  private readonly locks: LeaseLocks;
  private readonly indexes: RedisOwnerIndexes;
  /** The last lifecycle event reported, so that each transition is reported once. */
  private reported: 'connect' | 'disconnect';
  private closing: Promise<void> | undefined;
  private readonly unwatch: () => void;

  constructor(options: RedisStoreOptions<Client>) {
    super();
    if (!isObject(options as unknown)) fail('options must be an object: { client }, { url } or { redis }');
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
      if (url !== undefined || redis !== undefined) fail('pass either { client } or { url, redis }, not both');
      this.connection = connectionFor(client);
      this.client = client;
      this.ownsClient = false;
    } else {
      if (url === undefined && redis === undefined) fail('pass { client }, { url } or { redis } (ioredis options)');
      this.client = createIoredisClient(url === undefined ? undefined : String(url), redis) as Client;
      this.connection = connectionFor(this.client);
      this.ownsClient = true;
    }
    this.locks = new LeaseLocks(this.connection);
    this.indexes = new RedisOwnerIndexes(this.connection);
    // A client already ready (the app's, connected before) is reported as connected from the
    // start; any other begins "disconnected", so that its first readiness is reported as `connect`.
    this.reported = this.connection.ready ? 'connect' : 'disconnect';
    this.unwatch = this.connection.watch({
      connect: () => this.report('connect'),
      disconnect: () => this.report('disconnect'),
      error: (err) => !this.closing && this.listenerCount('error') > 0 && this.emit('error', err),
    });
  }

  /** Whether {@link RedisStore.close} was called: a `close` event of this store is a shutdown. */
  get closed(): boolean {
    return this.closing !== undefined;
  }

  /** Whether commands go straight to Redis now. */
  get connected(): boolean {
    return !this.closing && this.connection.ready;
  }

  /** The session under `key`, or `undefined` when there is none or what is there is no session. */
  async get(key: string): Promise<StoredSession | undefined> {
    this.assertOpen();
    const json = await this.connection.send(key, ['GET', key]);
    return json === null ? undefined : sessionFromJson(String(json));
  }

  /** The session under `key` and its version, the JSON stored (the `compareAndSet` capability). */
  async getVersioned(key: string): Promise<VersionedEntry | undefined> {
    this.assertOpen();
    const json = await this.connection.send(key, ['GET', key]);
    if (json === null) return undefined;
    const version = String(json);
    return { session: sessionFromJson(version), version };
  }

  /**
   * Writes only if the value under `key` is still `expected` (`null`: only if there is none), in one
   * script (see COMPARE_AND_SET); otherwise writes nothing and replies with what is there.
   */
  async compareAndSet(
    key: string,
    session: StoredSession,
    ttl: number | undefined,
    expected: string | null,
  ): Promise<CompareAndSetReply> {
    this.assertOpen();
    const json = jsonForWrite(session);
    const read = expected === null ? '' : hash('sha1', expected);
    const reply = await COMPARE_AND_SET.run(this.connection, key, [read, json, px(ttl) ?? '']);
    if (reply === 1) return { written: true, version: json };
    if (reply === 0 || reply === null) return { written: false };
    const current = String(reply);
    return { written: false, current: { session: sessionFromJson(current), version: current } };
  }

  /** `SET key json PX ttl`; without a `ttl` (the app asked for no expiry), a plain `SET`. */
  async set(key: string, session: StoredSession, ttl?: number): Promise<void> {
    this.assertOpen();
    await this.connection.send(key, setCommand(key, jsonForWrite(session), px(ttl)));
  }

  /**
   * `SET key json PX ttl XX`: writes only if `key` still exists. `false` when it does not, so that
   * a slow request never brings back a session that another request destroyed.
   */
  async update(key: string, session: StoredSession, ttl?: number): Promise<boolean> {
    this.assertOpen();
    return (await this.connection.send(key, setCommand(key, jsonForWrite(session), px(ttl), 'XX'))) === 'OK';
  }

  /**
   * `SET key json PX ttl NX`: writes only if `key` does not exist yet. With `hashIds`, exactly one
   * request moves a session from its plain key to its hashed key.
   */
  async add(key: string, session: StoredSession, ttl?: number): Promise<boolean> {
    this.assertOpen();
    return (await this.connection.send(key, setCommand(key, jsonForWrite(session), px(ttl), 'NX'))) === 'OK';
  }

  /** `PEXPIRE key ttl` (`PERSIST` without a `ttl`): `false` when `key` does not exist. */
  async touch(key: string, ttl?: number): Promise<boolean> {
    this.assertOpen();
    const ms = px(ttl);
    const args = ms === undefined ? ['EVAL', PERSIST_EXISTING, '1', key] : ['PEXPIRE', key, ms];
    return (await this.connection.send(key, args)) === 1;
  }

  /** `DEL key`. */
  async destroy(key: string): Promise<void> {
    this.assertOpen();
    await this.connection.send(key, ['DEL', key]);
  }

  /**
   * A lease lock on the session (`concurrency: 'serialize'`), safe across processes: see
   * ./redis-lock.ts. Gives up with `undefined` when `wait` runs out.
   */
  async lock(key: string, options: LockOptions): Promise<SessionLock | undefined> {
    this.assertOpen();
    return this.locks.acquire(key, options);
  }

  /** The `index` capability (the `owner` option): one hash and one sorted set per owner, see ./redis-owner-index.ts. */
  async indexAdd(ownerKey: string, handle: string, entry: OwnerIndexEntry, expiresAt: number): Promise<void> {
    this.assertOpen();
    await this.indexes.add(ownerKey, handle, entry, expiresAt);
  }

  async indexRemove(ownerKey: string, handle: string): Promise<void> {
    this.assertOpen();
    await this.indexes.remove(ownerKey, handle);
  }

  async indexList(ownerKey: string): Promise<ListedOwnerIndexEntry[]> {
    this.assertOpen();
    return this.indexes.list(ownerKey);
  }

  /**
   * Shuts the store down gracefully: closes the client, so that pending replies arrive first (the
   * connection is cut instead when the client is offline, or when Redis does not answer within a
   * second), then emits `close` once. It resolves within about 4 s in every case.
   * Calls made afterwards reject. The middleware takes `close` as a shutdown, not an outage: it
   * does not wait for a reconnect, and no `disconnect` is emitted for the connection's end.
   *
   * This replaces koa-redis's advice to overwrite `client.emit` (so that quitting would not look
   * like an outage to koa-generic-session): call `await store.close()` instead.
   *
   * A client the app passed in is closed too, unless `{ keepClient: true }`; then the store only
   * stops listening to it (a node-redis client then needs an `error` listener of the app's, as it
   * did before the store). Calling `close()` again returns the same promise.
   */
  close(options: RedisStoreCloseOptions = {}): Promise<void> {
    this.closing ??= this.shutDown(options.keepClient === true && !this.ownsClient);
    return this.closing;
  }

  private async shutDown(keepClient: boolean): Promise<void> {
    if (keepClient) {
      this.unwatch();
    } else {
      // Our listeners stay on the client being closed: `report` ignores its last events, and the
      // error listener keeps a late socket error from being logged as unhandled (or thrown).
      await this.connection.close();
    }
    this.emit('close');
  }

  private report(event: 'connect' | 'disconnect'): void {
    if (this.closing || this.reported === event) return;
    this.reported = event;
    this.emit(event);
  }

  private assertOpen(): void {
    if (this.closing) throw storeClosedError('RedisStore');
  }
}
