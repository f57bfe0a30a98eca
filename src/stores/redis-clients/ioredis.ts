/**
 * The RedisStore on ioredis 5 or 6: a `Redis` (standalone or Sentinel-backed) or a `Cluster`, the
 * app's or one the store creates. ioredis is only loaded (at run time, from the app's
 * node_modules) when the store has to create a client.
 *
 * Lifecycle: `ready` is `connect`; `close` comes first in every outage (with default settings
 * ioredis retries for ever and never emits `end`, which is why koa-redis, waiting for `end`, never
 * reported an outage); `end` when ioredis gives up.
 */
import { createRequire } from 'node:module';
import type { RedisOptions } from 'ioredis';
import {
  END_TIMEOUT,
  listen,
  QUIT_TIMEOUT,
  within,
  type ConnectionEvents,
  type Listener,
  type RedisConnection,
} from './connection.js';

/**
 * The part of an ioredis `Redis` or `Cluster` the store uses. Structural, so that an app on
 * node-redis needs no ioredis types, and any copy of ioredis 5 or 6 fits.
 */
export interface IoredisClient {
  /** `'ready'` when commands go straight to Redis; `'end'` once closed for good. */
  readonly status: string;
  call(command: string, ...args: (string | number)[]): Promise<unknown>;
  quit(): Promise<unknown>;
  disconnect(): void;
  connect?(): Promise<unknown>;
  on(event: string, listener: Listener): unknown;
  once(event: string, listener: Listener): unknown;
  off(event: string, listener: Listener): unknown;
}

/** Duck-typed: the app's ioredis may be another copy than the one this package would load. */
export function isIoredisClient(value: Record<string, unknown>): value is Record<string, unknown> & IoredisClient {
  return (
    typeof value.status === 'string' &&
    ['call', 'quit', 'disconnect', 'on', 'once', 'off'].every((m) => typeof value[m] === 'function')
  );
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

/** A client of the store's own, from a URL and/or ioredis options. */
export function createIoredisClient(url: string | undefined, redis: object | undefined): IoredisClient {
  let ioredis: typeof import('ioredis');
  try {
    ioredis = createRequire(import.meta.url)('ioredis') as typeof import('ioredis');
  } catch (err) {
    throw new Error('RedisStore: ioredis is not installed (npm install ioredis@6), or pass your own { client }', {
      cause: err,
    });
  }
  const given = redis as RedisOptions | undefined;
  // Behind Sentinel, without ioredis' failover detector a client keeps writing to a demoted master
  // for seconds after a planned failover, and Sentinel then discards those writes.
  const sentinel = given?.sentinels !== undefined ? { failoverDetector: true } : {};
  const options = { ...CLIENT_DEFAULTS, ...sentinel, ...given };
  return url === undefined ? new ioredis.Redis(options) : new ioredis.Redis(url, options);
}

export class IoredisConnection implements RedisConnection {
  constructor(private readonly client: IoredisClient) {}

  get ready(): boolean {
    return this.client.status === 'ready';
  }

  send(_key: string, [command, ...args]: string[]): Promise<unknown> {
    // ioredis finds the key (and so a Cluster's slot) in the arguments itself.
    return this.client.call(command!, ...args);
  }

  watch(events: ConnectionEvents): () => void {
    const client = this.client as IoredisClient & { options?: { sentinels?: unknown }; manuallyClosing?: boolean };
    const sentinel = client.options?.sentinels !== undefined && client.options.sentinels !== null;
    let last = '';
    return listen(this.client, [
      ['ready', () => events.connect()],
      ['connecting', () => (last = 'connecting')],
      [
        'close',
        () => {
          last = 'close';
          events.disconnect();
        },
      ],
      [
        'end',
        () => {
          events.disconnect();
          // ioredis (5 and 6) ends a Sentinel client for good when its failover detector hears
          // +switch-master while the client, between two connections, waits for a sentinel to name
          // the master: the detector's disconnect() makes that connect() reject, and the client goes
          // from `connecting` straight to `end` without asking its retryStrategy. Nobody closed it:
          // connect again. (test/topologies/sentinel.test.ts, "a sentinel that answers late", makes the
          // race happen every time.)
          if (sentinel && last === 'connecting' && client.manuallyClosing !== true)
            client.connect?.().catch(() => undefined);
        },
      ],
      ['error', (err: unknown) => events.error(err)],
    ]);
  }

  /** QUIT, so that pending replies arrive first; the connection is cut when that cannot work. */
  async close(): Promise<void> {
    const client = this.client;
    if (client.status === 'end') return;
    const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
    // Offline (reconnecting), QUIT would wait for a connection: the connection is cut at once.
    // Online, QUIT lets pending replies arrive first, unless the server does not answer it.
    let quit: Promise<boolean> | undefined;
    if (client.status === 'ready') {
      // Commands of this tick wait in the auto-pipeline until the next; QUIT would overtake them.
      await new Promise((resolve) => setImmediate(resolve));
      quit = client.quit().then(
        () => true,
        () => false,
      );
    }
    if (!quit || !(await within(quit, QUIT_TIMEOUT))) client.disconnect();
    // Between two attempts there is no socket, and ioredis only cancels the next attempt: it never
    // emits 'end' then (its status stays 'reconnecting'). Otherwise a socket that does not close is
    // destroyed by ioredis after its disconnectTimeout (2 s).
    if (client.status !== 'reconnecting') await within(ended, END_TIMEOUT);
  }
}
