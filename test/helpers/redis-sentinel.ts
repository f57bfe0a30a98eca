/**
 * A real Sentinel set on loopback for the failover tests: one master, one replica
 * (`--replicaof`) and three sentinels (`redis-server <conf> --sentinel`, quorum 2), all from
 * Debian's redis-server, each on a free port in its own temporary directory, without persistence.
 * Sentinels rewrite their config file, so each one gets a writable copy in its directory.
 *
 * A failover test waits for Sentinel with bounds taken from the set's configuration, never from a
 * guess: `failoverBound` is computed from down-after-milliseconds, failover-timeout and the periods
 * the sentinels run with (read back with SENTINEL DEBUG, Redis ≥ 7.0). Every sentinel's events
 * (+sdown, +odown, +try-failover, +elected-leader, +promoted-slave, +switch-master, -failover-abort…,
 * +tilt) are recorded from its Pub/Sub, so that a test can wait for the switch as a signal and
 * print when each sentinel saw what.
 */
import { EventEmitter, once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { disposeNode, nodeClient, spawnRedisNode, type RedisNode } from './redis-cluster.js';
import { redisServerArgs } from './redis-server.js';
import { killProcess } from './stop-process.js';
import { waitUntil } from './wait-until.js';

export const MASTER_NAME = 'mymaster';

export interface SentinelSetOptions {
  /** `sentinel down-after-milliseconds` (default 1000). */
  downAfter?: number;
  /** `sentinel failover-timeout` (default 5000). */
  failoverTimeout?: number;
}

/** What the set's sentinels time their work by, in ms. */
export interface SentinelTiming {
  /** `down-after-milliseconds`: a master that has not answered for this long is down for a sentinel (+sdown). */
  downAfter: number;
  /** `failover-timeout`: a failover attempt that failed is tried again 2 × this after it started. */
  failoverTimeout: number;
  /** A sentinel pings each instance this often (or every `downAfter`, if shorter). */
  pingPeriod: number;
  /** A sentinel that sees the master down asks the others this often; enough of them agreeing is +odown. */
  askPeriod: number;
  /** Hello messages, through which a sentinel that missed the winner's announcement learns the new master. */
  publishPeriod: number;
  /** INFO to each master and replica, which is how a sentinel learns of a replica. */
  infoPeriod: number;
}

/**
 * Sentinel constants that SENTINEL DEBUG does not show (redis/src/sentinel.c, 7.0): the timer runs
 * 10 to 19 times a second; a failover's start time is put up to SENTINEL_MAX_DESYNC later at
 * random, so that sentinels do not keep asking for votes at the same moment; while the master is
 * down, replicas get INFO every second, which is how the leader sees its replica promoted.
 */
const TIMER_PERIOD = 100;
const MAX_DESYNC = 1000;
const INFO_PERIOD_IN_FAILOVER = 1000;

/**
 * The longest a failover takes, from the master's death (or SENTINEL FAILOVER) until every sentinel
 * names the new master, allowing one failed attempt:
 * - each sentinel sees the master down within one ping period plus `downAfter` (+sdown), and the
 *   one whose agreement makes the quorum answers within `askPeriod` (+odown);
 * - it then tries at once; the votes come back on the next timer steps (+elected-leader); it sends
 *   REPLICAOF NO ONE and sees the promotion in the replica's next INFO (+promoted-slave), and
 *   switches on a later step (+switch-master);
 * - the others learn it from the hello it sends at once, or the next one (`publishPeriod`);
 * - an attempt that fails (a split vote, a promotion not seen within `failoverTimeout`) is tried
 *   again 2 × `failoverTimeout` after it started, which was up to MAX_DESYNC late.
 * Six timer steps cover the steps that each wait for the next run of the timer.
 */
export function failoverBound(t: SentinelTiming): number {
  const attempt =
    Math.min(t.pingPeriod, t.downAfter) +
    t.downAfter +
    t.askPeriod +
    INFO_PERIOD_IN_FAILOVER +
    t.publishPeriod +
    6 * TIMER_PERIOD;
  return attempt + MAX_DESYNC + 2 * t.failoverTimeout;
}

/** One event a sentinel published: its Pub/Sub channel is the event's name. */
export interface SentinelEvent {
  /** Epoch ms when this process received it. */
  at: number;
  /** Which sentinel (index in `sentinels`). */
  sentinel: number;
  type: string;
  detail: string;
}

/** The events of a failover worth a line in a timeline (+sdown and -sdown only of a master). */
const TIMELINE = new Set([
  '+sdown',
  '-sdown',
  '+odown',
  '-odown',
  '+try-failover',
  '+elected-leader',
  '+promoted-slave',
  '+failover-end',
  '+failover-end-for-timeout',
  '+switch-master',
  '+tilt',
  '-tilt',
  '+convert-to-slave',
]);

export interface SentinelSet {
  master: RedisNode;
  replica: RedisNode;
  sentinels: RedisNode[];
  sentinelPorts: number[];
  /** The timing the sentinels run with. */
  timing: SentinelTiming;
  /** {@link failoverBound} of `timing`. */
  failoverBound: number;
  /** Every event the sentinels published since they were ready, in the order received. */
  events: SentinelEvent[];
  /** The master's port as the first sentinel that answers reports it (SENTINEL GET-MASTER-ADDR-BY-NAME). */
  masterPort(): Promise<number>;
  /**
   * The new master once every sentinel has announced a master other than `from` (+switch-master),
   * and when the last announcement came (epoch ms). Every sentinel then also answers it to
   * GET-MASTER-ADDR-BY-NAME. Rejects, with the sentinels' timeline, if that takes over `within` ms.
   */
  waitForSwitch(from: number, within: number): Promise<{ port: number; at: number }>;
  /** The failover's events since `since` (epoch ms), one line per sentinel, times in ms after `since`. */
  timeline(since: number): string;
  /** A direct connection to a node (data node or sentinel), closed by `dispose()`. */
  node(port: number): Redis;
  /** SIGKILL the current master: no goodbye to clients, replicas or sentinels. */
  killMaster(): Promise<void>;
  /** Stops every process and removes the directories. */
  dispose(): Promise<void>;
}

/** A flat [name, value, name, value, …] reply as a map. */
function fieldsOf(reply: unknown): Map<string, string> {
  const fields = reply as string[];
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) map.set(String(fields[i]).toLowerCase(), String(fields[i + 1]));
  return map;
}

export async function startSentinelSet(options: SentinelSetOptions = {}): Promise<SentinelSet> {
  const downAfter = options.downAfter ?? 1000;
  const failoverTimeout = options.failoverTimeout ?? 5000;
  const all: RedisNode[] = [];
  const clients = new Map<number, Redis>();
  const subscribers: Redis[] = [];
  const node = (port: number) => {
    let client = clients.get(port);
    if (!client) clients.set(port, (client = nodeClient(port)));
    return client;
  };
  const dispose = async () => {
    for (const client of [...clients.values(), ...subscribers.splice(0)]) client.disconnect();
    clients.clear();
    await Promise.all(all.splice(0).map(disposeNode));
  };
  try {
    const master = await spawnRedisNode((port, dir) => redisServerArgs(port, dir), 'sentinel-master');
    all.push(master);
    const replica = await spawnRedisNode(
      (port, dir) => [...redisServerArgs(port, dir), '--replicaof', '127.0.0.1', String(master.port)],
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
    const sentinelPorts = sentinels.map((s) => s.port);
    const debug = fieldsOf(await node(sentinelPorts[0]!).call('SENTINEL', 'DEBUG'));
    const period = (name: string) => {
      const value = Number(debug.get(name));
      if (!(value > 0)) throw new Error(`SENTINEL DEBUG did not report ${name} (Redis ≥ 7.0 needed)`);
      return value;
    };
    const timing: SentinelTiming = {
      downAfter,
      failoverTimeout,
      pingPeriod: period('ping-period'),
      askPeriod: period('ask-period'),
      publishPeriod: period('publish-period'),
      infoPeriod: period('info-period'),
    };
    // The replica is in sync, and every sentinel knows the replica (from the master's INFO, asked
    // on connecting and then every info-period) and the two other sentinels (from their hellos,
    // every publish-period): only then can they fail over.
    await waitUntil(
      async () => /master_link_status:up/.test(await node(replica.port).info('replication')),
      15_000,
      () => `replica :${replica.port} never synced with master :${master.port}`,
    );
    await Promise.all(
      sentinelPorts.map((port) =>
        waitUntil(
          async () => {
            const info = fieldsOf(await node(port).call('SENTINEL', 'MASTER', MASTER_NAME));
            return (
              info.get('num-slaves') === '1' &&
              info.get('num-other-sentinels') === '2' &&
              info.get('flags') === 'master'
            );
          },
          timing.infoPeriod + 2 * timing.publishPeriod,
          () => `sentinel :${port} never saw the replica and both other sentinels`,
        ),
      ),
    );

    const events: SentinelEvent[] = [];
    const published = new EventEmitter();
    await Promise.all(
      sentinelPorts.map(async (port, sentinel) => {
        const subscriber = nodeClient(port);
        subscribers.push(subscriber);
        subscriber.on('pmessage', (_pattern: string, type: string, detail: string) => {
          if (type.startsWith('__sentinel__')) return;
          events.push({ at: Date.now(), sentinel, type, detail });
          published.emit('event');
        });
        await subscriber.psubscribe('*');
      }),
    );

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
    const timeline = (since: number) =>
      sentinelPorts
        .map((port, i) => {
          const seen = events
            .filter((e) => e.sentinel === i && e.at >= since && TIMELINE.has(e.type))
            .filter((e) => !e.type.endsWith('sdown') || e.detail.startsWith('master'))
            .map((e) => `${e.type}@${e.at - since}`);
          return `s${i}(:${port}) ${seen.join(' ') || '-'}`;
        })
        .join('; ');
    // +switch-master's detail: <name> <old ip> <old port> <new ip> <new port>.
    const switchedTo = (from: number) => {
      const last = new Map<number, { port: number; at: number }>();
      for (const e of events) {
        if (e.type !== '+switch-master') continue;
        const port = Number(e.detail.split(' ')[4]);
        if (port !== from) last.set(e.sentinel, { port, at: e.at });
      }
      const agreed = [...last.values()];
      if (agreed.length < sentinelPorts.length || agreed.some((s) => s.port !== agreed[0]!.port)) return undefined;
      return { port: agreed[0]!.port, at: Math.max(...agreed.map((s) => s.at)) };
    };
    const waitForSwitch = async (from: number, within: number) => {
      const start = Date.now();
      let switched = switchedTo(from);
      while (!switched) {
        const left = start + within - Date.now();
        if (left <= 0) {
          throw new Error(`the sentinels did not all name a new master within ${within} ms: ${timeline(start)}`);
        }
        await once(published, 'event', { signal: AbortSignal.timeout(left) }).catch(() => undefined);
        switched = switchedTo(from);
      }
      const answers = await Promise.all(
        sentinelPorts.map(async (port) =>
          Number(((await node(port).call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME)) as string[])[1]),
        ),
      );
      if (answers.some((port) => port !== switched.port)) {
        throw new Error(`the sentinels announced :${switched.port} but answer ${answers.join(', ')}`);
      }
      return switched;
    };
    return {
      master,
      replica,
      sentinels,
      sentinelPorts,
      timing,
      failoverBound: failoverBound(timing),
      events,
      masterPort,
      waitForSwitch,
      timeline,
      node,
      async killMaster() {
        const port = await masterPort();
        const victim = all.find((n) => n.port === port);
        if (!victim) throw new Error(`no process serves :${port}`);
        clients.get(port)?.disconnect();
        clients.delete(port);
        await killProcess(victim.process);
      },
      dispose,
    };
  } catch (err) {
    await dispose();
    throw err;
  }
}
