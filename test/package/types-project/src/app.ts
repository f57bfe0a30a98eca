/**
 * An app's own code, compiled by test/package/store-types.test.ts against the packed package: a
 * store typed by its own type package (koa-redis through @types/koa-redis, which brings
 * @types/koa-session and its declaration of ctx.session) and a class whose methods take extra
 * parameters or have overloads are accepted without a cast, and ctx.session keeps the app's fields.
 */
import Koa from 'koa';
import redisStore from 'koa-redis';
import session from 'koa-session-machine';

declare module 'koa-session-machine' {
  interface SessionData {
    user?: { id: string };
    count?: number;
  }
}

/** A store class of an app's own: extra parameters and an overloaded get. */
class OwnStore {
  private readonly map = new Map<string, string>();
  get(key: string): Promise<unknown>;
  get(key: string, maxAge: number, options: { rolling: boolean }): Promise<unknown>;
  async get(key: string): Promise<unknown> {
    const json = this.map.get(key);
    return json === undefined ? undefined : JSON.parse(json);
  }
  async set(key: string, session: object, ttl: number, options: { changed: boolean }): Promise<void> {
    void ttl;
    void options;
    this.map.set(key, JSON.stringify(session));
  }
  async destroy(key: string): Promise<void> {
    this.map.delete(key);
  }
}

const app = new Koa();
app.use(session({ store: redisStore({ host: '127.0.0.1' }) }));
app.use(session({ store: new OwnStore() }));
app.use(async (ctx) => {
  const current = ctx.session;
  if (current === null) return;
  const count: number | undefined = current.count;
  current.count = (count ?? 0) + 1;
  current.user = { id: 'u1' };
  // @ts-expect-error the app declared count as a number
  current.count = 'one';
  // @ts-expect-error the app declared user as { id: string }
  current.user = { name: 'no id' };
  await ctx.regenerateSession();
  ctx.body = { count: current.count };
});
export default app;
