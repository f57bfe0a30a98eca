/** Minimal declarations for the untyped reference libraries the benchmark compares against. */
declare module 'koa-generic-session' {
  import type { Middleware } from 'koa';
  interface GenericSessionStore {
    get(key: string): unknown;
    set(key: string, session: unknown, ttl?: number): unknown;
    destroy(key: string): unknown;
  }
  interface GenericSession {
    (options?: { store?: GenericSessionStore; rolling?: boolean; [option: string]: unknown }): Middleware;
    MemoryStore: new () => GenericSessionStore;
  }
  const session: GenericSession;
  export default session;
}

declare module 'koa-redis' {
  interface KoaRedisStore {
    get(key: string): unknown;
    set(key: string, session: unknown, ttl?: number): unknown;
    destroy(key: string): unknown;
    quit(): Promise<void>;
  }
  function redisStore(options?: { url?: string; [option: string]: unknown }): KoaRedisStore;
  export default redisStore;
}
