/**
 * `ctx.sessions`: the sessions of the request's owner, who is `owner(ctx.session)` at the time of
 * the call (so a handler that has just logged a user in sees that user's sessions).
 */
import { ownerOptionMissing } from './handle.js';
import type { OwnerIndex } from './owner-index.js';
import type { RequestSessions, SessionInfo, SessionOfRequest } from './types.js';

/**
 * The value of `ctx.sessions` for a request whose session is `s` (none: the middleware did not
 * run), with the owner index of its middleware (none: no `owner` option).
 */
export function requestSessions(s: SessionOfRequest | undefined, index: OwnerIndex | undefined): RequestSessions {
  if (s === undefined) {
    throw new TypeError(
      'koa-session-machine: ctx.sessions needs the session middleware on this request (it has not run, or the path is outside cookie.path)',
    );
  }
  if (index === undefined) throw ownerOptionMissing('ctx.sessions');
  return new SessionsOfRequest(index, s);
}

class SessionsOfRequest implements RequestSessions {
  constructor(
    private readonly index: OwnerIndex,
    private readonly s: SessionOfRequest,
  ) {}

  async list(): Promise<SessionInfo[]> {
    const { owner, current } = await this.whose();
    return owner === undefined ? [] : this.index.list(owner, current);
  }

  async revoke(handle: string): Promise<boolean> {
    const { owner, current } = await this.whose();
    if (owner === undefined || !(await this.index.revoke(owner, String(handle)))) return false;
    // This request's own session: the response resets its cookie, and nothing writes it back.
    if (handle === current) this.s.write(null);
    return true;
  }

  async revokeOthers(): Promise<number> {
    const { owner, current } = await this.whose();
    return owner === undefined ? 0 : this.index.revokeAll(owner, current);
  }

  /** The request's owner now, and the handle of its session (which may not be stored yet). */
  private async whose(): Promise<{ owner: string | undefined; current: string | undefined }> {
    const session = await this.s.read();
    const owner = session ? this.index.ownerOf(session) : undefined;
    const sid = this.s.sid;
    return { owner, current: sid === undefined ? undefined : this.index.handleOfSid(sid) };
  }
}
