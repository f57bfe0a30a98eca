/**
 * The kit's rules for the `compareAndSet` capability (src/testing/rules/compare-and-set.ts), from
 * both sides: a store that declares it and applies a stale write, or compares and writes in two
 * steps, fails the rules it breaks, naming them; a correct store of numbered versions, the
 * MemoryStore and the RedisStore on every client kind (against the run's real redis-server) pass.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { MemoryStore, RedisStore } from '../../src/index.js';
import { COMPARE_AND_SET_RULES, type CompareAndSetProbe } from '../../src/testing/rules/compare-and-set.js';
import { openClient, REDIS_CLIENT_KINDS } from '../helpers/redis-clients.js';
import { RacyCompareAndSetStore } from './fixtures/racy-compare-and-set.js';
import { StaleCompareAndSetStore } from './fixtures/stale-compare-and-set.js';
import { VersionedStore } from './fixtures/versioned-store.js';

const url = inject('redisUrl');

type Loose = Record<string, any>;

const ALL = COMPARE_AND_SET_RULES.map((r) => r.rule);
const STALE = 'compareAndSet with a stale version writes nothing and returns the newer entry';
const OVER_AN_ENTRY = 'compareAndSet expecting no entry creates a missing key, and writes nothing over an entry';
const DESTROYED = 'compareAndSet of a destroyed key writes nothing and says it is gone';
const ONE_STEP = 'of concurrent compareAndSets expecting the same version, exactly one writes';

/** A rule's view of `store`: keys of its own, destroyed afterwards. */
function probe(store: Loose): CompareAndSetProbe & { cleanup(): Promise<void> } {
  const tag = randomBytes(4).toString('hex');
  const keys = new Set<string>();
  const get = async (key: string) => store.get(key);
  return {
    store,
    ttlBound: 5_000,
    key: (name = 'k') => {
      const key = `ksm-compare-and-set:${tag}:${name}`;
      keys.add(key);
      return key;
    },
    get,
    set: async (key, value, ttl) => store.set(key, value, ttl),
    destroy: async (key) => store.destroy(key),
    goneWithin: async (key, bound) => {
      const start = Date.now();
      for (;;) {
        if (!(await get(key))) return Date.now() - start;
        if (Date.now() - start > bound) return undefined;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    cleanup: async () => {
      for (const key of keys) await store.destroy(key);
    },
  };
}

/** The rules `factory`'s stores fail, each failure's message starting with its rule. */
async function failedRules(factory: () => Loose | Promise<Loose>, close?: (store: Loose) => unknown) {
  const failed: string[] = [];
  for (const { rule, body } of COMPARE_AND_SET_RULES) {
    const store = await factory();
    const s = probe(store);
    try {
      await body(s);
    } catch (err) {
      failed.push(rule);
      expect((err as Error).message, rule).not.toBe('');
    } finally {
      await s.cleanup();
      await close?.(store);
    }
  }
  return failed;
}

describe('the compareAndSet rules of the kit', () => {
  it('a correct store of numbered versions passes every rule (the control)', async () => {
    expect(await failedRules(() => new VersionedStore())).toEqual([]);
  });

  it('a store that applies a write whatever version it expects fails the rules of stale writes', async () => {
    expect(await failedRules(() => new StaleCompareAndSetStore())).toEqual([STALE, OVER_AN_ENTRY, DESTROYED, ONE_STEP]);
  });

  it('a store that compares and writes in two steps fails the rule of concurrent writers', async () => {
    expect(await failedRules(() => new RacyCompareAndSetStore())).toEqual([ONE_STEP]);
  });

  it('the MemoryStore passes every rule', async () => {
    expect(ALL).toHaveLength(7);
    expect(await failedRules(() => new MemoryStore())).toEqual([]);
  });

  describe.skipIf(!url)('the RedisStore passes every rule', () => {
    it('with a client of its own', async () => {
      expect(
        await failedRules(
          () => new RedisStore({ url }),
          (store) => store.close(),
        ),
      ).toEqual([]);
    });
    for (const kind of REDIS_CLIENT_KINDS) {
      it(`on ${kind.name}`, async () => {
        const factory = async () => new RedisStore({ client: await openClient(kind, url) });
        expect(await failedRules(factory, (store) => store.close())).toEqual([]);
      });
    }
  });
});
