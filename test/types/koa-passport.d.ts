/**
 * koa-passport 6 ships no types (and no @types package is installed): the part of its API the
 * tests and examples/passport.ts use, and the methods its `initialize()` adds to Koa's context.
 */
declare module 'koa-passport' {
  import type { Middleware } from 'koa';
  import type { AuthenticateOptions, LogOutOptions, Strategy } from 'passport';

  type Done<T> = (err: unknown, value?: T) => void;

  class KoaPassport {
    use(strategy: Strategy): this;
    use(name: string, strategy: Strategy): this;
    serializeUser<User>(fn: (user: User, done: Done<unknown>) => void): void;
    deserializeUser<User>(fn: (id: any, done: Done<User | false | null>) => void): void;
    initialize(): Middleware;
    session(): Middleware;
    authenticate(strategy: string | string[], options?: AuthenticateOptions): Middleware;
  }

  /** The default singleton; `KoaPassport` makes independent instances. */
  const passport: KoaPassport & { KoaPassport: typeof KoaPassport };
  export = passport;

  module 'koa' {
    interface ExtendableContext {
      /** Logs `user` in: regenerates the session, then stores the serialized user in it. */
      login(user: unknown, options?: { keepSessionInfo?: boolean }): Promise<void>;
      /** Logs out: removes the user from the session, saves it, then regenerates it. */
      logout(options?: LogOutOptions): Promise<void>;
      isAuthenticated(): boolean;
      isUnauthenticated(): boolean;
    }
  }
}
