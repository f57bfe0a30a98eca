/**
 * The Redis side of the chaos scenarios, on loopback, from the test helpers' real servers: one
 * redis-server on an append-only file synced on every write (optionally filled with a large dataset
 * first), a Redis Cluster whose masters each get a replica, and a Sentinel set. And what the faults
 * need: watching servers (loading, promotion) and reading what a replica holds when its master dies
 * (killing and freezing are ../../helpers/stop-process.ts and ../../helpers/kernel.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { redisCommand } from '../../../bench/harness.js';
import { startRedisServer, type RedisServer } from '../../helpers/redis-server.js';
import {
  clusterNodeArgs,
  disposeNode,
  spawnRedisNode,
  startRedisCluster,
  type RedisCluster,
  type RedisNode,
} from '../../helpers/redis-cluster.js';
import { startSentinelSet, MASTER_NAME, type SentinelSet } from '../../helpers/redis-sentinel.js';
import { waitUntil } from '../../helpers/wait-until.js';

/** How often the fault injection looks at Redis while it waits for something (ms). */
const POLL = 20;

/** `INFO <section>` as a map of its fields; raw RESP, so it is answered while the server loads. */
export async function info(port: number, section: string): Promise<Map<string, string>> {
  const text = await redisCommand(port, 'INFO', section);
  return new Map(
    text.split('\r\n').flatMap((line) => (line.includes(':') ? [line.split(':', 2) as [string, string]] : [])),
  );
}

/**
 * Polls a restarted server until it has loaded its dataset; whether it was seen loading (answering
 * LOADING to commands) at all, and when it finished (ms on `clock`).
 */
export async function loaded(
  port: number,
  clock: () => number,
  timeoutMs: number,
): Promise<{ sawLoading: boolean; at: number }> {
  let sawLoading = false;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const loading = (await info(port, 'persistence')).get('loading') === '1';
    if (!loading) return { sawLoading, at: clock() };
    sawLoading = true;
    if (Date.now() > deadline) throw new Error(`redis :${port} still loading after ${timeoutMs} ms`);
    await sleep(POLL);
  }
}

// ---------------------------------------------------------------------------------------------
// One server on its append-only file

export interface Standalone {
  server: RedisServer;
  env: Record<string, string>;
  dispose(): Promise<void>;
}

/**
 * A redis-server on an append-only file with `appendfsync always`: a write it acknowledged is on
 * disk, and it is still there after a SIGKILL and a restart. With `datasetKeys`, that many filler
 * keys are written first (DEBUG POPULATE) and the file rewritten, so that a restart spends a while
 * loading them, answering LOADING meanwhile.
 */
export async function startStandalone(datasetKeys = 0): Promise<Standalone> {
  const server = await startRedisServer({ persist: true, args: datasetKeys ? ['--enable-debug-command', 'yes'] : [] });
  try {
    if (datasetKeys) {
      await redisCommand(server.port, 'DEBUG', 'POPULATE', String(datasetKeys), 'chaos:filler', '100');
      // DEBUG POPULATE is not logged to the append-only file: a rewrite puts the dataset there.
      await redisCommand(server.port, 'BGREWRITEAOF');
      await waitUntil(
        async () => {
          const p = await info(server.port, 'persistence');
          return p.get('aof_rewrite_in_progress') === '0' && p.get('aof_rewrite_scheduled') === '0';
        },
        60_000,
        () => 'the append-only file rewrite never finished',
      );
    }
  } catch (err) {
    await server.dispose();
    throw err;
  }
  return { server, env: { REDIS_URL: server.url }, dispose: () => server.dispose() };
}

// ---------------------------------------------------------------------------------------------
// A Cluster with a replica per master

export interface ReplicatedCluster {
  cluster: RedisCluster;
  /** Each master's replica, by the master's port. */
  replicaOf: Map<number, RedisNode>;
  env: Record<string, string>;
  dispose(): Promise<void>;
}

/**
 * The test helpers' three-master Cluster, and a replica for each master (a cluster-enabled
 * redis-server that meets the cluster and replicates it, with the masters' arguments), so that
 * killing a master promotes its replica.
 */
export async function startReplicatedCluster(): Promise<ReplicatedCluster> {
  const cluster = await startRedisCluster(3);
  const replicas: RedisNode[] = [];
  const replicaOf = new Map<number, RedisNode>();
  const dispose = async () => {
    await Promise.all(replicas.splice(0).map(disposeNode));
    await cluster.dispose();
  };
  try {
    for (const masterPort of cluster.ports) {
      const replica = await spawnRedisNode(clusterNodeArgs, 'cluster-replica');
      replicas.push(replica);
      replicaOf.set(masterPort, replica);
      const client = cluster.node(replica.port);
      const master = cluster.node(masterPort);
      const masterId = String(await master.cluster('MYID'));
      // The master would wait 5 s for more replicas before it starts a diskless full sync.
      await master.config('SET', 'repl-diskless-sync-delay', '0');
      await client.cluster('MEET', '127.0.0.1', masterPort);
      await waitUntil(
        async () => String(await client.cluster('NODES')).includes(masterId),
        15_000,
        () => `replica :${replica.port} never met :${masterPort}`,
      );
      await client.cluster('REPLICATE', masterId);
      await waitUntil(
        async () => /master_link_status:up/.test(await client.info('replication')),
        15_000,
        () => `replica :${replica.port} never synced with :${masterPort}`,
      );
    }
    const total = cluster.ports.length * 2;
    for (const port of [...cluster.ports, ...replicas.map((r) => r.port)]) {
      await waitUntil(
        async () => {
          const text = String(await cluster.node(port).cluster('INFO'));
          return /cluster_state:ok/.test(text) && new RegExp(`cluster_known_nodes:${total}\\b`).test(text);
        },
        15_000,
        () => `node :${port} never saw all ${total} nodes`,
      );
    }
  } catch (err) {
    await dispose();
    throw err;
  }
  return { cluster, replicaOf, env: { CLUSTER_NODES: cluster.ports.join(',') }, dispose };
}

// ---------------------------------------------------------------------------------------------
// Sentinel

export interface Sentinel {
  set: SentinelSet;
  env: Record<string, string>;
  dispose(): Promise<void>;
}

/** The test helpers' Sentinel set: a master, a replica, three sentinels (quorum 2). */
export async function startSentinel(): Promise<Sentinel> {
  const set = await startSentinelSet();
  return {
    set,
    env: { SENTINELS: set.sentinelPorts.join(','), SENTINEL_NAME: MASTER_NAME },
    dispose: () => set.dispose(),
  };
}

// ---------------------------------------------------------------------------------------------
// Replicas

/**
 * The counts a replica holds for `keys`, read after it lost its master and before it is promoted:
 * in between it takes no writes, so this is exactly what it had received. Rejects if it was
 * promoted before the read ended (then the figures would not be exact).
 */
export async function replicaCounts(
  replica: Redis,
  keys: string[],
  clusterNode: boolean,
): Promise<Map<string, number>> {
  await waitUntil(
    async () => /master_link_status:down/.test(await replica.info('replication')),
    5_000,
    () => 'the replica never noticed that its master died',
  );
  // A cluster replica serves reads only to a connection that asks for it.
  if (clusterNode) await replica.call('READONLY');
  const counts = new Map<string, number>();
  for (const key of keys) {
    const json = await replica.get(key);
    const count = json === null ? 0 : (JSON.parse(json) as { count?: unknown }).count;
    counts.set(key, typeof count === 'number' ? count : 0);
  }
  if (!/role:slave/.test(await replica.info('replication')))
    throw new Error('the replica was promoted before its counts were read');
  return counts;
}

/**
 * Whether the node on `port` has become a master. Asked on a new connection each time: Sentinel
 * closes the clients of a node it promotes.
 */
export async function isMaster(port: number): Promise<boolean> {
  return (await info(port, 'replication')).get('role') === 'master';
}
