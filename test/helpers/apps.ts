/**
 * Apps for the behaviour tests: a Koa 2 or Koa 3 app with the session middleware, listening on
 * 127.0.0.1, with a client per browser and the errors the app reported.
 */
import type Koa from 'koa';
import session, { type SessionMiddleware, type SessionOptions } from '../../src/index.js';
import { Client, listen, type Listening } from './http.js';
import { KEYS, type KoaClass } from './koa.js';

export type Handler = (ctx: Koa.Context, next: Koa.Next) => unknown;

export interface AppSetup {
  /** Middleware that runs before the session middleware. */
  before?: Handler[];
  /** Middleware after the session middleware and before the handler (e.g. a second instance). */
  after?: Handler[];
  /** `app.keys` (default `KEYS`); `null` for none. */
  keys?: string[] | null;
  /** `app.proxy` (trust X-Forwarded-*). */
  proxy?: boolean;
}

export interface TestApp {
  app: Koa;
  /** The session middleware of the app (`middleware.sessions` manages a user's sessions). */
  middleware: SessionMiddleware;
  url: string;
  /** A new client (one browser) with an empty cookie jar. */
  client(): Client;
  /** Errors the app emitted (`app.on('error')`), in order. */
  errors: Error[];
  close(): Promise<void>;
}

const open = new Set<Listening>();

/** Starts an app: `[...before, session(options), ...after, handler]`. */
export async function startApp(
  KoaCtor: KoaClass,
  options: SessionOptions | undefined,
  handler: Handler,
  setup: AppSetup = {},
): Promise<TestApp> {
  const app = new KoaCtor();
  if (setup.keys !== null) app.keys = setup.keys ?? KEYS;
  if (setup.proxy) app.proxy = true;
  const errors: Error[] = [];
  app.on('error', (err: Error) => void errors.push(err));
  for (const mw of setup.before ?? []) app.use(mw as Koa.Middleware);
  const middleware = session(options);
  app.use(middleware);
  for (const mw of setup.after ?? []) app.use(mw as Koa.Middleware);
  app.use(handler as Koa.Middleware);
  const listening = await listen(app);
  open.add(listening);
  return {
    app,
    middleware,
    url: listening.url,
    client: () => new Client(listening.url),
    errors,
    close: async () => {
      open.delete(listening);
      await listening.close();
    },
  };
}

/** Closes every app still open; for `afterEach`. */
export async function closeApps(): Promise<void> {
  const all = [...open];
  open.clear();
  await Promise.all(all.map((l) => l.close()));
}

/** A handler that counts up: `{ count, sid }`. */
export const counter: Handler = (ctx) => {
  const sess = ctx.session as Record<string, unknown>;
  sess.count = (typeof sess.count === 'number' ? sess.count : 0) + 1;
  ctx.body = { count: sess.count, sid: ctx.sessionId };
};
