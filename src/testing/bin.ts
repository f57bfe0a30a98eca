#!/usr/bin/env node
/**
 * `npx koa-session-machine-kit ./my-store.mjs`: the conformance kit on a store, without a test
 * file. The module's default export is the factory (a fresh store per check, may be async); its
 * optional named exports are `supports` (the capabilities, as for `testStore`), `teardown(store)`,
 * `ttlBound` and `name`. Prints the seed, a line per rule and per lifecycle path, the counts, and the
 * rules that failed; the exit code is 1 when a check failed, 2 when the module cannot be used.
 * `--contract-only` leaves the lifecycle paths out; `--seed <seed>` (or KSM_KIT_SEED) replays a run.
 * See docs/custom-stores.md.
 */
import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { SessionStore } from '../index.js';
import type { StoreCapabilities } from './instrumented.js';
import { reportKit } from './report.js';

const USAGE =
  'usage: koa-session-machine-kit [--contract-only] [--seed <seed>] <store module>\n' +
  '  the module exports a store factory as its default export, and optionally supports, teardown, ttlBound and name';

interface StoreModule {
  default?: unknown;
  supports?: StoreCapabilities;
  teardown?: (store: SessionStore) => unknown;
  ttlBound?: number;
  name?: string;
}

function usage(message: string): never {
  console.error(`koa-session-machine-kit: ${message}\n${USAGE}`);
  process.exit(2);
}

let parsed: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    allowPositionals: true,
    options: { 'contract-only': { type: 'boolean' }, seed: { type: 'string' } },
  });
}
try {
  parsed = parse();
} catch (err) {
  usage(err instanceof Error ? err.message : String(err));
}
const files = parsed.positionals;
if (files.length !== 1)
  usage(files.length === 0 ? 'no store module given' : `one store module, not ${files.join(' ')}`);
const file = files[0]!;

let loaded: StoreModule;
try {
  loaded = (await import(pathToFileURL(resolve(file)).href)) as StoreModule;
} catch (err) {
  usage(`cannot import ${file}: ${err instanceof Error ? err.message : String(err)}`);
}
const factory = loaded.default;
if (typeof factory !== 'function')
  usage(`${file} has no default export that is a store factory (a function returning a store)`);

console.log(`koa-session-machine-kit: ${file} (supports: ${JSON.stringify(loaded.supports ?? {})})`);
const counts = await reportKit(
  {
    factory: factory as () => SessionStore | Promise<SessionStore>,
    name: loaded.name ?? basename(file),
    ...(loaded.supports ? { supports: loaded.supports } : {}),
    ...(loaded.teardown ? { teardown: loaded.teardown } : {}),
    ...(loaded.ttlBound !== undefined ? { ttlBound: loaded.ttlBound } : {}),
    ...(parsed.values.seed !== undefined ? { seed: parsed.values.seed } : {}),
    lifecycle: parsed.values['contract-only'] !== true,
  },
  (line) => console.log(line),
);
// A store client the teardown left open, or a check that never ended, must not keep the process.
process.exit(counts.failed > 0 ? 1 : 0);
