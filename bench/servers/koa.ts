/** Bare Koa 3: the same routes without any session middleware; the baseline of every ratio. */
import Koa from 'koa';
import { APP_KEYS, serve } from './common.js';

const app = new Koa();
app.keys = APP_KEYS;
let count = 0;
app.use(async (ctx) => {
  switch (ctx.path) {
    case '/get':
      ctx.body = { count: ++count };
      return;
    case '/read':
      ctx.body = { count };
      return;
    case '/none':
      ctx.body = { ok: true };
      return;
  }
  ctx.status = 404;
});
serve(app);
