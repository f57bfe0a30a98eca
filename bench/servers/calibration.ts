/**
 * Bare Koa with a known extra cost per request, for bench/calibrate.ts: BENCH_WORK_US µs of busy
 * work, and with BENCH_SET_COOKIES=1 the two `Set-Cookie` headers a saving session request sends
 * (fixed values, so nothing but the headers differs from bare Koa).
 */
import Koa from 'koa';
import { APP_KEYS, serve } from './common.js';

const workNs = BigInt(Math.round(Number(process.env.BENCH_WORK_US ?? 0) * 1000));
const ATTRS = '; path=/; expires=Fri, 27 Nov 2026 03:43:07 GMT; httponly';
const cookies =
  process.env.BENCH_SET_COOKIES === '1'
    ? [`koa.sid=${'A'.repeat(32)}${ATTRS}`, `koa.sid.sig=${'A'.repeat(27)}${ATTRS}`]
    : undefined;

const app = new Koa();
app.keys = APP_KEYS;
app.use((ctx) => {
  if (workNs > 0n) {
    const end = process.hrtime.bigint() + workNs;
    while (process.hrtime.bigint() < end);
  }
  if (cookies) ctx.res.setHeader('Set-Cookie', cookies);
  ctx.body = { count: 1 };
});
serve(app);
