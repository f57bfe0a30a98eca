/**
 * Starts one redis-server for the whole run and hands its URL to the tests (`inject('redisUrl')`).
 * Without the binary, Redis tests are skipped with a loud message, unless KSM_REQUIRE_REDIS=1
 * (set by .ci/run), which turns that skip into a failure.
 */
import type { TestProject } from 'vitest/node';
import { redisServerBinary, startRedisServer, type RedisServer } from '../helpers/redis-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The URL of the run's redis-server, or '' when there is none. */
    redisUrl: string;
  }
}

let server: RedisServer | undefined;

export async function setup(project: TestProject): Promise<void> {
  if (!redisServerBinary()) {
    const message = 'redis-server is not on PATH: every Redis test is SKIPPED (apt-get install redis-server)';
    if (process.env.KSM_REQUIRE_REDIS === '1') throw new Error(`${message}; KSM_REQUIRE_REDIS=1 makes this a failure`);
    console.warn(`\n!!!!!!!!\n!!! ${message}\n!!!!!!!!\n`);
    project.provide('redisUrl', '');
    return;
  }
  server = await startRedisServer();
  project.provide('redisUrl', server.url);
}

export async function teardown(): Promise<void> {
  await server?.dispose();
}
