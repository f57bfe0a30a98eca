/** The `update` capability: `update(key, session, ttl)` writes only an existing key. */
import { entriesExpire } from './expiry.js';
import { sessionOf, LONG_TTL, type RuleGroup } from './probe.js';

export const updateRules: RuleGroup = {
  capability: 'update',
  rules: [
    {
      rule: 'update rewrites an existing entry and returns true',
      body: async (s) => {
        const key = s.key();
        await s.set(key, sessionOf({ n: 1 }), LONG_TTL);
        s.equal(
          key,
          await s.call('update', key, sessionOf({ n: 2 }), LONG_TTL),
          true,
          'update() of an existing key did not return true',
        );
        const got = await s.get(key);
        s.check(got?.n === 2, key, 'update() did not write the session', sessionOf({ n: 2 }), got);
      },
    },
    {
      rule: 'update of a missing or destroyed key returns false and writes nothing',
      body: async (s) => {
        const missing = s.key();
        s.equal(
          missing,
          await s.call('update', missing, sessionOf({ n: 1 }), LONG_TTL),
          false,
          'update() of a key never set did not return false',
        );
        s.nothing(missing, await s.get(missing), 'update() of a key never set created it');
        const key = s.key();
        await s.set(key, sessionOf({ n: 1 }), LONG_TTL);
        await s.destroy(key);
        s.equal(
          key,
          await s.call('update', key, sessionOf({ n: 2 }), LONG_TTL),
          false,
          'update() of a destroyed key did not return false',
        );
        s.nothing(key, await s.get(key), 'update() of a destroyed key brought it back');
      },
    },
    {
      rule: 'update sets the ttl it is given',
      needs: ['ttl'],
      body: (s) =>
        entriesExpire(s, 'an entry updated', async (key, ttl) => {
          await s.set(key, sessionOf({ n: 1 }), LONG_TTL);
          s.equal(
            key,
            await s.call('update', key, sessionOf({ n: 2 }), ttl),
            true,
            'update() of an existing key did not return true',
          );
        }),
    },
  ],
};
