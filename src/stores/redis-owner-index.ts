/**
 * The RedisStore's index of sessions per owner (the `index` capability, for the `owner` option).
 * Two keys per owner, under one hash tag so that they share a Cluster slot and one script can use
 * both: a hash (`e:<handle>` → the entry's JSON, `c:<handle>` → its createdAt) and a sorted set of
 * the handles scored by expiry. Each call is one EVAL on those two keys only: no command ever spans
 * an owner's keys and a session's key (in a Cluster they live in different slots).
 *
 * Expired handles are pruned by every call (ZRANGEBYSCORE costs O(log n) plus what it prunes), and
 * both keys expire with the owner's last entry, so an index nobody lists does not outlive its
 * sessions.
 */
import type { RedisConnection } from './redis-clients/connection.js';
import type { ListedOwnerIndexEntry, OwnerIndexEntry } from './types.js';

/** Removes the handles whose expiry (ARGV[1], ms since the epoch) has passed, and their hash fields. */
const PRUNE = `
local function prune(now)
  local gone = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
  for _, handle in ipairs(gone) do redis.call('HDEL', KEYS[1], 'e:' .. handle, 'c:' .. handle) end
  if #gone > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now) end
end
prune(ARGV[1])
`;

/**
 * ARGV: now, handle, entry JSON, createdAt, expiresAt ('+inf' for never). createdAt is only set
 * when the handle has none (HSETNX); both keys then live as long as the latest expiry.
 */
const ADD = `${PRUNE}
redis.call('HSETNX', KEYS[1], 'c:' .. ARGV[2], ARGV[4])
redis.call('HSET', KEYS[1], 'e:' .. ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[2])
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')[2]
if last == 'inf' then
  redis.call('PERSIST', KEYS[1])
  redis.call('PERSIST', KEYS[2])
else
  redis.call('PEXPIREAT', KEYS[1], last)
  redis.call('PEXPIREAT', KEYS[2], last)
end
return 1`;

/** ARGV: now, handle. An index left empty is deleted by Redis itself. */
const REMOVE = `${PRUNE}
redis.call('HDEL', KEYS[1], 'e:' .. ARGV[2], 'c:' .. ARGV[2])
return redis.call('ZREM', KEYS[2], ARGV[2])`;

/** ARGV: now. Flat: handle, entry JSON, createdAt, for every handle that has not expired. */
const LIST = `${PRUNE}
local out = {}
for _, handle in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local values = redis.call('HMGET', KEYS[1], 'e:' .. handle, 'c:' .. handle)
  if values[1] then
    out[#out + 1] = handle
    out[#out + 1] = values[1]
    out[#out + 1] = values[2] or '0'
  end
end
return out`;

/** The owner's two keys: the hash tag is the whole owner key, so both hash to its slot. */
function keysOf(ownerKey: string): [entries: string, expiry: string] {
  return [`{${ownerKey}}:entries`, `{${ownerKey}}:expiry`];
}

function score(expiresAt: number): string {
  if (expiresAt === Infinity) return '+inf';
  if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) {
    throw new TypeError(`RedisStore: expiresAt must be ms since the epoch or Infinity, got ${String(expiresAt)}`);
  }
  return String(Math.ceil(expiresAt));
}

export class RedisOwnerIndexes {
  constructor(private readonly connection: RedisConnection) {}

  async add(ownerKey: string, handle: string, entry: OwnerIndexEntry, expiresAt: number): Promise<void> {
    const [entries, expiry] = keysOf(ownerKey);
    const args = [String(Date.now()), handle, JSON.stringify(entry), String(entry.createdAt), score(expiresAt)];
    await this.connection.send(entries, ['EVAL', ADD, '2', entries, expiry, ...args]);
  }

  async remove(ownerKey: string, handle: string): Promise<void> {
    const [entries, expiry] = keysOf(ownerKey);
    await this.connection.send(entries, ['EVAL', REMOVE, '2', entries, expiry, String(Date.now()), handle]);
  }

  async list(ownerKey: string): Promise<ListedOwnerIndexEntry[]> {
    const [entries, expiry] = keysOf(ownerKey);
    const flat = (await this.connection.send(entries, [
      'EVAL',
      LIST,
      '2',
      entries,
      expiry,
      String(Date.now()),
    ])) as unknown[];
    const listed: ListedOwnerIndexEntry[] = [];
    for (let i = 0; i + 2 < flat.length; i += 3) {
      const entry = JSON.parse(String(flat[i + 1])) as OwnerIndexEntry;
      listed.push({ handle: String(flat[i]), entry: { ...entry, createdAt: Number(flat[i + 2]) } });
    }
    return listed;
  }
}
