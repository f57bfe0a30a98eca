/** koa-generic-session 2.3.1 with its own MemoryStore: the baseline users have. */
import Koa from 'koa';
import session from 'koa-generic-session';
import { APP_KEYS, rolling, serve, sessionRoutes } from './common.js';

const app = new Koa();
app.keys = APP_KEYS;
app.use(session({ store: new session.MemoryStore(), rolling }));
app.use(sessionRoutes());
serve(app);
