/** The `lock` capability: `lock(key, { lease, wait })`, for `concurrency: 'serialize'`. */
import assert from 'node:assert/strict';
import { settle, sleep, sessionOf, LONG_TTL, type RuleGroup } from './probe.js';

export const lockRules: RuleGroup = {
  capability: 'lock',
  rules: [
    {
      rule: 'lock serializes the holders of one key',
      body: async (s) => {
        // Read-modify-write under the lock, with a pause in the middle: without mutual exclusion,
        // updates are lost.
        const key = s.key();
        await s.set(key, sessionOf({ n: 0 }), LONG_TTL);
        const workers = 8;
        await Promise.all(
          Array.from({ length: workers }, async () => {
            const lock = await settle(s.store.lock(key, { lease: 10_000, wait: 10_000 }));
            assert.ok(lock, 'lock() gave up while the others were only briefly held');
            try {
              const current = await s.get(key);
              await sleep(5);
              await s.set(key, sessionOf({ n: (current?.n as number) + 1 }), LONG_TTL);
            } finally {
              await settle(lock.release());
            }
          }),
        );
        assert.equal((await s.get(key))?.n, workers, `${workers} increments made under the lock`);
      },
    },
    {
      rule: 'lock gives up with no lock after its wait',
      body: async (s) => {
        const key = s.key();
        const held = await settle(s.store.lock(key, { lease: 10_000, wait: 1_000 }));
        assert.ok(held, 'lock() of a free key gave no lock');
        try {
          const other = await settle(s.store.lock(key, { lease: 10_000, wait: 50 }));
          assert.ok(!other, 'a second lock() of a held key gave a lock');
        } finally {
          await settle(held.release());
        }
        const after = await settle(s.store.lock(key, { lease: 10_000, wait: 1_000 }));
        assert.ok(after, 'lock() after release() gave no lock');
        await settle(after.release());
      },
    },
    {
      rule: 'locks of different keys are independent',
      body: async (s) => {
        const a = await settle(s.store.lock(s.key('a'), { lease: 10_000, wait: 1_000 }));
        assert.ok(a, 'lock() of a free key gave no lock');
        try {
          const b = await settle(s.store.lock(s.key('b'), { lease: 10_000, wait: 1_000 }));
          assert.ok(b, 'lock() of another key waited for the first lock and gave up');
          await settle(b.release());
        } finally {
          await settle(a.release());
        }
      },
    },
  ],
};
