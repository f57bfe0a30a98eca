/**
 * The kit without a test runner: the middleware's acceptance, every contract rule, then (unless left
 * out) every lifecycle path, run one after another, each reported on a line of its own as it ends
 * (a failure with its message: the rule, the store, the key, what was expected, what came back, the
 * seed), then the counts, then the rules that failed. What the `koa-session-machine-kit` command
 * prints (./bin.ts).
 */
import { planKit, kitTimeout, type KitCheck, type KitOptions } from './checks.js';
import { replayHint } from './seed.js';

export interface KitReportOptions extends KitOptions {
  /** ms after which a check that has not ended fails (default `ttlBound + 10000`). */
  timeout?: number;
}

export interface KitCounts {
  passed: number;
  failed: number;
  skipped: number;
  /** The contract rules that failed, and the lifecycle paths that failed, in the order they ran. */
  failedRules: string[];
  failedPaths: string[];
  /** How many lifecycle paths ran (were not skipped). */
  pathsRun: number;
  seed: string;
}

/** Runs the checks, writing a line per check through `write`; the counts. */
export async function reportKit(options: KitReportOptions, write: (line: string) => void): Promise<KitCounts> {
  const timeout = kitTimeout(options);
  const plan = await planKit(options);
  const counts: KitCounts = {
    passed: 0,
    failed: 0,
    skipped: 0,
    failedRules: [],
    failedPaths: [],
    pathsRun: 0,
    seed: plan.seed,
  };
  write(`seed: ${replayHint(plan.seed)}`);
  const sections: [string, KitCheck[], string[]][] = [
    ['store contract', [plan.acceptance, ...plan.contract], counts.failedRules],
  ];
  if (plan.lifecycle.length > 0) sections.push(['session lifecycle paths', plan.lifecycle, counts.failedPaths]);
  try {
    for (const [title, checks, failures] of sections) {
      write(title);
      for (const check of checks) {
        if (check.skip) {
          counts.skipped++;
          write(`  - ${check.name} (skipped: ${check.skip})`);
          continue;
        }
        if (failures === counts.failedPaths) counts.pathsRun++;
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
          failures.push(check.name);
          write(`  ✗ ${check.name}`);
          indented(write, error);
        }
      }
    }
    for (const error of plan.unreported()) {
      counts.failed++;
      counts.failedRules.push('the store raises no error after the checks');
      write('  ✗ the store raises no error after the checks');
      indented(write, error);
    }
  } finally {
    plan.close();
  }
  write(`${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
  write(failedSummary(counts));
  return counts;
}

function indented(write: (line: string) => void, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  write(`      ${message.trimEnd().split('\n').join('\n      ')}`);
}

/** `N rules failed: …`, the lifecycle paths counted as one entry. */
export function failedSummary(counts: KitCounts): string {
  const entries = [...counts.failedRules];
  if (counts.failedPaths.length > 0)
    entries.push(`${counts.failedPaths.length} of ${counts.pathsRun} session lifecycle paths`);
  if (entries.length === 0) return '0 rules failed';
  return `${entries.length} ${entries.length === 1 ? 'rule' : 'rules'} failed: ${entries.join('; ')}`;
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
