/**
 * A Lua script of the RedisStore's on one key, sent by its SHA-1 (`EVALSHA`: 40 bytes instead of
 * the script on every call), and as a whole (`EVAL`, which caches it on that server) when the
 * server does not know it: a new or restarted server, a replica promoted by a failover, a
 * `SCRIPT FLUSH`. A server answers `NOSCRIPT` without running anything, so the `EVAL` that follows
 * runs the script once.
 */
import { hash } from 'node:crypto';
import type { RedisConnection } from './redis-clients/connection.js';

const isNoScript = (err: unknown) => String((err as { message?: unknown } | null)?.message).startsWith('NOSCRIPT');

export class RedisScript {
  private readonly sha: string;

  constructor(private readonly body: string) {
    this.sha = hash('sha1', body);
  }

  /** Runs the script on `key` with `args` (`ARGV`): Redis' raw reply. */
  run(connection: RedisConnection, key: string, args: readonly string[]): Promise<unknown> {
    return connection.send(key, ['EVALSHA', this.sha, '1', key, ...args]).catch((err: unknown) => {
      if (!isNoScript(err)) throw err;
      return connection.send(key, ['EVAL', this.body, '1', key, ...args]);
    });
  }
}
