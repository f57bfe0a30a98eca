import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCounterApp } from '../../examples/app.js';
import { Client, listen, type Listening } from '../helpers/http.js';

describe('the example app', () => {
  let server: Listening;
  beforeAll(async () => {
    server = await listen(createCounterApp());
  });
  afterAll(() => server.close());

  it('counts, regenerates and logs out', async () => {
    const client = new Client(server.url);
    expect((await client.get('/get')).body).toEqual({ count: 1 });
    expect((await client.get('/get')).body).toEqual({ count: 2 });
    const sid = client.cookie('koa.sid');
    await client.get('/regenerate');
    expect(client.cookie('koa.sid')).toBeUndefined();
    expect((await client.get('/get')).body).toEqual({ count: 1 });
    expect(client.cookie('koa.sid')).not.toBe(sid);
    await client.get('/remove');
    expect(client.cookie('koa.sid')).toBeUndefined();
    expect((await client.get('/read')).body).toEqual({ count: 0 });
  });
});
