/**
 * Logging users in with koa-passport: a login form, a page that shows who is logged in, a logout
 * button, and a page of the user's active sessions (one per browser they logged in with) where any
 * of them can be ended; koa-csrf guards every form. On the embedded MemoryStore, or on Redis when
 * REDIS_URL is set. PORT picks the port (default 3000; 0 for any free one).
 *
 *   npx tsx examples/passport.ts        then open the URL it prints, log in as alice / wonderland
 *                                       (in two browsers, to see two sessions)
 */
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import Koa from 'koa';
import CSRF from 'koa-csrf';
import passport from 'koa-passport';
import { Strategy as LocalStrategy } from 'passport-local';
import session, { RedisStore } from '../src/index.js';

interface User {
  id: string;
  username: string;
}

// One fixed user; a real app looks the user up and compares a password hash.
const ALICE: User = { id: '1', username: 'alice' };
const PASSWORD = 'wonderland';

passport.use(
  new LocalStrategy((username, password, done) => {
    done(null, username === ALICE.username && password === PASSWORD ? ALICE : false);
  }),
);
// The session keeps only the user's id; each request turns it back into the user.
passport.serializeUser<User>((user, done) => done(null, user.id));
passport.deserializeUser<User>((id, done) => done(null, id === ALICE.id ? ALICE : false));

const redisUrl = process.env.REDIS_URL;
const store = redisUrl ? new RedisStore({ url: redisUrl }) : undefined;

const app = new Koa();
app.keys = ['keys', 'keykeys'];
app.use(bodyParser());
// Not `defer: true`: passport needs ctx.session to be the session object, not a Promise of it.
// `owner` says whose a session is (passport keeps the user's id in it), so that the sessions of a
// user can be listed and ended; `describe` is what the list shows of each.
app.use(
  session({
    ...(store ? { store } : {}),
    owner: (s) => s.passport?.user,
    describe: (ctx) => ({ agent: ctx.get('user-agent') }),
  }),
);
// Its secret lives in the session; every form carries ctx.state._csrf.
app.use(CSRF());
app.use(passport.initialize());
app.use(passport.session());

const router = new Router();
router.get('/', (ctx) => {
  const user = ctx.state.user as User | undefined;
  ctx.type = 'html';
  ctx.body = user
    ? page(`<p>Logged in as <b>${user.username}</b>. <a href="/sessions">Active sessions</a></p>
<form method="post" action="/logout">${csrfField(ctx)}<button>Log out</button></form>`)
    : page('<p>Not logged in. <a href="/login">Log in</a></p>');
});
router.get('/login', (ctx) => {
  ctx.type = 'html';
  ctx.body = page(`<form method="post" action="/login">${csrfField(ctx)}
<label>User <input name="username" autocomplete="username"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button>Log in</button></form>`);
});
// Login regenerates the session: a new sid, so a sid planted before login is worth nothing.
router.post('/login', passport.authenticate('local', { successRedirect: '/', failureRedirect: '/login' }));
router.post('/logout', async (ctx) => {
  await ctx.logout();
  ctx.redirect('/');
});
// The user's sessions, newest first, each with a button that ends it (this browser's too).
router.get('/sessions', async (ctx) => {
  if (!ctx.isAuthenticated()) return ctx.redirect('/login');
  const rows = (await ctx.sessions.list()).map(
    (
      s,
    ) => `<tr${s.current ? ' id="current"' : ''}><td>${escape(String(s.agent ?? ''))}${s.current ? ' <b>(this browser)</b>' : ''}</td>
<td>${new Date(s.createdAt).toISOString()}</td><td>${new Date(s.lastSeenAt).toISOString()}</td>
<td><form method="post" action="/sessions/revoke">${csrfField(ctx)}<input type="hidden" name="handle" value="${s.handle}"><button>End</button></form></td></tr>`,
  );
  ctx.type = 'html';
  ctx.body = page(`<p><a href="/">Home</a></p>
<table><tr><th>Browser</th><th>Logged in</th><th>Last seen</th><th></th></tr>
${rows.join('\n')}</table>
<form method="post" action="/sessions/revoke-others">${csrfField(ctx)}<button>Log out everywhere else</button></form>`);
});
router.post('/sessions/revoke', async (ctx) => {
  const handle = (ctx.request.body as { handle?: string }).handle;
  if (typeof handle === 'string') await ctx.sessions.revoke(handle);
  ctx.redirect('/sessions');
});
router.post('/sessions/revoke-others', async (ctx) => {
  await ctx.sessions.revokeOthers();
  ctx.redirect('/sessions');
});
app.use(router.routes());

function csrfField(ctx: Koa.Context): string {
  return `<input type="hidden" name="_csrf" value="${ctx.state._csrf as string}">`;
}

/** A user-agent is the client's to choose: it is text, never markup. */
function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(body: string): string {
  return `<!doctype html>
<meta charset="utf-8"><title>koa-session-machine passport example</title>
<h1>koa-passport on koa-session-machine</h1>
${body}
`;
}

const port = Number(process.env.PORT ?? 3000);
const server = app.listen(port, '127.0.0.1', () => {
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  console.log(
    `koa-session-machine passport example (${store ? `RedisStore at ${redisUrl}` : 'MemoryStore'}) listening on http://127.0.0.1:${actual}/`,
  );
  console.log(`  log in as ${ALICE.username} / ${PASSWORD}`);
});
// Graceful shutdown: stop taking requests, then close the store (RedisStore quits its client).
const stop = () => server.close(() => void Promise.resolve(store?.close()).then(() => process.exit(0)));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
