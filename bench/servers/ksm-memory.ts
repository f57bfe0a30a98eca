/** This library with its MemoryStore (the default store, given explicitly); BENCH_CONCURRENCY selects its concurrency mode. */
import Koa from 'koa';
import { APP_KEYS, ksmLibrary, ksmOptions, serve, sessionRoutes } from './common.js';

const { default: session, MemoryStore } = await ksmLibrary();
const app = new Koa();
app.keys = APP_KEYS;
app.use(session(ksmOptions(new MemoryStore())));
app.use(sessionRoutes());
serve(app);
