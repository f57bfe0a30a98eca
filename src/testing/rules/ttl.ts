/** The `ttl` capability: `set(key, session, ttl)` expires the entry after `ttl` ms. */
import assert from 'node:assert/strict';
import { sessionOf, SHORT_TTL, type RuleGroup } from './probe.js';

export const ttlRules: RuleGroup = {
  capability: 'ttl',
  rules: [
    {
      rule: 'an entry is gone after its ttl',
      body: async (s) => {
        const key = s.key();
        await s.set(key, sessionOf({ n: 1 }), SHORT_TTL);
        const waited = await s.goneWithin(key, s.ttlBound);
        assert.ok(
          waited !== undefined,
          `an entry set with a ttl of ${SHORT_TTL} ms was still there ${s.ttlBound} ms later (is the ttl read as ms?)`,
        );
      },
    },
  ],
};
