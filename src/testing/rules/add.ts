/** The `add` capability: `add(key, session, ttl)` writes only a missing key. */
import { entriesExpire } from './expiry.js';
import { sessionOf, LONG_TTL, type RuleGroup } from './probe.js';

export const addRules: RuleGroup = {
  capability: 'add',
  rules: [
    {
      rule: 'add writes a missing key and returns true',
      body: async (s) => {
        const key = s.key();
        s.equal(
          key,
          await s.call('add', key, sessionOf({ n: 1 }), LONG_TTL),
          true,
          'add() of a key never set did not return true',
        );
        const got = await s.get(key);
        s.check(got?.n === 1, key, 'add() did not write the session', sessionOf({ n: 1 }), got);
      },
    },
    {
      rule: 'add of an existing key returns false and leaves the entry as it was',
      body: async (s) => {
        const key = s.key();
        await s.set(key, sessionOf({ n: 1 }), LONG_TTL);
        s.equal(
          key,
          await s.call('add', key, sessionOf({ n: 2 }), LONG_TTL),
          false,
          'add() of an existing key did not return false',
        );
        const kept = await s.get(key);
        s.check(kept?.n === 1, key, 'add() of an existing key overwrote it', sessionOf({ n: 1 }), kept);
        // Once the entry is gone, add() may create it again.
        await s.destroy(key);
        s.equal(
          key,
          await s.call('add', key, sessionOf({ n: 3 }), LONG_TTL),
          true,
          'add() after destroy() did not return true',
        );
        const again = await s.get(key);
        s.check(again?.n === 3, key, 'add() after destroy() did not write the session', sessionOf({ n: 3 }), again);
      },
    },
    {
      rule: 'add sets the ttl it is given',
      needs: ['ttl'],
      body: (s) =>
        entriesExpire(s, 'an entry added', async (key, ttl) => {
          s.equal(
            key,
            await s.call('add', key, sessionOf({ n: 1 }), ttl),
            true,
            'add() of a key never set did not return true',
          );
        }),
    },
  ],
};
