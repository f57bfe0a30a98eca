/** The `add` capability: `add(key, session, ttl)` writes only a missing key. */
import assert from 'node:assert/strict';
import { settle, sessionOf, LONG_TTL, SHORT_TTL, type RuleGroup } from './probe.js';

export const addRules: RuleGroup = {
  capability: 'add',
  rules: [
    {
      rule: 'add writes a missing key and returns true',
      body: async (s) => {
        const key = s.key();
        const ok = await settle(s.store.add(key, sessionOf({ n: 1 }), LONG_TTL));
        assert.equal(ok, true, `add() of a key never set returned ${String(ok)}`);
        assert.equal((await s.get(key))?.n, 1, 'add() did not write the session');
      },
    },
    {
      rule: 'add of an existing key returns false and leaves the entry as it was',
      body: async (s) => {
        const key = s.key();
        await s.set(key, sessionOf({ n: 1 }), LONG_TTL);
        const ok = await settle(s.store.add(key, sessionOf({ n: 2 }), LONG_TTL));
        assert.equal(ok, false, `add() of an existing key returned ${String(ok)}`);
        assert.equal((await s.get(key))?.n, 1, 'add() of an existing key overwrote it');
        // Once the entry is gone, add() may create it again.
        await s.destroy(key);
        assert.equal(
          await settle(s.store.add(key, sessionOf({ n: 3 }), LONG_TTL)),
          true,
          'add() after destroy() returned false',
        );
        assert.equal((await s.get(key))?.n, 3, 'add() after destroy() did not write the session');
      },
    },
    {
      rule: 'add sets the ttl it is given',
      needs: ['ttl'],
      body: async (s) => {
        const key = s.key();
        assert.equal(
          await settle(s.store.add(key, sessionOf({ n: 1 }), SHORT_TTL)),
          true,
          'add() of a key never set did not return true',
        );
        assert.ok(
          (await s.get(key))?.n === 1,
          `an entry added with a ttl of ${SHORT_TTL} ms was not there right after`,
        );
        const waited = await s.goneWithin(key, s.ttlBound);
        assert.ok(
          waited !== undefined,
          `an entry added with a ttl of ${SHORT_TTL} ms was still there ${s.ttlBound} ms later`,
        );
      },
    },
  ],
};
