/** The `events` capability: `on()` for `connect` / `disconnect`, and `connected`. */
import { described } from '../failure.js';
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
        s.check(
          connected === undefined || typeof connected === 'boolean',
          undefined,
          `connected is a ${typeof connected}, not a boolean`,
          described('a boolean, or no connected property'),
          connected,
        );
      },
    },
  ],
};
