/**
 * The README's table of options, generated from the option table of the middleware
 * (src/middleware/option-table.ts): a row per option, in its order, with its default and its one
 * line. `npm run docs` writes it between the README's `options` markers.
 */
import { OPTIONS } from '../src/middleware/option-table.js';

/** Markdown text in a table cell: pipes escaped. */
const cell = (text: string) => text.replace(/\|/g, '\\|');

export function optionsTable(): string {
  const rows = ['| option | default | what it does |', '|---|---|---|'];
  for (const [name, spec] of Object.entries(OPTIONS)) {
    const call = 'call' in spec ? spec.call : '';
    rows.push(`| \`${name}${call}\` | ${cell(spec.shown)} | ${cell(spec.summary)} |`);
  }
  return rows.join('\n');
}
