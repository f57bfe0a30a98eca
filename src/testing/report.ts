/**
 * The kit without a test runner: every contract rule, then (unless left out) every lifecycle path,
 * run one after another, each reported on a line of its own as it ends, then a count. What the
 * `koa-session-machine-kit` command prints (./bin.ts).
 */
import { contractChecks, kitTimeout, lifecycleChecks, type KitCheck } from './checks.js';
import type { StoreContractOptions } from './contract.js';
import { resolveCapabilities } from './instrumented.js';
import type { SessionStore } from '../index.js';

export interface KitReportOptions extends StoreContractOptions {
  /** Run the lifecycle paths too (default `true`). */
  lifecycle?: boolean;
  /** ms after which a check that has not ended fails (default `ttlBound + 10000`). */
  timeout?: number;
}

export interface KitCounts {
  passed: number;
  failed: number;
  skipped: number;
}

/** Runs the checks, writing a line per check through `write`; the counts. */
export async function reportKit(options: KitReportOptions, write: (line: string) => void): Promise<KitCounts> {
  const supports = resolveCapabilities(options.supports);
  const timeout = kitTimeout(options);
  const counts: KitCounts = { passed: 0, failed: 0, skipped: 0 };
  const sections: [string, KitCheck[]][] = [['store contract', contractChecks(options)]];
  if (options.lifecycle !== false) {
    const run = {
      factory: options.factory,
      supports,
      ...(options.teardown ? { teardown: options.teardown as (store: SessionStore) => unknown } : {}),
    };
    sections.push(['session lifecycle paths', lifecycleChecks(run)]);
  }
  for (const [title, checks] of sections) {
    write(title);
    for (const check of checks) {
      if (check.skip) {
        counts.skipped++;
        write(`  - ${check.name} (skipped: ${check.skip})`);
        continue;
      }
      const started = Date.now();
      const error = await within(check.run(), timeout).then(
        () => undefined,
        (err: unknown) => err,
      );
      if (error === undefined) {
        counts.passed++;
        write(`  ✓ ${check.name} (${Date.now() - started} ms)`);
      } else {
        counts.failed++;
        write(`  ✗ ${check.name}`);
        const message = error instanceof Error ? error.message : String(error);
        write(`      ${message.trimEnd().split('\n').join('\n      ')}`);
      }
    }
  }
  write(`${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
  return counts;
}

/** `promise`, or a rejection when it has not settled within `ms`. */
function within(promise: Promise<void>, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`did not end within ${ms} ms`)), ms);
    promise.then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
