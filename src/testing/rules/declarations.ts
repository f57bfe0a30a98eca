/**
 * What a store declares in `supports` is checked where it is given: a capability declared true must
 * have its methods. A capability left out is detected from the store's methods (instrumented.ts);
 * one declared false switches its rules off.
 */
import { described } from '../failure.js';
import { CAPABILITY_METHODS } from '../instrumented.js';
import { type RuleGroup } from './probe.js';

export const declarationRules: RuleGroup = {
  rules: [
    {
      rule: 'the declared capabilities match the store',
      body: async (s, _supports, declared) => {
        for (const [capability, methods] of Object.entries(CAPABILITY_METHODS)) {
          if (declared[capability as keyof typeof CAPABILITY_METHODS] !== true) continue;
          const lacking = methods.filter((m) => typeof s.store[m] !== 'function');
          s.check(
            lacking.length === 0,
            undefined,
            `supports.${capability} is declared but the store has no ${lacking.map((m) => `${m}()`).join(', ')}`,
            described(methods.map((m) => `${m}()`).join(', ')),
            described(`no ${lacking.map((m) => `${m}()`).join(', ')}`),
          );
        }
      },
    },
  ],
};
