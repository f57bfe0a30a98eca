/**
 * The Redis clients the RedisStore takes, as one axis of its tests: a test that runs on a client
 * runs once per kind in {@link REDIS_CLIENT_KINDS}, against the same real redis-server. Each kind is
 * a library as an app has it (ioredis 6 and 5, node-redis 5 and 4, the older ones installed under
 * aliases), made as its documentation says.
 */
import type { EventEmitter } from 'node:events';
import { Redis as Ioredis6 } from 'ioredis';
import { Redis as Ioredis5 } from 'ioredis5';
import { createClient as createClient5 } from 'redis';
import { createClient as createClient4 } from 'redis4';
import type { RedisClient } from '../../src/stores/redis.js';

export interface MakeOptions {
  /** ms between two reconnection attempts (each library's default otherwise). */
  retryDelay?: number;
}

/** A client of a kind, as the tests hold it: the store's client type, and an event emitter. */
export type TestClient = RedisClient & Pick<EventEmitter, 'listenerCount' | 'once'>;

export interface RedisClientKind {
  name: string;
  /** A new client on `url`, connecting (an app's node-redis client after `client.connect()`). */
  make(url: string, options?: MakeOptions): TestClient;
  /** Whether it is connected and ready for commands. */
  isReady(client: TestClient): boolean;
  /** Whether it is closed for good (no connection, no reconnecting). */
  isClosed(client: TestClient): boolean;
  /** A command sent by the client itself (not through a store): its reply. */
  command(client: TestClient, args: string[]): Promise<unknown>;
  /** Cuts its connection, whatever its state (cleanup of a client the test still holds). */
  discard(client: TestClient): void;
}

/** Resolves when `client` is ready (at once if it is); rejects after `ms`. */
export function whenReady(kind: RedisClientKind, client: TestClient, ms = 5_000): Promise<void> {
  if (kind.isReady(client)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind.name}: not ready within ${ms} ms`)), ms);
    client.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** A client of `kind` on `url`, ready. */
export async function openClient(kind: RedisClientKind, url: string, options?: MakeOptions): Promise<TestClient> {
  const client = kind.make(url, options);
  await whenReady(kind, client);
  return client;
}

type Ioredis = Ioredis6 | Ioredis5;

/** Each library's own client type must fit the store's `RedisClient` (checked by tsc: `satisfies`). */
function ioredisKind(name: string, Client: new (url: string, options: object) => Ioredis): RedisClientKind {
  const of = (client: TestClient) => client as unknown as Ioredis;
  return {
    name,
    // What the store gives the clients it creates: one retry per command, auto-pipelining.
    make: (url, { retryDelay } = {}) =>
      new Client(url, {
        maxRetriesPerRequest: 1,
        enableAutoPipelining: true,
        ...(retryDelay === undefined ? {} : { retryStrategy: () => retryDelay }),
      }) satisfies RedisClient as unknown as TestClient,
    isReady: (client) => of(client).status === 'ready',
    isClosed: (client) => of(client).status === 'end',
    command: (client, [command, ...args]) => of(client).call(command!, ...args),
    discard: (client) => of(client).disconnect(),
  };
}

/** What node-redis 4 and 5 clients share, as the tests use them. */
interface NodeRedis {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  sendCommand(args: string[]): Promise<unknown>;
  disconnect(): Promise<void>;
}

function nodeRedisKind<C extends NodeRedis & RedisClient>(
  name: string,
  createClient: (options: { url: string; socket?: { reconnectStrategy: number } }) => C,
): RedisClientKind {
  const of = (client: TestClient) => client as unknown as NodeRedis;
  return {
    name,
    make: (url, { retryDelay } = {}) => {
      const client = createClient({
        url,
        ...(retryDelay === undefined ? {} : { socket: { reconnectStrategy: retryDelay } }),
      });
      // Its failures are the client's 'error' events, which the store (or the test) listens to.
      client.connect().catch(() => undefined);
      return client as unknown as TestClient;
    },
    isReady: (client) => of(client).isReady,
    isClosed: (client) => !of(client).isOpen,
    command: (client, args) => of(client).sendCommand(args),
    discard: (client) => {
      if (of(client).isOpen)
        of(client)
          .disconnect()
          .catch(() => undefined);
    },
  };
}

export const REDIS_CLIENT_KINDS: readonly RedisClientKind[] = [
  ioredisKind('ioredis 6', Ioredis6),
  ioredisKind('ioredis 5', Ioredis5),
  nodeRedisKind('node-redis 5', createClient5),
  nodeRedisKind('node-redis 4', createClient4),
];
