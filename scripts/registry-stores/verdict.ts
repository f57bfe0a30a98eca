/**
 * The kit's verdict on one registry store: every check run as `npx koa-session-machine-kit` runs
 * them, with a fixed seed, and what failed. And the Markdown table of the verdicts that
 * docs/custom-stores.md carries between `<!-- registry-stores:start -->` and its end marker.
 */
import { ACCEPTANCE, reportKit, type KitCounts } from '../../src/testing/core.js';
import { installedVersion, type RegistryStore } from './stores.js';

/** The seed of the published verdicts: the keys do not change a verdict, but a rerun gives the same lines. */
export const VERDICT_SEED = 'registry-stores';

export interface Verdict {
  package: string;
  version: string;
  /** Absent when the store could not be run here. */
  counts?: KitCounts;
}

/** Runs the kit on `store`, both the contract and the lifecycle paths. */
export async function verdictOf(store: RegistryStore, redisUrl: string | undefined): Promise<Verdict> {
  const version = store.needs === 'unavailable' ? 'not installed' : installedVersion(store.package);
  if (!store.factory) return { package: store.package, version };
  const counts = await reportKit(
    {
      name: `${store.package} ${version}`,
      factory: store.factory(redisUrl),
      ...(store.teardown ? { teardown: store.teardown } : {}),
      ...(store.ttlBound !== undefined ? { ttlBound: store.ttlBound } : {}),
      seed: VERDICT_SEED,
    },
    () => undefined,
  );
  return { package: store.package, version, counts };
}

/** Markdown text in a table cell. */
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

const link = (name: string) => `[${name}](https://www.npmjs.com/package/${name})`;

/** The row of one store in the table of verdicts. */
export function verdictRow(store: RegistryStore, verdict: Verdict): string {
  const c = verdict.counts;
  if (!c)
    return `| ${link(store.package)} | ${verdict.version} | ${cell(`${store.fromSource}, from its source: it ${store.unavailable}`)} | — | — |`;
  const refused = c.failedRules.includes(ACCEPTANCE);
  const kit = c.failed === 0 ? 'passes' : refused ? 'refused by the middleware' : 'fails';
  // Whether paths fail, not how many: the middleware's own sids are random, and a store that loses
  // some sids (one with `__` and a digit) fails a few more paths in some runs than in others.
  const paths = refused ? 'not run' : c.failedPaths.length === 0 ? `none of ${c.pathsRun}` : `some of ${c.pathsRun}`;
  return `| ${link(store.package)} | ${verdict.version} | ${kit} | ${refused ? '—' : cell(c.failedRules.join('; ') || 'none')} | ${paths} |`;
}

/** What a store's failures come from, read from its source, under the table. */
export function verdictCauses(store: RegistryStore): string[] {
  if (store.causes.length === 0) return [];
  return [`**${store.package}**:`, '', ...store.causes.map((cause) => `- ${cause}`), ''];
}

/** The table of verdicts, a row per store, then the causes of each store's failures. */
export function verdictTable(stores: readonly RegistryStore[], verdicts: readonly Verdict[]): string {
  const rows = [
    '| store | version | kit verdict | contract rules failed | lifecycle paths that fail |',
    '|---|---|---|---|---|',
    ...stores.map((store) =>
      verdictRow(
        store,
        verdicts.find((v) => v.package === store.package)!,
      ),
    ),
  ];
  return [
    ...rows,
    '',
    "What the failures come from, read from each store's source:",
    '',
    ...stores.flatMap(verdictCauses),
  ].join('\n');
}
