/**
 * The `.sig` check: genuine signatures are remembered so that a returning cookie costs no HMAC;
 * that memory must never let a forged signature pass, and must follow key rotation through
 * `app.keys` (an older key's cookie is accepted and re-signed with the newest key).
 */
import Keygrip from 'keygrip';
import Koa from 'koa';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/index.js';
import { closeApps, startApp } from '../helpers/apps.js';
import { KOA_VERSIONS } from '../helpers/koa.js';
import { cookieOf } from '../helpers/set-cookies.js';
import { PREFIX } from '../helpers/store-keys.js';

afterEach(closeApps);

async function counter(keys: string[]) {
  const served = await startApp(
    Koa,
    undefined,
    (ctx) => {
      ctx.session!.n = ((ctx.session!.n as number) ?? 0) + 1;
      ctx.body = { n: ctx.session!.n };
    },
    { keys },
  );
  return { app: served.app, client: served.client() };
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

describe.each(KOA_VERSIONS)('key rotation ($name)', ({ Koa }) => {
  it('a cookie signed with an older key is accepted and its .sig re-signed with the newest key in the same response', async () => {
    const store = new MemoryStore();
    const served = await startApp(Koa, { store }, (ctx) => {
      const s = ctx.session!;
      if (ctx.path === '/inc') s.n = ((s.n as number) ?? 0) + 1;
      ctx.body = { n: s.n ?? null };
    });
    served.app.keys = ['k1'];
    const browser = served.client();
    await browser.get('/inc');
    const sid = browser.cookie('koa.sid')!;

    for (const keys of [
      ['k2', 'k1'],
      ['k3', 'k2'],
    ]) {
      served.app.keys = keys;
      // A read-only request: nothing changed, yet the signature comes back signed with keys[0].
      const read = await browser.get('/read');
      expect(read.body).toEqual({ n: 1 });
      expect(cookieOf(read, 'koa.sid')).toBeUndefined();
      const sig = cookieOf(read, 'koa.sid.sig');
      expect(sig?.value).toBe(new Keygrip([keys[0]!]).sign(`koa.sid=${sid}`));
      expect(sig?.attributes.path).toBe('/');
    }
    // The first key is gone now, and so is the second: the session survived both rotations.
    served.app.keys = ['k3'];
    expect((await browser.get('/inc')).body).toEqual({ n: 2 });
    expect(browser.cookie('koa.sid')).toBe(sid);
    expect(served.errors).toEqual([]);
  });

  it('a cookie signed with the newest key gets no extra Set-Cookie', async () => {
    const served = await startApp(Koa, {}, (ctx) => {
      ctx.session!.n = 1;
      ctx.body = 'ok';
    });
    const browser = served.client();
    await browser.get('/');
    const again = await browser.get('/');
    expect(again.setCookies).toEqual([]);
  });

  it('an older-key cookie whose sid the store does not know is reset, not re-signed', async () => {
    const store = new MemoryStore();
    const served = await startApp(Koa, { store }, (ctx) => {
      ctx.body = { n: ctx.session!.n ?? null };
    });
    served.app.keys = ['new', 'old'];
    const sig = new Keygrip(['old']).sign('koa.sid=unknown-sid');
    const reply = await served.client().get('/', { cookie: `koa.sid=unknown-sid; koa.sid.sig=${sig}` });
    expect(reply.body).toEqual({ n: null });
    expect(cookieOf(reply, 'koa.sid')?.expired).toBe(true);
    expect(cookieOf(reply, 'koa.sid.sig')?.expired).toBe(true);
    expect(store.get(`${PREFIX}unknown-sid`)).toBeUndefined();
  });
});
