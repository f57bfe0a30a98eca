/**
 * koa-session-machine: `session(options)` is the middleware factory, as in koa-generic-session.
 */
import './middleware/context-types.js';
import './sessions/context-types.js';
import { createSessionMiddleware } from './middleware/middleware.js';
import { MemoryStore } from './stores/memory.js';
import { RedisStore } from './stores/redis.js';

export type { Session } from './middleware/context-types.js';
export type { ErrorType, SessionIdStore, SessionNotice, SessionOptions } from './middleware/options.js';
export type { SessionMiddleware } from './middleware/middleware.js';
export type { OwnerOfSession, OwnerSessions, RequestSessions, SessionInfo, SessionOwner } from './sessions/types.js';
export { SessionError, STORE_UNAVAILABLE_MESSAGE } from './middleware/errors.js';
export type {
  CompareAndSetReply,
  ListedOwnerIndexEntry,
  OwnerIndexEntry,
  SessionCookie,
  SessionData,
  SessionStore,
  StoredSession,
  VersionedEntry,
} from './stores/types.js';
export type { MemoryStoreOptions } from './stores/memory.js';
export { MemoryStore };
export { RedisStore } from './stores/redis.js';
export type { RedisClient, RedisStoreCloseOptions, RedisStoreOptions } from './stores/redis.js';
export { sessionMachine } from './machines/session.machine.js';

/** The middleware factory, also reachable as `session.MemoryStore` like koa-generic-session's. */
const session = Object.assign(createSessionMiddleware, { MemoryStore, RedisStore });
export { session };
export default session;
