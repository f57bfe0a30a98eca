#!/usr/bin/env node
/**
 * `npx koa-session-machine-kit ./my-store.mjs`: the conformance kit on a store, without a test
 * file. The module's default export is the factory (a fresh store per check, may be async); its
 * optional named exports are `supports` (the capabilities, as for `testStore`), `teardown(store)`
 * and `ttlBound`. Prints a line per rule and per lifecycle path, then the counts; the exit code is
 * 1 when a check failed, 2 when the module cannot be used. `--contract-only` leaves the lifecycle
 * paths out. See docs/custom-stores.md.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SessionStore } from '../index.js';
import type { StoreCapabilities } from './instrumented.js';
import { reportKit } from './report.js';

const USAGE =
  'usage: koa-session-machine-kit [--contract-only] <store module>\n' +
  '  the module exports a store factory as its default export, and optionally supports, teardown and ttlBound';

interface StoreModule {
  default?: unknown;
  supports?: StoreCapabilities;
  teardown?: (store: SessionStore) => unknown;
  ttlBound?: number;
}

function usage(message: string): never {
  console.error(`koa-session-machine-kit: ${message}\n${USAGE}`);
  process.exit(2);
}

const args = process.argv.slice(2);
const contractOnly = args.includes('--contract-only');
const files = args.filter((a) => a !== '--contract-only');
if (files.length !== 1 || files[0]!.startsWith('-'))
  usage(files.length === 0 ? 'no store module given' : `cannot read the arguments ${args.join(' ')}`);

let loaded: StoreModule;
try {
  loaded = (await import(pathToFileURL(resolve(files[0]!)).href)) as StoreModule;
} catch (err) {
  usage(`cannot import ${files[0]}: ${err instanceof Error ? err.message : String(err)}`);
}
const factory = loaded.default;
if (typeof factory !== 'function')
  usage(`${files[0]} has no default export that is a store factory (a function returning a store)`);

console.log(`koa-session-machine-kit: ${files[0]} (supports: ${JSON.stringify(loaded.supports ?? {})})`);
const counts = await reportKit(
  {
    factory: factory as () => SessionStore | Promise<SessionStore>,
    ...(loaded.supports ? { supports: loaded.supports } : {}),
    ...(loaded.teardown ? { teardown: loaded.teardown } : {}),
    ...(loaded.ttlBound !== undefined ? { ttlBound: loaded.ttlBound } : {}),
    lifecycle: !contractOnly,
  },
  (line) => console.log(line),
);
// A store client the teardown left open, or a check that never ended, must not keep the process.
process.exit(counts.failed > 0 ? 1 : 0);
