/**
 * `npm run docs`: regenerates the lifecycle diagrams from the machine definitions: the SVGs under
 * docs/diagrams/ (the full diagrams and the session's overview) and the generated blocks of
 * docs/lifecycle.md, docs/store-outages.md and any doc with a `counts` block (README.md included),
 * the README's table of options; and the kit's rules and counts in docs/custom-stores.md (kit-docs.ts).
 * `npm run docs -- --dot` also writes the DOT sources to /tmp for a closer look.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { dotSources, renderAll, ROOT } from './diagrams/index.js';
import { renderKitDocs } from './kit-docs.js';

const files = new Map([...(await renderAll()), ...(await renderKitDocs(ROOT))]);
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
