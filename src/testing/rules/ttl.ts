/** The `ttl` capability: `set(key, session, ttl)` keeps the entry `ttl` ms, and no longer. */
import { entriesExpire } from './expiry.js';
import { sessionOf, type RuleGroup } from './probe.js';

export const ttlRules: RuleGroup = {
  capability: 'ttl',
  rules: [
    {
      rule: 'an entry is there until its ttl, and gone soon after',
      body: (s) => entriesExpire(s, 'an entry set', (key, ttl) => s.set(key, sessionOf({ n: 1 }), ttl)),
    },
  ],
};
