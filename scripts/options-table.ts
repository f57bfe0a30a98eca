/**
 * The README's table of options, generated from the option table of the middleware
 * (src/middleware/option-table.ts): a row per option, in its order, each name linked to its
 * details in docs/options.md, with its default and its one line. `npm run docs` writes it between
 * the README's `options` markers.
 */
import { OPTIONS } from '../src/middleware/option-table.js';

/** Markdown text in a table cell: pipes escaped. */
const cell = (text: string) => text.replace(/\|/g, '\\|');

export function optionsTable(): string {
  const rows = ['| option | default | meaning |', '|---|---|---|'];
  for (const [name, spec] of Object.entries(OPTIONS)) {
    const meaning = 'call' in spec ? `\`${spec.call}\`: ${spec.summary}` : spec.summary;
    // docs/options.md has a heading per option; GitHub's anchor of "`allowEmpty`" is "allowempty".
    const link = `[\`${name}\`](docs/options.md#${name.toLowerCase()})`;
    rows.push(`| ${link} | ${cell(spec.shown)} | ${cell(meaning)} |`);
  }
  return rows.join('\n');
}
