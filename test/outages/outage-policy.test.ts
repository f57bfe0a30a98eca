/**
 * The outage policy, `storeOutage` (docs/store-outages.md): with 'fail' (the default) a request the
 * store cannot serve answers 503 "session store is unavailable"; with 'degrade' it is served with an
 * empty session that is never saved, and an `onEvent` notice says why. Either way an outage never
 * reaches the app's `errorHandler`; the store errors that are not outages (errors about the data)
 * still do (options/error-handler.test.ts).
 *
 * With a store whose connection the test controls; the same policies on a real redis-server killed
 * mid-request are in redis-server-faults.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '../helpers/http.js';
import { ControlledStore } from './fixtures/controlled-store.js';
import { closeApps } from '../helpers/apps.js';
import { counterApp } from './fixtures/counter-app.js';

afterEach(closeApps);

/** A counter app with `storeOutage: 'degrade'` and a 50 ms `storeTimeout`. */
async function degradingServer() {
  const store = new ControlledStore();
  const app = await counterApp({ store: store as never, storeTimeout: 50, storeOutage: 'degrade' });
  return { store, notices: app.degraded, url: app.url };
}

describe("storeOutage: 'fail' (the default)", () => {
  it("with 'fail', a closed store answers 503, not 500", async () => {
    const store = new ControlledStore();
    const app = await counterApp({ store: store as never });
    const client = new Client(app.url);
    await client.get('/');
    store.get = async () => {
      throw Object.assign(new Error('RedisStore: the store is closed'), { code: 'ERR_STORE_CLOSED' });
    };
    const reply = await client.get('/');
    expect(reply.status).toBe(503);
    expect(reply.text).toBe('session store is unavailable');
  });
});

describe("storeOutage: 'degrade'", () => {
  it("'degrade' serves an empty session that is never saved, and says so", async () => {
    const { store, notices, url } = await degradingServer();
    const client = new Client(url);
    expect((await client.get('/')).body).toEqual({ n: 1 });
    const sid = client.cookie('koa.sid')!;
    store.stall = new Promise(() => undefined);
    const degraded = await client.get('/');
    expect(degraded.status).toBe(200);
    expect(degraded.body).toEqual({ n: 1 });
    expect(degraded.setCookies).toEqual([]);
    expect(notices).toEqual(['get got no answer within 50 ms']);
    // Nothing overwrote the stored session.
    expect(store.inner.get('koa:sess:' + sid)?.n).toBe(1);
  });

  it('a write that meets an outage leaves the session unsaved and the request answered', async () => {
    const { store, notices, url } = await degradingServer();
    store.stall = new Promise(() => undefined);
    const reply = await new Client(url).get('/');
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ n: 1 });
    expect(reply.setCookies).toEqual([]);
    expect(notices).toEqual(['set got no answer within 50 ms']);
  });
});
