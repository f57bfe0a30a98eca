/** `ctx.sessions` on Koa's `Context`, by declaration merging (as ../middleware/context-types.ts does). */
import type { RequestSessions } from './types.js';

declare module 'koa' {
  interface ExtendableContext {
    /**
     * The sessions of the request's owner: `list()`, `revoke(handle)`, `revokeOthers()`. Needs the
     * `owner` option; reading it without throws an error that says so.
     */
    readonly sessions: RequestSessions;
  }
}
