/**
 * The `.sig` check: genuine signatures are remembered so that a returning cookie costs no HMAC;
 * that memory must never let a forged signature pass, and must follow key rotation.
 */
import Koa from 'koa';
import { afterEach, describe, expect, it } from 'vitest';
import session from '../../src/index.js';
import { Client, listen, type Listening } from '../helpers/http.js';

let server: Listening | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function counter(keys: string[]) {
  const app = new Koa();
  app.keys = keys;
  app.use(session());
  app.use((ctx) => {
    ctx.session!.n = ((ctx.session!.n as number) ?? 0) + 1;
    ctx.body = { n: ctx.session!.n };
  });
  server = await listen(app);
  return { app, client: new Client(server.url) };
}

describe('signed session cookies', () => {
  it('a remembered sid with a wrong signature is still refused', async () => {
    const { client } = await counter(['a', 'b']);
    await client.get('/');
    await client.get('/'); // the signature is now remembered
    const sid = client.cookie('koa.sid')!;
    const sig = client.cookie('koa.sid.sig')!;
    const forged = sig.slice(0, -1) + (sig.endsWith('A') ? 'B' : 'A');
    const reply = await client.get('/', { cookie: `koa.sid=${sid}; koa.sid.sig=${forged}` });
    expect(reply.body).toEqual({ n: 1 });
    const issued = reply.setCookies.find((c) => c.name === 'koa.sid' && !c.expired);
    expect(issued?.value).not.toBe(sid);
  });

  it('rotation: a cookie signed with an older key is accepted and re-signed with the newest', async () => {
    const { app, client } = await counter(['old']);
    await client.get('/');
    const sid = client.cookie('koa.sid')!;
    const oldSig = client.cookie('koa.sid.sig')!;
    app.keys = ['new', 'old'];
    const reply = await client.get('/');
    expect(reply.body).toEqual({ n: 2 });
    expect(client.cookie('koa.sid')).toBe(sid);
    expect(client.cookie('koa.sid.sig')).not.toBe(oldSig);
  });

  it('a key that was removed no longer verifies, even for a remembered signature', async () => {
    const { app, client } = await counter(['old']);
    await client.get('/');
    await client.get('/');
    const sid = client.cookie('koa.sid')!;
    app.keys = ['new'];
    const reply = await client.get('/');
    expect(reply.body).toEqual({ n: 1 });
    expect(client.cookie('koa.sid')).not.toBe(sid);
  });
});
