/** koa-csrf 5 ships no types: its middleware factory, with the options the tests use. */
declare module 'koa-csrf' {
  import type { Context, Middleware } from 'koa';

  interface CsrfOptions {
    errorHandler?: (ctx: Context) => unknown;
    excludedMethods?: string[];
    disableQuery?: boolean;
    ignoredPathGlobs?: string[];
  }

  /** Keeps its secret in `ctx.session.secret` and puts each request's token in `ctx.state._csrf`. */
  function CSRF(options?: CsrfOptions): Middleware;
  export = CSRF;
}
