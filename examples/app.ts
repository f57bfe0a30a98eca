/**
 * The example app of the README: a counter kept in the session. Exported as a function so that
 * the tests and the benchmark run the very same app.
 */
import Koa from 'koa';
import session, { type SessionOptions } from '../src/index.js';

export function createCounterApp(options: SessionOptions = {}): Koa {
  const app = new Koa();
  app.keys = ['keys', 'keykeys'];
  app.use(session(options));
  app.use(async (ctx) => {
    const sess = options.defer ? await ctx.session : ctx.session;
    switch (ctx.path) {
      case '/get': {
        if (!sess) break;
        sess.count = (typeof sess.count === 'number' ? sess.count : 0) + 1;
        ctx.body = { count: sess.count };
        return;
      }
      case '/read':
        ctx.body = { count: sess?.count ?? 0 };
        return;
      case '/remove':
        ctx.session = null;
        ctx.body = { removed: true };
        return;
      case '/regenerate':
        await ctx.regenerateSession();
        ctx.body = { sid: ctx.sessionId };
        return;
      case '/':
        ctx.type = 'html';
        ctx.body = PAGE;
        return;
    }
    ctx.status = 404;
  });
  return app;
}

const PAGE = `<!doctype html>
<meta charset="utf-8"><title>koa-session-machine counter</title>
<h1>Count: <output id="count">…</output></h1>
<button id="inc">Count up</button> <button id="regen">Regenerate</button> <button id="logout">Log out</button>
<script>
const show = (c) => (document.getElementById('count').textContent = c);
const call = (p) => fetch(p, { credentials: 'same-origin' }).then((r) => r.json());
call('/read').then((b) => show(b.count));
document.getElementById('inc').onclick = () => call('/get').then((b) => show(b.count));
document.getElementById('regen').onclick = () => call('/regenerate').then(() => call('/read')).then((b) => show(b.count));
document.getElementById('logout').onclick = () => call('/remove').then(() => show(0));
</script>
`;
