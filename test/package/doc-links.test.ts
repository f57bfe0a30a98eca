/**
 * Every relative link in the pages a user reads (README.md, CONTRIBUTING.md, CHANGELOG.md and
 * docs/*.md) leads somewhere: the file or folder exists, and a `#fragment` names a heading of the
 * page it points to, with the id GitHub gives that heading (github-slugger implements GitHub's rule:
 * lower case, punctuation dropped, spaces to hyphens, repeated headings numbered). The pages are
 * parsed with markdown-it, so what looks like a link inside code is not one; images count as links.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import GithubSlugger from 'github-slugger';
import MarkdownIt, { type Token } from 'markdown-it';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const md = new MarkdownIt({ html: true });

const PAGES = [
  'README.md',
  'CONTRIBUTING.md',
  'CHANGELOG.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

/** The tokens of a page, inline children included, in document order. */
function tokensOf(text: string): Token[] {
  return md.parse(text, {}).flatMap((token) => [token, ...(token.children ?? [])]);
}

/** Every link and image target of a page, from Markdown and from inline HTML. */
function targetsOf(text: string): string[] {
  return tokensOf(text).flatMap((token) => {
    if (token.type === 'link_open') return [String(token.attrGet('href'))];
    if (token.type === 'image') return [String(token.attrGet('src'))];
    if (token.type === 'html_inline' || token.type === 'html_block') {
      return [...token.content.matchAll(/\b(?:href|src)="([^"]*)"/g)].map((m) => m[1]!);
    }
    return [];
  });
}

/** The ids GitHub gives the headings of a page (and any explicit HTML id or name). */
function anchorsOf(text: string): Set<string> {
  const slugger = new GithubSlugger();
  const tokens = tokensOf(text);
  const anchors = new Set<string>();
  tokens.forEach((token, i) => {
    if (token.type === 'heading_open') {
      const inline = tokens[i + 1]!;
      const words = (inline.children ?? [])
        .filter((child) => child.type === 'text' || child.type === 'code_inline')
        .map((child) => child.content)
        .join('');
      anchors.add(slugger.slug(words));
    }
    if (token.type === 'html_inline' || token.type === 'html_block') {
      for (const m of token.content.matchAll(/\b(?:id|name)="([^"]*)"/g)) anchors.add(m[1]!);
    }
  });
  return anchors;
}

/** A target inside the repository: no scheme (https:, mailto:) and not protocol-relative. */
function isRelative(target: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith('//');
}

/** What is wrong with a relative link of `page`, or undefined when it leads somewhere. */
function brokenLink(page: string, target: string): string | undefined {
  const [path, fragment] = target.split('#', 2) as [string, string | undefined];
  const file = path === '' ? join(ROOT, page) : join(dirname(join(ROOT, page)), decodeURIComponent(path));
  const shown = relative(ROOT, file) || '.';
  if (!existsSync(file)) return `${target}: ${shown} does not exist`;
  if (fragment === undefined || !file.endsWith('.md')) return undefined;
  const anchors = anchorsOf(readFileSync(file, 'utf8'));
  return anchors.has(decodeURIComponent(fragment)) ? undefined : `${target}: ${shown} has no heading #${fragment}`;
}

describe('relative links in the README and docs', () => {
  it('reads the pages it checks, and finds their links', () => {
    expect(PAGES.length).toBeGreaterThan(5);
    const readme = targetsOf(readFileSync(join(ROOT, 'README.md'), 'utf8')).filter(isRelative);
    expect(readme.length).toBeGreaterThan(5);
  });

  it('takes GitHub ids for headings with code, punctuation and repeats', () => {
    const page = '# A `b: c` (d)\n\n## Café, crème!\n\n## Café, crème!\n\n`[not](a-link.md)`\n';
    expect([...anchorsOf(page)]).toEqual(['a-b-c-d', 'café-crème', 'café-crème-1']);
    expect(targetsOf(page)).toEqual([]);
  });

  it.each(PAGES)('every relative link in %s leads to a file, and its #fragment to a heading', (page) => {
    const targets = targetsOf(readFileSync(join(ROOT, page), 'utf8')).filter(isRelative);
    const broken = targets.map((target) => brokenLink(page, target)).filter((problem) => problem !== undefined);
    expect(broken).toEqual([]);
  });
});
