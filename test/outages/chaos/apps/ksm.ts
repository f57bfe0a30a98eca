/**
 * A chaos app process: this library (src/) with its RedisStore, serving the benchmark's counter
 * routes (`/get` counts up and answers the count, `/read` answers it) through the benchmark's
 * server harness, with the chaos configuration (test/outages/chaos/config.ts). Redis is where the
 * environment says (./topology.ts); BENCH_CONCURRENCY=serialize selects `concurrency: 'serialize'`.
 *
 * Its store's client (CLIENT=ioredis, the default, or node-redis), as the README shows them:
 * - ioredis: one the store creates for a single server or a Sentinel set, an ioredis `Cluster` of
 *   the app's own for a Cluster;
 * - node-redis 5: `createClient` or `createCluster`, connected (the store takes no Sentinel client).
 * Each retries a lost connection every `CLIENT.retryDelay` ms.
 */
import Koa from 'koa';
import { Cluster } from 'ioredis';
import { createClient, createCluster } from 'redis';
import session, { RedisStore, type RedisStoreOptions } from '../../../../src/index.js';
import { APP_KEYS, ksmOptions, serve, sessionRoutes } from '../../../../bench/servers/common.js';
import { CLIENT, SESSION } from '../config.js';
import { topologyFromEnv, type Topology } from './topology.js';

const retry = () => CLIENT.retryDelay;

function ioredisStore(topology: Topology): RedisStoreOptions {
  switch (topology.kind) {
    case 'standalone':
      return { url: topology.url, redis: { retryStrategy: retry, maxLoadingRetryTime: CLIENT.maxLoadingRetryTime } };
    case 'sentinel':
      return {
        redis: {
          sentinels: topology.sentinels,
          name: topology.name,
          retryStrategy: retry,
          sentinelRetryStrategy: retry,
          maxLoadingRetryTime: CLIENT.maxLoadingRetryTime,
        },
      };
    case 'cluster':
      return {
        client: new Cluster(topology.nodes, {
          clusterRetryStrategy: retry,
          slotsRefreshInterval: CLIENT.slotsRefreshInterval,
          slotsRefreshTimeout: CLIENT.slotsRefreshTimeout,
          redisOptions: { maxLoadingRetryTime: CLIENT.maxLoadingRetryTime },
        }),
      };
  }
}

async function nodeRedisStore(topology: Topology): Promise<RedisStoreOptions> {
  const socket = { reconnectStrategy: retry };
  switch (topology.kind) {
    case 'standalone': {
      const client = createClient({ url: topology.url, socket });
      // Until the store listens, a failed connection must not throw.
      client.on('error', () => undefined);
      await client.connect();
      return { client };
    }
    case 'cluster': {
      const cluster = createCluster({ rootNodes: topology.nodes.map((n) => ({ socket: n })), defaults: { socket } });
      cluster.on('error', () => undefined);
      await cluster.connect();
      return { client: cluster };
    }
    case 'sentinel':
      throw new Error('the RedisStore takes no node-redis Sentinel client');
  }
}

const topology = topologyFromEnv();
const store = new RedisStore(
  process.env.CLIENT === 'node-redis' ? await nodeRedisStore(topology) : ioredisStore(topology),
);
const app = new Koa();
app.keys = APP_KEYS;
app.use(
  session({
    ...ksmOptions(store),
    ...SESSION,
    // The store's connection changes and the writes fenced off, for the run's report.
    onEvent: (notice) => {
      if (notice.type === 'connection') console.error(`chaos-connection ${notice.state} ${Date.now()}`);
      if (notice.type === 'fenced') console.error(`chaos-fenced ${notice.late ? 'late' : 'live'}`);
    },
  }),
);
app.use(sessionRoutes());
serve(app, () => store.close());
