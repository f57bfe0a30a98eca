/**
 * How the kit runs a store: every run writes keys of every shape real sids and prefixes have; what
 * it draws at random comes from a seed, given as an option or through KSM_KIT_SEED, so that a run
 * can be replayed key for key; and no check needs two stores of one factory open at once.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SessionStore, StoredSession } from '../../src/index.js';
import { planKit, PREFIXES, SEED_ENV, SID_SHAPES, type KitPlan } from '../../src/testing/index.js';
import { JsonMapStore } from './fixtures/json-map-store.js';

/** Runs every check of a plan that is not skipped, failing on the first failure. */
async function runAll(plan: KitPlan): Promise<void> {
  try {
    for (const check of [plan.acceptance, ...plan.contract, ...plan.lifecycle]) if (!check.skip) await check.run();
  } finally {
    plan.close();
  }
}

/** A factory of correct stores that records every key written, in order. */
function recording(): { factory: () => SessionStore; keys: string[] } {
  const keys: string[] = [];
  class Recorded extends JsonMapStore {
    override async set(key: string, session: StoredSession, ttl?: number): Promise<void> {
      keys.push(key);
      await super.set(key, session, ttl);
    }
  }
  return { factory: () => new Recorded(), keys };
}

afterEach(() => vi.unstubAllEnvs());

describe('the keys of a run', () => {
  it('cover every sid shape under every prefix, in every run, whatever the seed', async () => {
    for (const seed of ['one', 'two']) {
      const { factory, keys } = recording();
      await runAll(await planKit({ factory, seed, supports: { ttl: false }, lifecycle: false }));
      for (const prefix of PREFIXES.filter((p) => p !== '')) expect(keys.some((k) => k.startsWith(prefix))).toBe(true);
      expect(
        keys.some((k) => /__\d[A-Za-z]/.test(k)),
        'a key with __ and a digit',
      ).toBe(true);
      expect(
        keys.some((k) => k.length >= 200),
        'a long key',
      ).toBe(true);
      for (const end of ['-', '_', '__'])
        expect(
          keys.some((k) => k.endsWith(end)),
          `a key ending in ${end}`,
        ).toBe(true);
      expect(SID_SHAPES.length).toBeGreaterThanOrEqual(12);
    }
  });

  it('are the same for the same seed, and others for another seed', async () => {
    const runs = [];
    for (const seed of ['same', 'same', 'other']) {
      const { factory, keys } = recording();
      await runAll(await planKit({ factory, seed, supports: { ttl: false }, lifecycle: false }));
      runs.push(keys);
    }
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[2]).not.toEqual(runs[0]);
    expect(runs[2]!.length).toBe(runs[0]!.length);
  });

  it(`take the seed from ${SEED_ENV} when no option gives one, and print it in every failure`, async () => {
    vi.stubEnv(SEED_ENV, 'from-the-environment');
    const plan = await planKit({ factory: () => ({}) as SessionStore, lifecycle: false });
    plan.close();
    expect(plan.seed).toBe('from-the-environment');
    const error = (await plan.acceptance.run().catch((err: unknown) => err)) as Error;
    expect(error.message).toContain(`seed:     from-the-environment (${SEED_ENV}=from-the-environment replays it)`);
  });
});

describe('the stores of one factory', () => {
  it('are never open two at a time: every check and lifecycle path passes with a factory that refuses a second', async () => {
    let open = 0;
    const plan = await planKit({
      factory: async () => {
        if (open > 0) throw new Error('a second store while another is open');
        open++;
        return new JsonMapStore();
      },
      teardown: () => void open--,
      supports: { ttl: false },
    });
    // The paths of the default options: every kind of step, at a fraction of the cost of all of them.
    plan.lifecycle = plan.lifecycle.filter((c) => c.name.startsWith('defaults: '));
    expect(plan.lifecycle.length).toBeGreaterThan(10);
    await runAll(plan);
    expect(open).toBe(0);
  });
});
