/**
 * The transition table is read from XState's internals while the dependency range lets any later
 * xstate 5.x in. Should one store a definition differently, an app must still start: the
 * middleware then runs real XState actors, warning once per process. Here the installed xstate is
 * made to look like such a release (a transition without the `reenter` flag the reader checks,
 * which XState itself treats as false), before the first `session()` of this file's process
 * (vitest runs each file in its own module graph, so the table has not been compiled yet).
 */
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import session, { MemoryStore } from '../../src/index.js';
import { sessionMachine } from '../../src/machines/session.machine.js';
import { Client, listen, type Listening } from '../helpers/http.js';
import { PREFIX } from '../helpers/store-keys.js';

const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
const store = new MemoryStore();
let servers: Listening[] = [];

function app(): Koa {
  const koa = new Koa();
  koa.keys = ['fallback-test-key'];
  koa.use(session({ store }));
  koa.use((ctx) => {
    if (ctx.path === '/logout') ctx.session = null;
    else if (ctx.path === '/inc') ctx.session!.n = ((ctx.session!.n as number | undefined) ?? 0) + 1;
    ctx.body = { n: ctx.session?.n ?? null };
  });
  return koa;
}

beforeAll(async () => {
  // The COMMIT transitions of `loaded`, which every request that loads a session takes.
  for (const t of sessionMachine.root.states.loaded!.transitions.get('COMMIT')!)
    delete (t as { reenter?: boolean }).reenter;
  // Two apps in one process: still one warning.
  servers = [await listen(app()), await listen(app())];
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  warn.mockRestore();
});

describe('when the session machine cannot be read into a table', () => {
  it('the app starts, warns once saying why, and runs XState actors instead', () => {
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(
      /could not be compiled into its transition table, so every request runs an XState actor instead.*the reenter of a transition of "loaded" on COMMIT is not a boolean/,
    );
  });

  it('sessions behave as ever over HTTP: created, loaded and changed, unchanged, destroyed', async () => {
    for (const server of servers) {
      const browser = new Client(server.url);
      const created = await browser.get('/inc');
      expect(created.body).toEqual({ n: 1 });
      const sid = browser.cookie('koa.sid');
      expect(sid).toBeDefined();
      expect(store.get(PREFIX + sid)).toMatchObject({ n: 1 });

      expect((await browser.get('/inc')).body).toEqual({ n: 2 });
      expect(store.get(PREFIX + sid)).toMatchObject({ n: 2 });

      const read = await browser.get('/read');
      expect(read.body).toEqual({ n: 2 });
      expect(read.setCookies).toEqual([]);

      const out = await browser.get('/logout');
      expect(out.setCookies.find((c) => c.name === 'koa.sid')?.expired).toBe(true);
      expect(store.get(PREFIX + sid)).toBeUndefined();
    }
    expect(warn).toHaveBeenCalledTimes(1);
  });
});
