/**
 * `require('koa-session-machine')` gives the callable factory in a CommonJS app. This runs
 * the built package (dist/, produced by `npm run build`, which CI runs before the tests) in plain
 * Node, outside vitest's module system, exactly as a CommonJS user would load it.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const built = existsSync(new URL('../../dist/cjs/index.cjs', import.meta.url));
const run = promisify(execFile);

function needBuild(): void {
  if (!built) throw new Error('dist/cjs/index.cjs is missing: run `npm run build` before this test');
}

/** Runs CommonJS code in a fresh `node` and returns what it printed as JSON. */
async function node(code: string): Promise<any> {
  const { stdout } = await run(process.execPath, ['-e', code], { cwd: root, timeout: 15_000 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

describe('CommonJS require', () => {
  it('test/package/require.cjs gets the callable factory and MemoryStore', () => {
    needBuild();
    const require = createRequire(import.meta.url);
    const loaded = require('./require.cjs') as { session: any; MemoryStore: any; isFunction: boolean };
    expect(loaded.isFunction).toBe(true);
    expect(typeof loaded.MemoryStore).toBe('function');
    expect(typeof loaded.session({})).toBe('function');
    expect(loaded.session.default).toBe(loaded.session);
    expect(new loaded.MemoryStore()).toBeInstanceOf(loaded.session.MemoryStore);
  });

  it('require() and import give the same classes (one copy of the code)', async () => {
    needBuild();
    const out = await node(`
      const session = require('koa-session-machine');
      import('koa-session-machine').then((esm) => {
        console.log(JSON.stringify({
          callable: typeof session === 'function',
          sameDefault: esm.default === session,
          sameStore: esm.MemoryStore === session.MemoryStore,
          named: ['MemoryStore', 'SessionError', 'STORE_UNAVAILABLE_MESSAGE'].every((k) => k in session),
        }));
      });
    `);
    expect(out).toEqual({ callable: true, sameDefault: true, sameStore: true, named: true });
  });

  it('a CommonJS Koa app keeps a session with the required factory', async () => {
    needBuild();
    const out = await node(`
      const Koa = require('koa');
      const session = require('koa-session-machine');
      const app = new Koa();
      app.keys = ['keys', 'keykeys'];
      app.use(session());
      app.use((ctx) => {
        ctx.session.count = (ctx.session.count || 0) + 1;
        ctx.body = String(ctx.session.count);
      });
      const server = app.listen(0, '127.0.0.1', async () => {
        const url = 'http://127.0.0.1:' + server.address().port + '/';
        const first = await fetch(url);
        const cookie = first.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
        const second = await fetch(url, { headers: { cookie } });
        console.log(JSON.stringify({ first: await first.text(), second: await second.text(), cookie: /koa\\.sid=/.test(cookie) }));
        server.close();
      });
    `);
    expect(out).toEqual({ first: '1', second: '2', cookie: true });
  });
});
