/**
 * A chaos app process for the reference: koa-generic-session 2.3.1 with koa-redis 4 and its default
 * settings (ioredis 4's defaults: it retries for ever and queues commands meanwhile), built as the
 * benchmark's kgs-redis variant is (bench/servers/kgs-redis.ts), on the topology the environment
 * names (./topology.ts): koa-redis's `{ url }`, `{ isRedisCluster, nodes }` or `{ sentinels, name }`.
 */
import Koa from 'koa';
import session from 'koa-generic-session';
import redisStore from 'koa-redis';
import { APP_KEYS, rolling, serve, sessionRoutes } from '../../../../bench/servers/common.js';
import { topologyFromEnv, type Topology } from './topology.js';

function storeOptions(topology: Topology): Record<string, unknown> {
  switch (topology.kind) {
    case 'standalone':
      return { url: topology.url };
    case 'cluster':
      return { isRedisCluster: true, nodes: topology.nodes };
    case 'sentinel':
      return { sentinels: topology.sentinels, name: topology.name };
  }
}

const store = redisStore(storeOptions(topologyFromEnv()));
const app = new Koa();
app.keys = APP_KEYS;
app.use(session({ store, rolling }));
app.use(sessionRoutes());
serve(app, () => store.quit());
