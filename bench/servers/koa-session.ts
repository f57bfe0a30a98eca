/** koa-session 7 in its default cookie mode: the session lives in a signed cookie, no store. */
import Koa from 'koa';
import session from 'koa-session';
import { APP_KEYS, rolling, serve, sessionRoutes } from './common.js';

const app = new Koa();
app.keys = APP_KEYS;
app.use(session({ rolling }, app));
app.use(sessionRoutes());
serve(app);
