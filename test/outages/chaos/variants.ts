/**
 * The apps a chaos run drives: this library on ioredis and on node-redis 5, each with and without
 * `concurrency: 'serialize'`, and the reference (koa-generic-session + koa-redis).
 */
import type { Topology } from './apps/topology.js';

export interface Variant {
  id: string;
  label: string;
  /** The app process's file, in test/outages/chaos/apps/. */
  file: string;
  /** Extra environment for it. */
  env: Record<string, string>;
  /** This library's apps are checked; the reference is measured only, for the side-by-side table. */
  checked: boolean;
  /** The topologies it can run on (all when absent). */
  topologies?: Topology['kind'][];
}

const SERIALIZE = { BENCH_CONCURRENCY: 'serialize' };
const NODE_REDIS = { CLIENT: 'node-redis' };
/** The RedisStore takes node-redis clients and clusters, not its Sentinel client. */
const NODE_REDIS_TOPOLOGIES: Topology['kind'][] = ['standalone', 'cluster'];

export const VARIANTS: Variant[] = [
  { id: 'ksm', label: 'koa-session-machine, ioredis', file: 'ksm.ts', env: {}, checked: true },
  {
    id: 'ksm-serialize',
    label: "koa-session-machine, ioredis, 'serialize'",
    file: 'ksm.ts',
    env: SERIALIZE,
    checked: true,
  },
  {
    id: 'ksm-node-redis',
    label: 'koa-session-machine, node-redis',
    file: 'ksm.ts',
    env: NODE_REDIS,
    checked: true,
    topologies: NODE_REDIS_TOPOLOGIES,
  },
  {
    id: 'ksm-node-redis-serialize',
    label: "koa-session-machine, node-redis, 'serialize'",
    file: 'ksm.ts',
    env: { ...NODE_REDIS, ...SERIALIZE },
    checked: true,
    topologies: NODE_REDIS_TOPOLOGIES,
  },
  { id: 'reference', label: 'koa-generic-session + koa-redis', file: 'reference.ts', env: {}, checked: false },
];

export function variantsById(ids: readonly string[] | undefined): Variant[] {
  if (!ids) return VARIANTS;
  const unknown = ids.filter((id) => !VARIANTS.some((v) => v.id === id));
  if (unknown.length)
    throw new Error(`unknown variant(s) ${unknown.join(', ')}; known: ${VARIANTS.map((v) => v.id).join(', ')}`);
  return VARIANTS.filter((v) => ids.includes(v.id));
}

/** The variants of `variants` that run on `topology`. */
export function variantsOn(topology: Topology['kind'], variants: readonly Variant[]): Variant[] {
  return variants.filter((v) => !v.topologies || v.topologies.includes(topology));
}
