import { join } from 'node:path';
import { defineConfig, type Plugin } from 'vitest/config';

/**
 * KSM_XSTATE_DIR=<dir>: `xstate` and its subpaths (`xstate/graph`, …) are resolved from
 * <dir>/node_modules instead of the project's, with the same export conditions. CI installs the
 * newest xstate 5.x there and runs the machine tests against it (.ci/run), because the transition
 * table reads XState's internals (src/machines/definition.ts).
 */
function xstateFrom(dir: string): Plugin {
  // Resolved as if imported from a file there (the resolver starts from an existing file's directory).
  const importer = join(dir, 'node_modules', 'xstate', 'package.json');
  return {
    name: 'ksm-xstate-dir',
    enforce: 'pre',
    resolveId(source, _importer, options) {
      if (source !== 'xstate' && !source.startsWith('xstate/')) return null;
      return this.resolve(source, importer, { ...options, skipSelf: true });
    },
  };
}

const xstateDir = process.env.KSM_XSTATE_DIR;

export default defineConfig({
  plugins: xstateDir ? [xstateFrom(xstateDir)] : [],
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/redis-global.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    reporters: ['default', './test/setup/summary-reporter.ts'],
  },
});
