/** The `events` capability: `on()` for `connect` / `disconnect`, and `connected`. */
import assert from 'node:assert/strict';
import { type RuleGroup } from './probe.js';

export const eventRules: RuleGroup = {
  capability: 'events',
  rules: [
    {
      rule: 'events: on() takes connect and disconnect listeners, connected is a boolean when present',
      body: async (s) => {
        const noop = () => undefined;
        for (const event of ['connect', 'disconnect']) {
          s.store.on(event, noop);
          (s.store.off ?? s.store.removeListener)?.call(s.store, event, noop);
        }
        const connected = s.store.connected as unknown;
        assert.ok(
          connected === undefined || typeof connected === 'boolean',
          `connected is ${typeof connected}, not a boolean`,
        );
      },
    },
  ],
};
