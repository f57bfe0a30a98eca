/** The `lock` capability: `lock(key, { lease, wait })`, for `concurrency: 'serialize'`. */
import { described } from '../failure.js';
import { asPromise, sleep, sessionOf, LONG_TTL, type RuleGroup } from './probe.js';

const A_LOCK = described('a lock');
const NO_LOCK = described('no lock (undefined)');

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
            const lock = await s.call('lock', key, { lease: 10_000, wait: 10_000 });
            s.check(Boolean(lock), key, 'lock() gave up while the others were only briefly held', A_LOCK, lock);
            try {
              const current = await s.get(key);
              await sleep(5);
              await s.set(key, sessionOf({ n: (current?.n as number) + 1 }), LONG_TTL);
            } finally {
              await asPromise(lock.release());
            }
          }),
        );
        const got = await s.get(key);
        s.check(
          got?.n === workers,
          key,
          `${workers} increments made under the lock were not all kept`,
          sessionOf({ n: workers }),
          got,
        );
      },
    },
    {
      rule: 'lock gives up with no lock after its wait',
      body: async (s) => {
        const key = s.key();
        const held = await s.call('lock', key, { lease: 10_000, wait: 1_000 });
        s.check(Boolean(held), key, 'lock() of a free key gave no lock', A_LOCK, held);
        try {
          const other = await s.call('lock', key, { lease: 10_000, wait: 50 });
          s.check(!other, key, 'a second lock() of a held key gave a lock', NO_LOCK, other);
        } finally {
          await asPromise(held.release());
        }
        const after = await s.call('lock', key, { lease: 10_000, wait: 1_000 });
        s.check(Boolean(after), key, 'lock() after release() gave no lock', A_LOCK, after);
        await asPromise(after.release());
      },
    },
    {
      rule: 'locks of different keys are independent',
      body: async (s) => {
        const [first, second] = [s.key(), s.key()];
        const a = await s.call('lock', first, { lease: 10_000, wait: 1_000 });
        s.check(Boolean(a), first, 'lock() of a free key gave no lock', A_LOCK, a);
        try {
          const b = await s.call('lock', second, { lease: 10_000, wait: 1_000 });
          s.check(Boolean(b), second, 'lock() of another key waited for the first lock and gave up', A_LOCK, b);
          await asPromise(b.release());
        } finally {
          await asPromise(a.release());
        }
      },
    },
  ],
};
