/**
 * A TypeScript app passes the stores it has to `session({ store })` without a cast, and keeps its
 * `SessionData` on `ctx.session`: a fresh project (test/package/types-project) installs the packed
 * package beside koa-redis typed by @types/koa-redis (which brings @types/koa-session's own
 * declaration of ctx.session) and compiles with `tsc --noEmit` and what `tsc --init` writes (strict,
 * skipLibCheck). Its `@ts-expect-error` lines fail the compile if the app's fields lose their types.
 * With `skipLibCheck: false` the package's declarations compile beside @types/koa-session's too
 * (exactOptionalPropertyTypes off: xstate's own declarations do not compile with it).
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const project = fileURLToPath(new URL('./types-project/', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

let dir: string;

/** `tsc` of the project; its output when it fails. */
async function tsc(...args: string[]): Promise<string> {
  try {
    await run(process.execPath, [join(dir, 'node_modules/typescript/bin/tsc'), '-p', dir, ...args], {
      timeout: 120_000,
    });
    return '';
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: string; stderr?: string };
    return `${stdout ?? ''}${stderr ?? ''}` || String(err);
  }
}

beforeAll(async () => {
  if (!existsSync(join(root, 'dist/index.d.ts')))
    throw new Error('dist/ is missing: run `npm run build` before this test');
  dir = mkdtempSync(join(tmpdir(), 'ksm-types-'));
  cpSync(project, dir, { recursive: true });
  // The package as it is published: its tarball, from the build already made.
  await run(npm, ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: root, timeout: 120_000 });
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
  await run(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', `./${tarball}`], {
    cwd: dir,
    timeout: 240_000,
  });
}, 300_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('types in a fresh project with @types/koa-redis', () => {
  it('compiles with what tsc --init writes: koa-redis and a class with extra parameters and overloads as stores, ctx.session with the app fields', async () => {
    expect(await tsc()).toBe('');
  }, 120_000);

  it("compiles with skipLibCheck: false: the package's ctx.session beside @types/koa-session's", async () => {
    expect(await tsc('--skipLibCheck', 'false', '--exactOptionalPropertyTypes', 'false')).toBe('');
  }, 120_000);
});
