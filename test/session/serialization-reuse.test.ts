/**
 * The middleware reuses the JSON it compared for the write that follows (and stores reuse it too).
 * These check that a reused string never outlives the object state it was made from.
 */
import Koa from 'koa';
import { afterEach, describe, expect, it } from 'vitest';
import session, { MemoryStore } from '../../src/index.js';
import { Client, listen, type Listening } from '../helpers/http.js';

let server: Listening | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(handler: Koa.Middleware, beforeSave?: (ctx: Koa.Context, s: Record<string, unknown>) => void) {
  const store = new MemoryStore();
  const app = new Koa();
  app.keys = ['k'];
  app.use(session({ store, beforeSave }));
  app.use(handler);
  server = await listen(app);
  return { store, client: new Client(server.url) };
}

describe('the JSON written is always the session as it is at the write', () => {
  it('an unchanged saveSession, regenerate, then a forced save writes the new empty session, not the old data', async () => {
    const { store, client } = await start(async (ctx) => {
      if (ctx.path === '/login') {
        ctx.session!.secret = 'old';
        ctx.body = 'ok';
        return;
      }
      const loaded = ctx.session!.secret;
      await ctx.saveSession(); // nothing changed: compared, not written
      const oldSid = ctx.sessionId;
      await ctx.regenerateSession();
      ctx.sessionSave = true;
      ctx.body = { oldSid, loaded };
    });
    await client.get('/login');
    const reply = await client.get('/rotate');
    expect(reply.body.loaded).toBe('old');
    const newSid = client.cookie('koa.sid')!;
    expect(newSid).not.toBe(reply.body.oldSid);
    expect(store.get('koa:sess:' + newSid)).toBeDefined();
    expect(store.get('koa:sess:' + newSid)?.secret).toBeUndefined();
    expect(store.get('koa:sess:' + reply.body.oldSid)).toBeUndefined();
  });

  it('changes made by beforeSave are written', async () => {
    const { store, client } = await start(
      (ctx) => {
        ctx.session!.n = 1;
        ctx.body = 'ok';
      },
      (_ctx, s) => {
        s.stamped = true;
      },
    );
    await client.get('/');
    expect(store.get('koa:sess:' + client.cookie('koa.sid'))).toMatchObject({ n: 1, stamped: true });
  });

  it('a session changed after saveSession is written again at the end with the later data', async () => {
    const { store, client } = await start(async (ctx) => {
      ctx.session!.step = 1;
      await ctx.saveSession();
      ctx.session!.step = 2;
      ctx.body = 'ok';
    });
    await client.get('/');
    expect(store.get('koa:sess:' + client.cookie('koa.sid'))?.step).toBe(2);
  });
});
