/**
 * A real Redis Cluster on loopback for the scale-out tests: three masters from Debian's
 * `redis-server` (`--cluster-enabled yes`), each on a free port in its own temporary directory,
 * without persistence, joined by `redis-cli --cluster create … --cluster-replicas 0 --cluster-yes`.
 *
 * Also the process plumbing the Sentinel helper shares: spawning a redis-server, waiting for its
 * port, stopping it (./stop-process.ts) and finding `redis-cli`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, redisServerArgs, redisServerBinary, waitForPort } from './redis-server.js';
import { stopProcess } from './stop-process.js';
import { waitUntil } from './wait-until.js';

export function redisCliBinary(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v redis-cli'], { encoding: 'utf8' });
  const path = found.stdout.trim();
  return found.status === 0 && path ? path : undefined;
}

/**
 * Whether the Cluster and Sentinel tests can run. Without redis-server or redis-cli they are
 * skipped with a loud message, unless KSM_REQUIRE_REDIS=1 (CI), which makes that a failure.
 */
export function redisToolsAvailable(what: string): boolean {
  const missing = [!redisServerBinary() && 'redis-server', !redisCliBinary() && 'redis-cli'].filter(Boolean);
  if (missing.length === 0) return true;
  const message = `${missing.join(' and ')} not on PATH: the ${what} tests are SKIPPED (apt-get install redis-server redis-tools)`;
  if (process.env.KSM_REQUIRE_REDIS === '1') throw new Error(`${message}; KSM_REQUIRE_REDIS=1 makes this a failure`);
  console.warn(`\n!!!!!!!!\n!!! ${message}\n!!!!!!!!\n`);
  return false;
}

/** A redis-server process of a topology: its port, process and temporary directory. */
export interface RedisNode {
  port: number;
  dir: string;
  process: ChildProcess;
  /** Its last lines of output, for error messages. */
  log: string[];
}

/** Starts `redis-server` on a free loopback port in a new temporary directory (its working dir). */
export async function spawnRedisNode(args: (port: number, dir: string) => string[], label: string): Promise<RedisNode> {
  const binary = redisServerBinary();
  if (!binary) throw new Error('redis-server is not on PATH');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), `ksm-${label}-`));
  const child = spawn(binary, args(port, dir), { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const log: string[] = [];
  const keep = (chunk: Buffer) => {
    log.push(...chunk.toString().split('\n').filter(Boolean));
    log.splice(0, Math.max(0, log.length - 30));
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const node = { port, dir, process: child, log };
  try {
    await waitForPort(port, 10_000, child);
  } catch (err) {
    await disposeNode(node);
    throw new Error(`${label} on ${port} did not start: ${(err as Error).message}\n${log.join('\n')}`);
  }
  return node;
}

export async function disposeNode(node: RedisNode): Promise<void> {
  await stopProcess(node.process);
  rmSync(node.dir, { recursive: true, force: true });
}

/** A direct connection to one node, which never retries (for checks and for killed nodes). */
export function nodeClient(port: number): Redis {
  return new Redis({ host: '127.0.0.1', port, lazyConnect: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
}

export interface RedisCluster {
  /** The masters, in the order given to `redis-cli --cluster create`. */
  nodes: RedisNode[];
  ports: number[];
  /** `CLUSTER KEYSLOT key`. */
  keySlot(key: string): Promise<number>;
  /** The port of the master that serves `key` (from CLUSTER SLOTS). */
  ownerOf(key: string): Promise<number>;
  /** A direct (non-cluster) connection to a node, closed by `dispose()`. */
  node(port: number): Redis;
  /** Stops every node and removes their directories. */
  dispose(): Promise<void>;
}

/** The arguments of a cluster-enabled redis-server (a master or a replica of a test's Cluster). */
export function clusterNodeArgs(port: number, dir: string): string[] {
  return [
    ...redisServerArgs(port, dir),
    '--cluster-enabled',
    'yes',
    '--cluster-config-file',
    'nodes.conf',
    '--cluster-node-timeout',
    '2000',
  ];
}

/** Starts `masters` cluster-enabled redis-servers and joins them into one cluster with all slots. */
export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  const cli = redisCliBinary();
  if (!cli) throw new Error('redis-cli is not on PATH');
  const nodes: RedisNode[] = [];
  const clients = new Map<number, Redis>();
  const dispose = async () => {
    for (const client of clients.values()) client.disconnect();
    clients.clear();
    await Promise.all(nodes.splice(0).map(disposeNode));
  };
  try {
    for (let i = 0; i < masters; i++) {
      nodes.push(await spawnRedisNode(clusterNodeArgs, `cluster${i}`));
    }
    const ports = nodes.map((n) => n.port);
    const create = spawnSync(
      cli,
      ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'],
      { encoding: 'utf8', timeout: 30_000 },
    );
    if (create.status !== 0 || !/All 16384 slots covered/.test(create.stdout)) {
      throw new Error(`redis-cli --cluster create failed (${create.status}):\n${create.stdout}\n${create.stderr}`);
    }
    const node = (port: number) => {
      let client = clients.get(port);
      if (!client) clients.set(port, (client = nodeClient(port)));
      return client;
    };
    // Every node must agree that the cluster is up and sees all the others before a client starts.
    for (const port of ports) {
      await waitUntil(
        async () => {
          const info = String(await node(port).cluster('INFO'));
          return /cluster_state:ok/.test(info) && new RegExp(`cluster_known_nodes:${masters}\\b`).test(info);
        },
        15_000,
        () => `node ${port} never reported cluster_state:ok with ${masters} known nodes`,
      );
    }
    const keySlot = async (key: string) => Number(await node(ports[0]!).cluster('KEYSLOT', key));
    return {
      nodes,
      ports,
      keySlot,
      async ownerOf(key) {
        const slot = await keySlot(key);
        const ranges = (await node(ports[0]!).cluster('SLOTS')) as unknown as [
          number,
          number,
          [string, number, ...unknown[]],
        ][];
        const range = ranges.find(([from, to]) => slot >= from && slot <= to);
        if (!range) throw new Error(`no node serves slot ${slot}`);
        return Number(range[2][1]);
      },
      node,
      dispose,
    };
  } catch (err) {
    await dispose();
    throw err;
  }
}
