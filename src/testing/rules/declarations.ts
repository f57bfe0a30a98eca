/** The first rule: the capabilities a store declares are the methods it has. */
import assert from 'node:assert/strict';
import { type RuleGroup } from './probe.js';

export const declarationRules: RuleGroup = {
  rules: [
    {
      rule: 'the declared capabilities match the store',
      body: async (s, supports) => {
        for (const method of ['get', 'set', 'destroy']) {
          assert.equal(typeof s.store[method], 'function', `a store needs a ${method}() method`);
        }
        for (const capability of ['touch', 'update', 'add', 'lock'] as const) {
          const has = typeof s.store[capability] === 'function';
          if (supports[capability])
            assert.ok(has, `supports.${capability} is declared but the store has no ${capability}() method`);
          else {
            assert.ok(
              !has,
              `the store has a ${capability}() method but supports.${capability} is not declared; ` +
                'the middleware uses every method a store has, so declare it and let the kit test it',
            );
          }
        }
        const indexMethods = ['indexAdd', 'indexRemove', 'indexList'];
        const indexing = indexMethods.filter((m) => typeof s.store[m] === 'function');
        if (supports.index) {
          const lacking = indexMethods.filter((m) => !indexing.includes(m));
          assert.ok(
            lacking.length === 0,
            `supports.index is declared but the store has no ${lacking.map((m) => `${m}()`).join(', ')}`,
          );
        } else {
          assert.ok(
            indexing.length === 0,
            `the store has ${indexing.map((m) => `${m}()`).join(', ')} but supports.index is not declared; ` +
              "the middleware's owner option uses the index of any store that has it, so declare it and let the kit test it",
          );
        }
        const evented = typeof s.store.on === 'function';
        if (supports.events) assert.ok(evented, 'supports.events is declared but the store has no on() method');
        else {
          assert.ok(
            !evented,
            'the store has an on() method but supports.events is not declared; the middleware listens to the ' +
              'connect/disconnect events of every store that has on(), so declare it',
          );
        }
      },
    },
  ],
};
