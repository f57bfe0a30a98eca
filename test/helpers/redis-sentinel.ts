/**
 * A real Sentinel set on loopback for the failover tests (issue 9): one master, one replica
 * (`--replicaof`) and three sentinels (`redis-server <conf> --sentinel`, quorum 2), all from
 * Debian's redis-server, each on a free port in its own temporary directory, without persistence.
 * Sentinels rewrite their config file, so each one gets a writable copy in its directory.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { disposeNode, nodeClient, spawnRedisNode, waitUntil, type RedisNode } from './redis-cluster.js';

export const MASTER_NAME = 'mymaster';

export interface SentinelSetOptions {
  /** `sentinel down-after-milliseconds` (default 1000). */
  downAfter?: number;
  /** `sentinel failover-timeout` (default 5000). */
  failoverTimeout?: number;
}

export interface SentinelSet {
  master: RedisNode;
  replica: RedisNode;
  sentinels: RedisNode[];
  sentinelPorts: number[];
  /** The master's port as the first sentinel that answers reports it (SENTINEL GET-MASTER-ADDR-BY-NAME). */
  masterPort(): Promise<number>;
  /** A direct connection to a node (data node or sentinel), closed by `dispose()`. */
  node(port: number): Redis;
  /** SIGKILL the current master: no goodbye to clients, replicas or sentinels. */
  killMaster(): Promise<void>;
  /** Stops every process and removes the directories. */
  dispose(): Promise<void>;
}

const serverArgs = (port: number, dir: string, extra: string[] = []) => [
  '--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
  '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning', ...extra,
];

export async function startSentinelSet(options: SentinelSetOptions = {}): Promise<SentinelSet> {
  const downAfter = options.downAfter ?? 1000;
  const failoverTimeout = options.failoverTimeout ?? 5000;
  const all: RedisNode[] = [];
  const clients = new Map<number, Redis>();
  const node = (port: number) => {
    let client = clients.get(port);
    if (!client) clients.set(port, (client = nodeClient(port)));
    return client;
  };
  const dispose = async () => {
    for (const client of clients.values()) client.disconnect();
    clients.clear();
    await Promise.all(all.splice(0).map(disposeNode));
  };
  try {
    const master = await spawnRedisNode((port, dir) => serverArgs(port, dir), 'sentinel-master');
    all.push(master);
    const replica = await spawnRedisNode(
      (port, dir) => serverArgs(port, dir, ['--replicaof', '127.0.0.1', String(master.port)]),
      'sentinel-replica',
    );
    all.push(replica);
    const sentinels: RedisNode[] = [];
    for (let i = 0; i < 3; i++) {
      const sentinel = await spawnRedisNode((port, dir) => {
        const conf = join(dir, 'sentinel.conf');
        writeFileSync(
          conf,
          [
            `port ${port}`,
            'bind 127.0.0.1',
            `dir ${dir}`,
            'sentinel resolve-hostnames no',
            `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${master.port} 2`,
            `sentinel down-after-milliseconds ${MASTER_NAME} ${downAfter}`,
            `sentinel failover-timeout ${MASTER_NAME} ${failoverTimeout}`,
            `sentinel parallel-syncs ${MASTER_NAME} 1`,
            '',
          ].join('\n'),
        );
        return [conf, '--sentinel', '--loglevel', 'warning'];
      }, `sentinel${i}`);
      all.push(sentinel);
      sentinels.push(sentinel);
    }
    // The replica is in sync, and every sentinel knows the replica and the two other sentinels
    // (they find each other through hello messages every 2 s): only then can they fail over.
    await waitUntil(
      async () => /master_link_status:up/.test(await node(replica.port).info('replication')),
      15_000,
      () => `replica :${replica.port} never synced with master :${master.port}`,
    );
    for (const sentinel of sentinels) {
      await waitUntil(
        async () => {
          const fields = (await node(sentinel.port).call('SENTINEL', 'MASTER', MASTER_NAME)) as string[];
          const info = new Map<string, string>();
          for (let i = 0; i + 1 < fields.length; i += 2) info.set(fields[i]!, fields[i + 1]!);
          return info.get('num-slaves') === '1' && info.get('num-other-sentinels') === '2' && info.get('flags') === 'master';
        },
        20_000,
        () => `sentinel :${sentinel.port} never saw the replica and both other sentinels`,
      );
    }
    const sentinelPorts = sentinels.map((s) => s.port);
    const masterPort = async () => {
      for (const port of sentinelPorts) {
        try {
          const addr = (await node(port).call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME)) as [string, string];
          return Number(addr[1]);
        } catch {
          // That sentinel is away: ask the next.
        }
      }
      throw new Error('no sentinel answered');
    };
    return {
      master,
      replica,
      sentinels,
      sentinelPorts,
      masterPort,
      node,
      async killMaster() {
        const port = await masterPort();
        const victim = all.find((n) => n.port === port);
        if (!victim) throw new Error(`no process serves :${port}`);
        clients.get(port)?.disconnect();
        clients.delete(port);
        victim.process.kill('SIGKILL');
        await new Promise((resolve) => (victim.process.exitCode !== null || victim.process.signalCode !== null ? resolve(0) : victim.process.once('exit', resolve)));
      },
      dispose,
    };
  } catch (err) {
    await dispose();
    throw err;
  }
}
