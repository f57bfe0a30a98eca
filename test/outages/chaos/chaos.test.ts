/**
 * CI's short form of the chaos suite (`npm run chaos` runs the long one), one test per
 * scenario of test/outages/chaos/scenarios.ts: real Redis processes on loopback, one app process per
 * variant of this library (on ioredis and on node-redis 5, each with and without
 * `concurrency: 'serialize'`), 8 browsers per app counting up one request after the other, and one
 * fault that all the apps live through together. Each app must show no 500, no request without an
 * answer, no exit, nothing acknowledged lost (beyond what Redis's own failover loses, measured on
 * the replica), no increment applied beyond the requests whose outcome was unknown, no 503 where
 * the store came back within `reconnectTimeout`, and every browser served again within the bound
 * the scenario derives from the configuration. Each run's figures are printed; docs/reliability.md
 * says what each check means. The reference (koa-generic-session + koa-redis) is measured by the
 * long form only: it is not checked, and CI's time goes to what is.
 *
 * Skipped loudly without redis-server and redis-cli, unless KSM_REQUIRE_REDIS=1 (then a failure).
 */
import { describe, expect, it } from 'vitest';
import { redisToolsAvailable } from '../../helpers/redis-cluster.js';
import { SHORT } from './config.js';
import { evidence, runLines } from './report.js';
import { runScenario } from './run.js';
import { SCENARIOS } from './scenarios.js';
import { VARIANTS, variantsOn } from './variants.js';

const available = redisToolsAvailable('chaos');
const CHECKED = VARIANTS.filter((v) => v.checked);

/** A run's budget: Redis set-up (a Cluster with replicas takes the longest), app start-up, the load. */
const RUN_TIMEOUT = 90_000;

describe.skipIf(!available)('chaos, short form', () => {
  it.each(SCENARIOS.map((s) => [s.id, s] as const))(
    '%s: no 500, nothing acknowledged lost or doubled, served again within the bound',
    async (_id, scenario) => {
      const run = await runScenario(scenario, variantsOn(scenario.topology, CHECKED), SHORT);
      console.log(`${scenario.title}\n${runLines(run).join('\n')}`);
      const failed = run.apps.filter((app) => app.failures.length > 0);
      expect(failed.map(evidence).join('\n')).toBe('');
    },
    RUN_TIMEOUT,
  );
});
