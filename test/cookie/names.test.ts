/**
 * Cookie names real koa-generic-session apps use, which must work unchanged: every name Koa's
 * cookies module accepts is a valid `key`, and the others are refused at start-up.
 */
import Cookies from 'cookies';
import { afterEach, describe, expect, it } from 'vitest';
import session from '../../src/index.js';
import { KOA_VERSIONS } from '../helpers/koa.js';
import { closeApps, startApp } from '../helpers/apps.js';

afterEach(closeApps);

/** Whether Koa's cookies module accepts `name` (it throws a TypeError on a name it refuses). */
function cookiesAccepts(name: string): boolean {
  const res = { getHeader: () => undefined, setHeader: () => undefined };
  try {
    new Cookies({ headers: {}, connection: {} } as never, res as never, { secure: false }).set(name, 'v', {
      signed: false,
    });
    return true;
  } catch {
    return false;
  }
}

describe('cookie names', () => {
  const names = ['koa:sess', 'koss:test_sid', 'koa.sid', 'my sid', 'é', 'a;b', 'a=b', 'a\nb', 'sid\u0000', ''];

  it.each(names)('%j is accepted exactly when Koa cookies accepts it', (name) => {
    const make = () => session({ key: name });
    if (cookiesAccepts(name)) expect(make).not.toThrow();
    else expect(make).toThrow(/option "key" must be a cookie name/);
  });

  it.each(KOA_VERSIONS)('koa:sess and koss:test_sid carry a session over HTTP ($name)', async ({ Koa }) => {
    for (const key of ['koa:sess', 'koss:test_sid']) {
      const served = await startApp(Koa, { key }, (ctx) => {
        const s = ctx.session!;
        s.n = ((s.n as number) ?? 0) + 1;
        ctx.body = { n: s.n };
      });
      const browser = served.client();
      await browser.get('/');
      expect(browser.cookie(key)).toBeDefined();
      expect(browser.cookie(`${key}.sig`)).toBeDefined();
      expect((await browser.get('/')).body).toEqual({ n: 2 });
    }
  });
});
