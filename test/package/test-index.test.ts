/**
 * test/README.md is the index of the tests by behaviour: every test file is named in it, under the
 * heading of its folder, so that a reader finds where a behaviour is tested and a new file cannot
 * be left out of the index.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const TEST = fileURLToPath(new URL('../', import.meta.url));
const index = readFileSync(join(TEST, 'README.md'), 'utf8');

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(path);
    return entry.name.endsWith('.test.ts') ? [relative(TEST, path)] : [];
  });
}

/** The index's section of a top folder: from its `### \`folder/\`` heading to the next heading. */
function sectionOf(folder: string): string {
  const sections = index.split(/^### /m).filter((s) => s.startsWith('`'));
  return sections.filter((s) => s.split('\n')[0]!.includes(`\`${folder}/\``)).join('\n');
}

describe('test/README.md', () => {
  const files = testFiles(TEST);

  it('finds the test files it checks', () => {
    expect(files.length).toBeGreaterThan(50);
  });

  it.each(files)('names %s in its folder', (file) => {
    const [folder, ...rest] = file.split(/[\\/]/);
    const name = rest.join('/');
    const section = sectionOf(folder!);
    // A file may be named alone (`defer.test.ts`) or with a sub-folder (`chaos/chaos.test.ts`)
    // or, in a shared section, with its folder (`conformance/memory.test.ts`).
    const named = [`\`${name}\``, `\`${folder}/${name}\``].some((form) => section.includes(form));
    expect(named, `test/README.md's section for ${folder}/ does not name ${name}`).toBe(true);
  });
});
