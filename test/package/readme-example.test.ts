/**
 * The README's first example is the app a new user copies: it must run as written. It is taken
 * from the README itself (the first `js` block), its `app.listen(3000)` swapped for a free port and
 * two requests, and run in a fresh `node` against the built package (dist/, from `npm run build`),
 * which it imports by name as an app does.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import MarkdownIt from 'markdown-it';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const built = existsSync(new URL('../../dist/index.js', import.meta.url));
const run = promisify(execFile);

/** The first fenced `js` block of the README. */
function firstExample(): string {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const fence = new MarkdownIt().parse(readme, {}).find((t) => t.type === 'fence' && t.info.trim() === 'js');
  return fence!.content;
}

const LISTEN = 'app.listen(3000);';

/** Two requests from one browser, their bodies printed as JSON; then the server closes. */
const TWO_REQUESTS = `
const server = app.listen(0, '127.0.0.1', async () => {
  const url = 'http://127.0.0.1:' + server.address().port + '/';
  const first = await fetch(url);
  const cookie = first.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const second = await fetch(url, { headers: { cookie } });
  console.log(JSON.stringify([await first.text(), await second.text()]));
  server.close();
});`;

describe("the README's first example", () => {
  it('imports the package by name and listens on port 3000', () => {
    const example = firstExample();
    expect(example).toContain("from 'koa-session-machine'");
    expect(example).toContain(LISTEN);
  });

  it('runs as written: the session counts the views of one browser', async () => {
    if (!built) throw new Error('dist/index.js is missing: run `npm run build` before this test');
    const code = firstExample().replace(LISTEN, TWO_REQUESTS);
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', code], { cwd: root, timeout: 15_000 });
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual(['1 views', '2 views']);
  });
});
