/**
 * docs/custom-stores.md says what the kit has: its list of rules and its counts of rules and paths
 * are generated from the kit's code (scripts/kit-docs.ts), and this fails when the committed doc
 * differs (run `npm run docs`).
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../scripts/diagrams/index.js';
import { KIT_DOC, kitCounts, renderKitDocs, ruleList } from '../../scripts/kit-docs.js';
import { RULE_GROUPS } from '../../src/testing/contract.js';

describe('the kit in docs/custom-stores.md', () => {
  it('is what the code has (run `npm run docs` when this fails)', async () => {
    const generated = (await renderKitDocs(ROOT)).get(KIT_DOC);
    expect(await readFile(ROOT + KIT_DOC, 'utf8')).toBe(generated);
  });

  it('lists every rule and counts them', () => {
    const list = ruleList();
    for (const { rules } of RULE_GROUPS) for (const { rule } of rules) expect(list).toContain(rule);
    const count = 1 + RULE_GROUPS.reduce((n, g) => n + g.rules.length, 0);
    expect(kitCounts()).toContain(`**${count} rules**`);
  });
});
