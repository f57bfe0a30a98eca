/** This library with its RedisStore; BENCH_CONCURRENCY selects its concurrency mode. */
import Koa from 'koa';
import session, { RedisStore } from 'koa-session-machine';
import { APP_KEYS, ksmOptions, redisUrl, serve, sessionRoutes } from './common.js';

if (!redisUrl) throw new Error('BENCH_REDIS_URL is not set');
const store = new RedisStore({ url: redisUrl });
const app = new Koa();
app.keys = APP_KEYS;
app.use(session(ksmOptions(store)));
app.use(sessionRoutes());
serve(app, () => store.close());
