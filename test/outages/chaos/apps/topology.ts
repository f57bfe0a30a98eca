/**
 * Where a chaos app process finds Redis, from its environment (set by test/outages/chaos/app-process.ts):
 * REDIS_URL for one server, CLUSTER_NODES=port,port,… for a Cluster, or SENTINELS=port,port,…
 * with SENTINEL_NAME for a Sentinel set. All on 127.0.0.1.
 */
export type Topology =
  | { kind: 'standalone'; url: string }
  | { kind: 'cluster'; nodes: { host: string; port: number }[] }
  | { kind: 'sentinel'; sentinels: { host: string; port: number }[]; name: string };

const hosts = (list: string) => list.split(',').map((port) => ({ host: '127.0.0.1', port: Number(port) }));

export function topologyFromEnv(env: NodeJS.ProcessEnv = process.env): Topology {
  if (env.REDIS_URL) return { kind: 'standalone', url: env.REDIS_URL };
  if (env.CLUSTER_NODES) return { kind: 'cluster', nodes: hosts(env.CLUSTER_NODES) };
  if (env.SENTINELS)
    return { kind: 'sentinel', sentinels: hosts(env.SENTINELS), name: env.SENTINEL_NAME ?? 'mymaster' };
  throw new Error('set REDIS_URL, CLUSTER_NODES or SENTINELS');
}
