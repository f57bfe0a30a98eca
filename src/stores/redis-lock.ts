/**
 * The RedisStore's session lock (`concurrency: 'serialize'`): a lease lock in Redis, safe across
 * processes. `SET lockKey token NX PX lease` with a random token; the lease is renewed while the
 * lock is held, so a long request keeps it and a dead holder loses it after `lease`; only the
 * owner's token releases it (a Lua compare-and-delete). Requests of this process take turns first
 * (woken in order when the one before releases), so only one of them at a time retries `SET NX`,
 * with a growing pause, against holders in other processes.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { isConnectionFailure } from './connection-failures.js';
import { KeyedQueue } from './keyed-queue.js';
import type { RedisConnection } from './redis-clients/connection.js';
import type { LockOptions, SessionLock } from './types.js';

/** Deletes the lock only if it still holds this owner's token: a late release never frees another's. */
const RELEASE_LOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;
/** Extends the lease only if the lock is still this owner's. */
const RENEW_LOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
/** The longest pause between two attempts at a busy lock. */
const MAX_LOCK_POLL = 25;

/**
 * The lock's key, in the session key's Cluster slot: Redis hashes only the part of a key inside its
 * first `{…}`, so the lock key carries the whole session key as its hash tag, or the session key's
 * own hash tag when it has one.
 */
export function lockKeyFor(key: string): string {
  const open = key.indexOf('{');
  const close = open < 0 ? -1 : key.indexOf('}', open + 1);
  return close > open + 1 ? `${key}:lock` : `{${key}}:lock`;
}

export class LeaseLocks {
  /** This process's requests take turns per lock key before contending in Redis. */
  private readonly turns = new KeyedQueue();
  /**
   * Per lock key, the token of a `SET NX` whose answer was lost with the connection: it may have
   * taken the lock. The next attempt on that key uses it, so that it finds the lock its own instead
   * of waiting out the lease (kept until that lease would have ended).
   */
  private readonly unsettled = new Map<string, string>();

  constructor(private readonly connection: RedisConnection) {}

  /** The lock on the session under `key`, or `undefined` when `options.wait` runs out first. */
  async acquire(key: string, options: LockOptions): Promise<SessionLock | undefined> {
    const lockKey = lockKeyFor(key);
    const deadline = Date.now() + options.wait;
    const turn = this.turns.enter(lockKey, options.wait);
    if (turn !== true && !(await turn)) return undefined;
    const lost = this.unsettled.get(lockKey);
    if (lost !== undefined) this.unsettled.delete(lockKey);
    const token = lost ?? randomBytes(16).toString('base64url');
    const lease = String(options.lease);
    let mayHold = lost !== undefined;
    try {
      for (let pause = 1; ; pause = Math.min(pause * 2, MAX_LOCK_POLL)) {
        if ((await this.connection.send(lockKey, ['SET', lockKey, token, 'PX', lease, 'NX'])) === 'OK') break;
        // The lost attempt took it: it is ours (its lease is renewed from now on).
        if (mayHold && (await this.connection.send(lockKey, ['GET', lockKey])) === token) break;
        mayHold = false;
        const left = deadline - Date.now();
        if (left <= 0) {
          this.turns.leave(lockKey);
          return undefined;
        }
        await sleep(Math.min(pause + Math.random() * pause, left));
      }
    } catch (err) {
      this.turns.leave(lockKey);
      if (isConnectionFailure(err)) {
        this.unsettled.set(lockKey, token);
        const forget = () => {
          if (this.unsettled.get(lockKey) === token) this.unsettled.delete(lockKey);
        };
        setTimeout(forget, options.lease).unref();
      }
      throw err;
    }
    return this.held(lockKey, token, options.lease);
  }

  private held(lockKey: string, token: string, lease: number): SessionLock {
    const connection = this.connection;
    const renew = setInterval(
      () => {
        connection.send(lockKey, ['EVAL', RENEW_LOCK, '1', lockKey, token, String(lease)]).catch(() => undefined);
      },
      Math.max(1, Math.floor(lease / 3)),
    );
    renew.unref();
    let released: Promise<unknown> | undefined;
    return {
      release: () => {
        clearInterval(renew);
        // The next request of this process gets its turn once the lock is gone from Redis.
        released ??= connection
          .send(lockKey, ['EVAL', RELEASE_LOCK, '1', lockKey, token])
          .finally(() => this.turns.leave(lockKey));
        return released;
      },
    };
  }
}
