/**
 * `DEBUG=koa-session-machine`: the trace koa-generic-session users know how to switch on
 * (`DEBUG=koa-generic-session`), through the same `debug` package. One line per request with its
 * path through the session machine and why it ended there, and one per change of the store
 * connection:
 *
 *   koa-session-machine GET /cart cookie: loading → loaded → unchanged: nothing changed. Nothing to write: no store call, no cookie.
 *   koa-session-machine store connection: connected → reconnecting
 *
 * The reasons are the machine's own state descriptions (the ones docs/lifecycle.md shows). When the
 * namespace is off, a request pays for one property read (`trace.enabled`) and nothing else.
 */
import createDebug from 'debug';
import type { Context } from 'koa';
import { sessionMachine, type SessionEvent } from '../machines/session.machine.js';

export const trace = createDebug('koa-session-machine');

const CLIENT_SID: Record<string, string> = {
  absent: 'no cookie',
  present: 'cookie',
  forged: 'bad cookie',
};

/** What the request's own choices were at its commit, in the words of the context API. */
function commitFacts(event: SessionEvent | undefined): string {
  if (event === undefined || (event.type !== 'COMMIT' && event.type !== 'SAVE_NOW')) return '';
  if (event.save === 'skip') return 'ctx.sessionSave = false. ';
  if (event.save === 'force') return 'ctx.sessionSave = true. ';
  return event.changed ? 'changed. ' : 'nothing changed. ';
}

function describe(state: string): string {
  return (sessionMachine.states[state]?.description ?? '').replace(/`/g, '');
}

/** The line of a request that used its session: the states it went through, and why it ended. */
export function traceRequest(
  ctx: Context,
  sid: string,
  states: readonly string[],
  commit: SessionEvent | undefined,
): void {
  const last = states.at(-1) ?? 'uninitialized';
  trace(
    '%s %s %s: %s: %s%s',
    ctx.method,
    ctx.path,
    CLIENT_SID[sid] ?? sid,
    states.length > 0 ? states.join(' → ') : last,
    commitFacts(commit),
    describe(last),
  );
}

/** The line of a request that never used its session (nothing read, nothing written). */
export function traceUnused(ctx: Context): void {
  trace('%s %s: session not used', ctx.method, ctx.path);
}

export function traceConnection(from: string, to: string): void {
  trace('store connection: %s → %s', from, to);
}

/** The line of a write that was fenced off and dropped (the `fenced` notice of `onEvent`). */
export function traceFencedOff(ctx: Context, late: boolean): void {
  trace(
    '%s %s: %s',
    ctx.method,
    ctx.path,
    late
      ? 'a write that outlived its request was fenced off: the session had been written since, the write is dropped'
      : 'the write was fenced off: other requests kept writing the session, its changes are dropped',
  );
}
