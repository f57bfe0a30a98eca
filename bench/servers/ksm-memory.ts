/** This library with its MemoryStore (the default store, given explicitly); BENCH_CONCURRENCY selects its concurrency mode. */
import Koa from 'koa';
import session, { MemoryStore } from 'koa-session-machine';
import { APP_KEYS, ksmOptions, serve, sessionRoutes } from './common.js';

const app = new Koa();
app.keys = APP_KEYS;
app.use(session(ksmOptions(new MemoryStore())));
app.use(sessionRoutes());
serve(app);
