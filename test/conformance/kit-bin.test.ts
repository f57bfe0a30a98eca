/**
 * The kit as a command (`npx koa-session-machine-kit ./my-store.mjs`, src/testing/bin.ts), run as
 * a process on store modules in plain JavaScript: a correct store passes every rule and lifecycle
 * path and exits 0; a store whose index keeps removed entries fails exactly those rules, named in
 * the report and in the closing summary, and exits 1; a store the middleware refuses gets that one
 * failure; a store whose setup rejects where no one awaits it fails, named, without crashing the
 * command; the seed is printed and `--seed` replays it; a module that is no store module is a usage
 * error (exit 2).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const FIXTURES = 'test/conformance/fixtures/kit-bin';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function kit(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/testing/bin.ts', ...args],
      { timeout: 120_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? Number((err as { code?: unknown }).code ?? -1) : 0, stdout, stderr });
      },
    );
  });
}

/** The report's lines for checks: `[mark, name]`. */
function checks(stdout: string): [string, string][] {
  return stdout
    .split('\n')
    .map((line) => /^ {2}([✓✗-]) (.*?)(?: \(\d+ ms\)| \(skipped: .*\))?$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1]!, m[2]!]);
}

describe('koa-session-machine-kit', () => {
  it('package.json names the command, and its script starts with a shebang (npm makes bins executable on install)', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { bin?: Record<string, string> };
    expect(pkg.bin).toEqual({ 'koa-session-machine-kit': './dist/testing/bin.js' });
    expect(readFileSync('src/testing/bin.ts', 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('a correct store: every rule and every lifecycle path it can run passes, exit code 0', async () => {
    const run = await kit(`${FIXTURES}/good-store.mjs`);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = checks(run.stdout);
    expect(lines.filter(([mark]) => mark === '✗')).toEqual([]);
    expect(lines).toContainEqual(['✓', 'an index entry is listed after indexAdd, and gone after indexRemove']);
    expect(lines).toContainEqual(['-', 'update rewrites an existing entry and returns true']);
    expect(run.stdout).toContain('session lifecycle paths\n');
    const passed = lines.filter(([mark]) => mark === '✓').length;
    const skipped = lines.filter(([mark]) => mark === '-').length;
    expect(passed).toBeGreaterThan(100);
    expect(run.stdout.trimEnd().split('\n').slice(-2)).toEqual([
      `${passed} passed, 0 failed, ${skipped} skipped`,
      '0 rules failed',
    ]);
  }, 120_000);

  it('a store whose indexRemove does nothing: the rules it breaks fail by name, the others pass, exit code 1', async () => {
    const run = await kit('--contract-only', `${FIXTURES}/stale-index-store.mjs`);
    expect(run.code).toBe(1);
    const failed = checks(run.stdout)
      .filter(([mark]) => mark === '✗')
      .map(([, name]) => name);
    expect(failed).toEqual([
      'an index entry is listed after indexAdd, and gone after indexRemove',
      'indexAdd of a listed handle replaces its entry but keeps its createdAt',
      'the indexes of different owners are independent',
    ]);
    expect(run.stdout).toContain('indexList() still gives a handle after indexRemove() of it');
    expect(run.stdout).toContain('        store:    stale-index-store.mjs\n');
    expect(run.stdout).not.toContain('session lifecycle paths');
    const [counts, summary] = run.stdout.trimEnd().split('\n').slice(-2);
    expect(counts).toMatch(/^\d+ passed, 3 failed, \d+ skipped$/);
    expect(summary).toBe(`3 rules failed: ${failed.join('; ')}`);
  }, 60_000);

  it('prints its seed, and the same seed replays the same keys', async () => {
    const [first, again] = await Promise.all([
      kit('--contract-only', '--seed', 'replay-me', `${FIXTURES}/stale-index-store.mjs`),
      kit('--contract-only', '--seed', 'replay-me', `${FIXTURES}/stale-index-store.mjs`),
    ]);
    expect(first.stdout).toContain('seed: replay-me (KSM_KIT_SEED=replay-me replays it)\n');
    const keys = (out: string) => [...out.matchAll(/key: {6}(".*")/g)].map((m) => m[1]);
    expect(keys(first.stdout).length).toBe(3);
    expect(keys(again.stdout)).toEqual(keys(first.stdout));
  }, 60_000);

  it('a store the middleware refuses: one failure with its message, nothing else runs, exit code 1', async () => {
    const run = await kit(`${FIXTURES}/generator-store.mjs`);
    expect(run.code).toBe(1);
    expect(checks(run.stdout)).toEqual([['✗', 'the middleware accepts the store']]);
    expect(run.stdout).toContain('store.get() is a generator function');
    expect(run.stdout.trimEnd().split('\n').slice(-2)).toEqual([
      '0 passed, 1 failed, 0 skipped',
      '1 rule failed: the middleware accepts the store',
    ]);
  }, 60_000);

  it('a store whose setup rejects where no one awaits it: a failure naming the store and the check, no crash', async () => {
    const run = await kit('--contract-only', `${FIXTURES}/failing-setup-store.mjs`);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('');
    expect(checks(run.stdout)).toEqual([['✗', 'the middleware accepts the store']]);
    expect(run.stdout).toMatch(
      /the middleware accepts the store: the store raised an unhandled rejection during this check: Error: the sessions table could not be created\n {8}store: {4}a store whose setup fails\n/,
    );
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe('1 rule failed: the middleware accepts the store');
  }, 60_000);

  it('no module, or a module without a factory, is a usage error (exit code 2)', async () => {
    const none = await kit();
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no store module given');
    const notStore = await kit('package.json');
    expect(notStore.code).toBe(2);
    expect(notStore.stderr).toMatch(/no default export that is a store factory|cannot import/);
  }, 60_000);
});
