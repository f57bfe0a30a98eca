/** This library with its RedisStore; BENCH_CONCURRENCY selects its concurrency mode. */
import Koa from 'koa';
import { APP_KEYS, ksmLibrary, ksmOptions, redisUrl, serve, sessionRoutes } from './common.js';

if (!redisUrl) throw new Error('BENCH_REDIS_URL is not set');
const { default: session, RedisStore } = await ksmLibrary();
const store = new RedisStore({ url: redisUrl });
const app = new Koa();
app.keys = APP_KEYS;
app.use(session(ksmOptions(store)));
app.use(sessionRoutes());
serve(app, () => store.close());
