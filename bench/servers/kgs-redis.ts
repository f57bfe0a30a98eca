/** koa-generic-session 2.3.1 with koa-redis 4 (ioredis 4, its default settings). */
import Koa from 'koa';
import session from 'koa-generic-session';
import redisStore from 'koa-redis';
import { APP_KEYS, redisUrl, rolling, serve, sessionRoutes } from './common.js';

if (!redisUrl) throw new Error('BENCH_REDIS_URL is not set');
const store = redisStore({ url: redisUrl });
const app = new Koa();
app.keys = APP_KEYS;
app.use(session({ store, rolling }));
app.use(sessionRoutes());
serve(app, () => store.quit());
