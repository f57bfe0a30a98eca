/** `middleware.sessions`: any owner's sessions, for an admin route or a job outside any request. */
import type { OwnerIndex } from './owner-index.js';
import { ownerName, ownerOptionMissing } from './handle.js';
import type { OwnerSessions, SessionInfo, SessionOwner } from './types.js';

export function ownerSessions(index: OwnerIndex | undefined): OwnerSessions {
  const ready = (owner: SessionOwner): [OwnerIndex, string] => {
    if (index === undefined) throw ownerOptionMissing('middleware.sessions');
    const name = ownerName(owner, 'the owner');
    if (name === undefined)
      throw new TypeError('koa-session-machine: middleware.sessions needs an owner (a string or a number)');
    return [index, name];
  };
  return {
    async list(owner: SessionOwner): Promise<SessionInfo[]> {
      const [i, name] = ready(owner);
      return i.list(name);
    },
    async revoke(owner: SessionOwner, handle: string): Promise<boolean> {
      const [i, name] = ready(owner);
      return i.revoke(name, String(handle));
    },
    async revokeAll(owner: SessionOwner): Promise<number> {
      const [i, name] = ready(owner);
      return i.revokeAll(name);
    },
  };
}
