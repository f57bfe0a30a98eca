/** The `update` capability: `update(key, session, ttl)` writes only an existing key. */
import assert from 'node:assert/strict';
import { settle, sessionOf, LONG_TTL, SHORT_TTL, type RuleGroup } from './probe.js';

export const updateRules: RuleGroup = {
  capability: 'update',
  rules: [
    {
      rule: 'update rewrites an existing entry and returns true',
      body: async (s) => {
        const key = s.key();
        await s.set(key, sessionOf({ n: 1 }), LONG_TTL);
        const ok = await settle(s.store.update(key, sessionOf({ n: 2 }), LONG_TTL));
        assert.equal(ok, true, `update() of an existing key returned ${String(ok)}`);
        assert.equal((await s.get(key))?.n, 2, 'update() did not write the session');
      },
    },
    {
      rule: 'update of a missing or destroyed key returns false and writes nothing',
      body: async (s) => {
        const missing = s.key('missing');
        const ok = await settle(s.store.update(missing, sessionOf({ n: 1 }), LONG_TTL));
        assert.equal(ok, false, `update() of a key never set returned ${String(ok)}`);
        assert.ok(!(await s.get(missing)), 'update() of a key never set created it');
        const key = s.key('destroyed');
        await s.set(key, sessionOf({ n: 1 }), LONG_TTL);
        await s.destroy(key);
        const again = await settle(s.store.update(key, sessionOf({ n: 2 }), LONG_TTL));
        assert.equal(again, false, `update() of a destroyed key returned ${String(again)}`);
        assert.ok(!(await s.get(key)), 'update() of a destroyed key brought it back');
      },
    },
    {
      rule: 'update sets the ttl it is given',
      needs: ['ttl'],
      body: async (s) => {
        const key = s.key();
        await s.set(key, sessionOf({ n: 1 }), LONG_TTL);
        assert.equal(
          await settle(s.store.update(key, sessionOf({ n: 2 }), SHORT_TTL)),
          true,
          'update() of an existing key did not return true',
        );
        const waited = await s.goneWithin(key, s.ttlBound);
        assert.ok(
          waited !== undefined,
          `an entry updated with a ttl of ${SHORT_TTL} ms was still there ${s.ttlBound} ms later`,
        );
      },
    },
  ],
};
