/** The `touch` capability: `touch(key, ttl)` refreshes the expiry without rewriting. */
import { entriesExpire } from './expiry.js';
import { sessionOf, LONG_TTL, type RuleGroup } from './probe.js';

export const touchRules: RuleGroup = {
  capability: 'touch',
  rules: [
    {
      rule: 'touch keeps the value and returns true',
      body: async (s) => {
        const key = s.key();
        await s.set(key, sessionOf({ n: 1 }), LONG_TTL);
        s.equal(key, await s.call('touch', key, LONG_TTL), true, 'touch() of an existing key did not return true');
        s.same(key, await s.get(key), sessionOf({ n: 1 }), 'touch() changed the stored session');
      },
    },
    {
      rule: 'touch of a missing or destroyed key returns false and creates nothing',
      body: async (s) => {
        const missing = s.key();
        s.equal(
          missing,
          await s.call('touch', missing, LONG_TTL),
          false,
          'touch() of a key never set did not return false',
        );
        s.nothing(missing, await s.get(missing), 'touch() of a key never set created it');
        const key = s.key();
        await s.set(key, sessionOf({ n: 1 }), LONG_TTL);
        await s.destroy(key);
        s.equal(key, await s.call('touch', key, LONG_TTL), false, 'touch() of a destroyed key did not return false');
        s.nothing(key, await s.get(key), 'touch() of a destroyed key brought it back');
      },
    },
    {
      rule: 'touch sets the expiry it is given',
      needs: ['ttl'],
      // Shortening the expiry shows that touch() sets it, without waiting out a long ttl.
      body: (s) =>
        entriesExpire(s, 'an entry touched', async (key, ttl) => {
          await s.set(key, sessionOf({ n: 1 }), LONG_TTL);
          s.equal(key, await s.call('touch', key, ttl), true, 'touch() of an existing key did not return true');
        }),
    },
  ],
};
