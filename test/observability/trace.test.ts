/**
 * `DEBUG=koa-session-machine`: one line per request with its path through the session machine and
 * why it ended there, one per store connection change, and nothing at all when the namespace is off.
 */
import { EventEmitter } from 'node:events';
import { format } from 'node:util';
import createDebug from 'debug';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Koa from 'koa';
import { MemoryStore } from '../../src/index.js';
import { trace } from '../../src/middleware/trace.js';
import { closeApps, startApp } from '../helpers/apps.js';

let lines: string[] = [];
const originalLog = trace.log;

beforeEach(() => {
  lines = [];
  trace.log = (...args: unknown[]) => void lines.push(format(...args));
});
afterEach(async () => {
  createDebug.disable();
  trace.log = originalLog;
  await closeApps();
});

const counter = (ctx: { path: string; session: Record<string, unknown> | null; body: unknown }) => {
  if (ctx.path === '/none') {
    ctx.body = 'no session';
    return;
  }
  const s = ctx.session!;
  if (ctx.path === '/inc') s.n = ((s.n as number) ?? 0) + 1;
  if (ctx.path === '/logout') ctx.session = null;
  ctx.body = { n: s.n ?? null };
};

describe('DEBUG=koa-session-machine', () => {
  it('writes one line per request: method, path, what the client sent, the states, and why', async () => {
    createDebug.enable('koa-session-machine');
    const served = await startApp(Koa, { store: new MemoryStore() }, counter as never);
    const browser = served.client();
    await browser.get('/none');
    await browser.get('/inc');
    await browser.get('/read');
    await browser.get('/logout');
    await browser.get('/read', { cookie: 'koa.sid=forged; koa.sid.sig=nope' });
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(/koa-session-machine GET \/none: session not used/);
    expect(lines[1]).toMatch(
      /GET \/inc no cookie: fresh → creating → saved: changed\. Written to the store; the cookie was sent\./,
    );
    expect(lines[2]).toMatch(
      /GET \/read cookie: loading → loaded → unchanged: nothing changed\. Nothing to write: no store call, no cookie\./,
    );
    expect(lines[3]).toMatch(
      /GET \/logout cookie: loading → loaded → removed → destroying → destroyed: .*Deleted from the store; the cookie was expired\./,
    );
    expect(lines[4]).toMatch(/GET \/read bad cookie: fresh → unchanged: nothing changed\./);
  });

  it('writes one line per change of the store connection', async () => {
    createDebug.enable('koa-session-machine');
    const inner = new MemoryStore();
    // A store that reports its connection, as koa-redis and RedisStore do.
    const store = Object.assign(new EventEmitter(), {
      get: (k: string) => inner.get(k),
      set: (k: string, v: never, ttl?: number) => inner.set(k, v, ttl),
      destroy: (k: string) => inner.destroy(k),
    });
    await startApp(Koa, { store, reconnectTimeout: 60_000 }, counter as never);
    store.emit('disconnect');
    store.emit('connect');
    expect(lines.filter((l) => l.includes('store connection'))).toEqual([
      expect.stringMatching(/store connection: starting → connected/),
      expect.stringMatching(/store connection: connected → reconnecting/),
      expect.stringMatching(/store connection: reconnecting → connected/),
    ]);
  });

  it('writes nothing when the namespace is off', async () => {
    createDebug.enable('something-else');
    const served = await startApp(Koa, {}, counter as never);
    const browser = served.client();
    await browser.get('/inc');
    await browser.get('/read');
    expect(lines).toEqual([]);
  });
});
