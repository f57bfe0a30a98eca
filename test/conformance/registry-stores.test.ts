/**
 * The kit on the stores people run with koa-generic-session, installed from the registry
 * (scripts/registry-stores/stores.ts): each gets the verdict docs/custom-stores.md publishes, rule
 * for rule, and its lifecycle paths pass or fail as published. When a verdict changes (a new rule,
 * a new version of a store), this fails until `npm run kit:registry` writes the table again.
 * koa-redis runs on the run's redis-server; without one it is skipped, loudly.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { REGISTRY_STORES } from '../../scripts/registry-stores/stores.js';
import { verdictCauses, verdictOf, verdictRow } from '../../scripts/registry-stores/verdict.js';

const url = inject('redisUrl');
const doc = readFileSync(new URL('../../docs/custom-stores.md', import.meta.url), 'utf8');
const block = doc.slice(doc.indexOf('<!-- registry-stores:start -->'), doc.indexOf('<!-- registry-stores:end -->'));

describe('the kit on the registry stores gives the verdicts docs/custom-stores.md publishes', () => {
  it('the docs carry the table', () => {
    expect(block).toContain('| store | version | kit verdict |');
  });

  for (const store of REGISTRY_STORES) {
    const runnable = store.needs === 'registry' || (store.needs === 'redis' && url !== '');
    const title =
      store.needs === 'unavailable'
        ? `${store.package}: the row from its source (${store.unavailable})`
        : runnable
          ? `${store.package}: the kit's verdict is the published one`
          : `!!! ${store.package}: SKIPPED, redis-server is not on PATH !!!`;
    (runnable || store.needs === 'unavailable' ? it : it.skip)(
      title,
      async () => {
        const verdict = await verdictOf(store, url);
        expect(block).toContain(verdictRow(store, verdict));
        for (const line of verdictCauses(store)) expect(block).toContain(line);
      },
      300_000,
    );
  }
});
