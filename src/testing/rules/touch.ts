/** The `touch` capability: `touch(key, ttl)` refreshes the expiry without rewriting. */
import assert from 'node:assert/strict';
import { settle, normalize, sessionOf, LONG_TTL, SHORT_TTL, type RuleGroup } from './probe.js';

export const touchRules: RuleGroup = {
  capability: 'touch',
  rules: [
    {
      rule: 'touch keeps the value and returns true',
      body: async (s) => {
        const key = s.key();
        await s.set(key, sessionOf({ n: 1 }), LONG_TTL);
        const ok = await settle(s.store.touch(key, LONG_TTL));
        assert.equal(ok, true, `touch() of an existing key returned ${String(ok)}`);
        assert.deepEqual(
          normalize(await s.get(key)),
          normalize(sessionOf({ n: 1 })),
          'touch() changed the stored session',
        );
      },
    },
    {
      rule: 'touch of a missing or destroyed key returns false and creates nothing',
      body: async (s) => {
        const missing = s.key('missing');
        const ok = await settle(s.store.touch(missing, LONG_TTL));
        assert.equal(ok, false, `touch() of a key never set returned ${String(ok)}`);
        assert.ok(!(await s.get(missing)), 'touch() of a key never set created it');
        const key = s.key('destroyed');
        await s.set(key, sessionOf({ n: 1 }), LONG_TTL);
        await s.destroy(key);
        const again = await settle(s.store.touch(key, LONG_TTL));
        assert.equal(again, false, `touch() of a destroyed key returned ${String(again)}`);
        assert.ok(!(await s.get(key)), 'touch() of a destroyed key brought it back');
      },
    },
    {
      rule: 'touch sets the expiry it is given',
      needs: ['ttl'],
      body: async (s) => {
        // Shortening the expiry shows that touch() sets it, without waiting out a long ttl.
        const key = s.key();
        await s.set(key, sessionOf({ n: 1 }), LONG_TTL);
        assert.equal(
          await settle(s.store.touch(key, SHORT_TTL)),
          true,
          'touch() of an existing key did not return true',
        );
        const waited = await s.goneWithin(key, s.ttlBound);
        assert.ok(
          waited !== undefined,
          `an entry touched with a ttl of ${SHORT_TTL} ms was still there ${s.ttlBound} ms later`,
        );
      },
    },
  ],
};
