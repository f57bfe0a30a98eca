/**
 * The client kinds the RedisStore takes, told apart by what the client has (duck typing: the
 * app's copy of a library may differ from any this package could load).
 */
import type { RedisConnection } from './connection.js';
import { IoredisConnection, isIoredisClient, type IoredisClient } from './ioredis.js';
import {
  isNodeRedisClient,
  isNodeRedisCluster,
  NodeRedisClientConnection,
  NodeRedisClusterConnection,
  type NodeRedisClient,
  type NodeRedisCluster,
} from './node-redis.js';

export type { IoredisClient, NodeRedisClient, NodeRedisCluster };

/** A client the RedisStore takes: ioredis 5 or 6 (`Redis`, `Cluster`), node-redis 4 or 5 (`createClient`, `createCluster`). */
export type RedisClient = IoredisClient | NodeRedisClient | NodeRedisCluster;

/** The store's connection through `client`; a TypeError that says what to pass when it is none of the kinds. */
export function connectionFor(client: unknown): RedisConnection {
  const value = client !== null && typeof client === 'object' ? (client as Record<string, unknown>) : {};
  if (isIoredisClient(value)) return new IoredisConnection(value);
  if (isNodeRedisClient(value)) return new NodeRedisClientConnection(value);
  if (isNodeRedisCluster(value)) {
    // A cluster tells nobody when it opens (node-redis 4 emits nothing): it must be opened first.
    if (!value.isOpen)
      throw new TypeError('RedisStore: connect a node-redis cluster before passing it (await cluster.connect())');
    return new NodeRedisClusterConnection(value);
  }
  throw new TypeError(
    'RedisStore: client must be an ioredis Redis or Cluster, or a node-redis client (createClient) or cluster (createCluster)',
  );
}
