/**
 * `npm run docs`: regenerates the lifecycle diagrams from the machine definitions: the SVGs under
 * docs/diagrams/ (the full diagrams and the session's overview) and the generated blocks of
 * docs/lifecycle.md, docs/store-outages.md and any doc with a `counts` block (README.md included).
 * `npm run docs -- --dot` also writes the DOT sources to /tmp for a closer look.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { dotSources, renderAll, ROOT } from './diagrams/index.js';

const files = await renderAll();
for (const [path, content] of files) {
  const file = join(ROOT, path);
  const before = await readFile(file, 'utf8').catch(() => undefined);
  if (before === content) {
    console.log(`unchanged ${path}`);
    continue;
  }
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, content);
  console.log(`wrote     ${path}`);
}
if (process.argv.includes('--dot')) {
  for (const [name, dot] of dotSources()) {
    await writeFile(`/tmp/${name}.dot`, dot);
    console.log(`wrote     /tmp/${name}.dot`);
  }
}
