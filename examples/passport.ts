/**
 * Logging users in with koa-passport: a login form, a page that shows who is logged in, and a
 * logout button, with koa-csrf guarding both forms. On the embedded MemoryStore, or on Redis when
 * REDIS_URL is set. PORT picks the port (default 3000; 0 for any free one).
 *
 *   npx tsx examples/passport.ts        then open the URL it prints, log in as alice / wonderland
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
app.use(session(store ? { store } : {}));
// Its secret lives in the session; every form carries ctx.state._csrf.
app.use(CSRF());
app.use(passport.initialize());
app.use(passport.session());

const router = new Router();
router.get('/', (ctx) => {
  const user = ctx.state.user as User | undefined;
  ctx.type = 'html';
  ctx.body = user
    ? page(`<p>Logged in as <b>${user.username}</b>.</p>
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
app.use(router.routes());

function csrfField(ctx: Koa.Context): string {
  return `<input type="hidden" name="_csrf" value="${ctx.state._csrf as string}">`;
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
  console.log(`koa-session-machine passport example (${store ? `RedisStore at ${redisUrl}` : 'MemoryStore'}) listening on http://127.0.0.1:${actual}/`);
  console.log(`  log in as ${ALICE.username} / ${PASSWORD}`);
});
// Graceful shutdown: stop taking requests, then close the store (RedisStore quits its client).
const stop = () => server.close(() => void Promise.resolve(store?.close()).then(() => process.exit(0)));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
