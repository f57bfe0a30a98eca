/**
 * The chaos scenarios: one fault each, what it takes to set it up, when it is over, and
 * the bound within which every browser must be served again, derived from the configuration
 * (test/outages/chaos/config.ts): the client's next reconnect attempt, one `storeTimeout` for a call that
 * was on its way when the store came back, `lockLease` for a lock left behind (serialize only), and
 * the scheduling slack.
 */
import { CLIENT, SESSION, SLACK, type Form } from './config.js';
import type { Clock, Exchange } from './browsers.js';
import type { FaultReport } from './figures.js';
import { isMaster, loaded, replicaCounts, startReplicatedCluster, startSentinel, startStandalone } from './redis.js';
import { frozen } from '../../helpers/kernel.js';
import { killProcess } from '../../helpers/stop-process.js';
import { waitUntil } from '../../helpers/wait-until.js';
import type { Topology } from './apps/topology.js';
import type { Variant } from './variants.js';

/** What a scenario's fault gets from the run. */
export interface RunContext {
  clock: Clock;
  /** Resolves at `ms` on the run's clock. */
  at(ms: number): Promise<void>;
  /** The store keys of every browser's session. */
  keys(): string[];
}

export interface Stage {
  /** Environment of the app processes: where Redis is. */
  env: Record<string, string>;
  /** Injects the fault at `form.faultAt` and resolves when it is over. */
  inject(run: RunContext): Promise<FaultReport>;
  dispose(): Promise<void>;
}

export interface Scenario {
  id: string;
  title: string;
  topology: Topology['kind'];
  setUp(form: Form): Promise<Stage>;
  /**
   * No 503 is allowed: the store is back well within `reconnectTimeout`, so this library's requests
   * wait for it (the run checks that the fault did end in time).
   */
  no503: boolean;
  /** ms after the end of the fault by which every browser of `variant` must be served again. */
  bound(variant: Variant): number;
}

/** What every bound adds: a call that was on its way, a lock left behind (serialize), slack. */
function common(variant: Variant): number {
  return SESSION.storeTimeout + (variant.env.BENCH_CONCURRENCY === 'serialize' ? SESSION.lockLease : 0) + SLACK;
}

/** How long a fault may wait for Redis to do its part (a promotion, a load) before the run fails. */
const FAULT_TIMEOUT = 30_000;

export const SCENARIOS: Scenario[] = [
  {
    id: 'kill-restart',
    topology: 'standalone',
    title: 'Redis SIGKILLed, restarted on its append-only file (appendfsync always)',
    no503: true,
    bound: (variant) => CLIENT.retryDelay + common(variant),
    async setUp(form) {
      const redis = await startStandalone();
      return {
        env: redis.env,
        dispose: redis.dispose,
        async inject({ clock, at }) {
          await at(form.faultAt);
          const start = clock();
          await killProcess(redis.server.process);
          await at(form.restartAt);
          await redis.server.restart();
          return { start, end: clock(), notes: {} };
        },
      };
    },
  },
  {
    id: 'freeze',
    topology: 'standalone',
    title: `Redis frozen (SIGSTOP) for longer than storeTimeout (${SESSION.storeTimeout} ms), then SIGCONT`,
    no503: false,
    // The last call sent before the thaw is answered or times out within storeTimeout of it.
    bound: (variant) => common(variant),
    async setUp(form) {
      if (form.restartAt - form.faultAt <= SESSION.storeTimeout)
        throw new Error('the freeze must outlast storeTimeout');
      const redis = await startStandalone();
      return {
        env: redis.env,
        dispose: redis.dispose,
        async inject({ clock, at }) {
          await at(form.faultAt);
          const start = clock();
          await frozen(redis.server);
          const frozenAt = clock();
          await at(form.restartAt);
          const end = clock();
          redis.server.thaw();
          // A request that failed can only have sent its write if its read was answered: before
          // the freeze (it was on its way when Redis stopped) or after the thaw. A request sent
          // and failed within the freeze never got its read answered.
          const mayHaveWritten = (e: Exchange) => (e.sent < frozenAt && e.answered > start) || e.answered > end;
          return { start, end, mayHaveWritten, notes: { frozenMs: end - start } };
        },
      };
    },
  },
  {
    id: 'loading',
    topology: 'standalone',
    title: 'Redis SIGKILLed and restarted at once on a large dataset: LOADING for a while',
    no503: true,
    bound: (variant) => CLIENT.maxLoadingRetryTime + CLIENT.retryDelay + common(variant),
    async setUp(form) {
      const redis = await startStandalone(form.datasetKeys);
      return {
        env: redis.env,
        dispose: redis.dispose,
        async inject({ clock, at }) {
          await at(form.faultAt);
          const start = clock();
          await killProcess(redis.server.process);
          await redis.server.restart();
          const listening = clock();
          const done = await loaded(redis.server.port, clock, FAULT_TIMEOUT);
          if (!done.sawLoading)
            throw new Error('Redis was never seen loading: the dataset is too small for this machine');
          return { start, end: done.at, notes: { loadingMs: Math.round(done.at - listening), keys: form.datasetKeys } };
        },
      };
    },
  },
  {
    id: 'cluster-failover',
    topology: 'cluster',
    title: 'Redis Cluster: SIGKILL of the master holding the most sessions, its replica promoted',
    no503: false,
    // After the promotion, the client finds the new master at its next slot refresh.
    bound: (variant) => CLIENT.slotsRefreshInterval + CLIENT.slotsRefreshTimeout + CLIENT.retryDelay + common(variant),
    async setUp(form) {
      const topology = await startReplicatedCluster();
      const { cluster } = topology;
      return {
        env: topology.env,
        dispose: topology.dispose,
        async inject({ clock, at, keys }) {
          await at(form.faultAt);
          const owners = new Map<string, number>();
          for (const key of keys()) owners.set(key, await cluster.ownerOf(key));
          const victim = [...cluster.ports].sort(
            (a, b) =>
              [...owners.values()].filter((p) => p === b).length - [...owners.values()].filter((p) => p === a).length,
          )[0]!;
          const replica = topology.replicaOf.get(victim)!;
          const onVictim = [...owners].filter(([, p]) => p === victim).map(([k]) => k);
          const start = clock();
          await killProcess(cluster.nodes.find((n) => n.port === victim)!.process);
          const replicated = await replicaCounts(cluster.node(replica.port), onVictim, true);
          const survivors = cluster.ports.filter((p) => p !== victim);
          await waitUntil(
            async () =>
              (await isMaster(replica.port)) &&
              (
                await Promise.all(
                  survivors.map(async (p) => /cluster_state:ok/.test(String(await cluster.node(p).cluster('INFO')))),
                )
              ).every(Boolean),
            FAULT_TIMEOUT,
            () => 'the replica promotion did not happen: not a master, or a survivor not at cluster_state:ok',
          );
          return { start, end: clock(), replicated, notes: { sessionsOnKilledMaster: onVictim.length } };
        },
      };
    },
  },
  {
    id: 'sentinel-failover',
    topology: 'sentinel',
    title: 'Sentinel: SIGKILL of the master, the replica promoted',
    no503: true,
    bound: (variant) => CLIENT.retryDelay + common(variant),
    async setUp(form) {
      const topology = await startSentinel();
      const { set } = topology;
      return {
        env: topology.env,
        dispose: topology.dispose,
        async inject({ clock, at, keys }) {
          await at(form.faultAt);
          const old = await set.masterPort();
          const start = clock();
          await set.killMaster();
          const replicated = await replicaCounts(set.node(set.replica.port), keys(), false);
          await waitUntil(
            async () => {
              const now = await set.masterPort();
              return now !== old && (await isMaster(now));
            },
            FAULT_TIMEOUT,
            () => `the failover did not happen: no new master in place of :${old}`,
          );
          return { start, end: clock(), replicated, notes: {} };
        },
      };
    },
  },
];

export function scenariosById(ids: readonly string[] | undefined): Scenario[] {
  if (!ids) return SCENARIOS;
  const unknown = ids.filter((id) => !SCENARIOS.some((s) => s.id === id));
  if (unknown.length)
    throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.id).join(', ')}`);
  return SCENARIOS.filter((s) => ids.includes(s.id));
}
