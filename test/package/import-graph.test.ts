/**
 * The layers of src/ import one way (CONTRIBUTING.md, "Code and docs"): the machines at the
 * bottom, pure; the stores beside them; the sessions API on the stores; the Koa glue above all
 * three; the conformance kit on the public API (and the machine definitions it walks, and the
 * middleware's acceptance of a store, which it shares). An import against that direction fails
 * here, with the file and the import named.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** Each folder of src/, and what its files may import besides their own folder. */
const MAY_IMPORT: Record<string, readonly string[]> = {
  machines: [],
  stores: [],
  sessions: ['stores'],
  middleware: ['machines', 'stores', 'sessions'],
  // The kit walks the machine definitions and runs stores through the middleware's own acceptance.
  testing: ['index', 'machines', 'stores'],
};

/** Packages a layer may use: the machines know XState and nothing of Koa, stores or Node's HTTP. */
const PACKAGES_REFUSED: Record<string, RegExp> = {
  machines: /^(?!xstate(\/|$))/,
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

/** The specifiers of a file's static and dynamic imports and re-exports (type-only ones too). */
function importsOf(file: string): string[] {
  const code = readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
  const found = code.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm);
  return [...found].map((m) => m[1]!);
}

/** The top-level part of src/ a path is in: a folder name, or a file at the top (`index`, the public API). */
const layerOf = (path: string) =>
  relative(SRC, path)
    .split(/[\\/]/)[0]!
    .replace(/\.[jt]s$/, '');

function violations(): string[] {
  const found: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const layer = layerOf(file);
    const allowed = MAY_IMPORT[layer];
    if (allowed === undefined) continue; // src/index.ts: the public API gathers every layer
    for (const spec of importsOf(file)) {
      const where = `${relative(SRC, file)} imports '${spec}'`;
      if (spec.startsWith('.')) {
        const target = layerOf(resolve(file, '..', spec));
        if (target !== layer && !allowed.includes(target)) found.push(where);
      } else if (PACKAGES_REFUSED[layer]?.test(spec)) {
        found.push(where);
      }
    }
  }
  return found;
}

describe('the import graph of src/', () => {
  it('has no arrow against the layers', () => {
    expect(violations()).toEqual([]);
  });

  it('sees the imports it checks (every layer imports something)', () => {
    const seen = new Set(sourceFiles(SRC).flatMap((file) => (importsOf(file).length > 0 ? [layerOf(file)] : [])));
    for (const layer of Object.keys(MAY_IMPORT)) expect(seen).toContain(layer);
  });
});
