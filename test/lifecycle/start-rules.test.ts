/**
 * When the middleware starts a request's run of the session machine, and when a new session gets
 * its sid: both are the machine's. `startsOnFirstUse` asks a run of the machine whether a request
 * whose session is never used asks for anything someone could see; `issueSid`, the entry effect of
 * a new session, issues its sid as it starts.
 */
import { describe, expect, it } from 'vitest';
import { sessionRunnerFactory } from '../../src/machines/session-runner.js';
import { startsOnFirstUse, type SessionMachineInput, type SidKind } from '../../src/machines/session.machine.js';

const DEFAULTS: SessionMachineInput = { rolling: false, allowEmpty: false, serialize: false, degradeOnOutage: false };
const quiet = (over: Partial<SessionMachineInput>, sid: SidKind, appGeneratesSid = false) =>
  startsOnFirstUse(sessionRunnerFactory({ ...DEFAULTS, ...over })(), sid, appGeneratesSid);

describe('startsOnFirstUse: a request may start its run when its session is first used', () => {
  it('without a client sid: nothing to read, nothing to send, whatever rolling and serialize say', () => {
    for (const rolling of [false, true])
      for (const serialize of [false, true]) expect(quiet({ rolling, serialize }, 'absent')).toBe(true);
  });

  it('not with a sid to look up (the store is read) nor a forged one (its cookie is expired)', () => {
    expect(quiet({}, 'present')).toBe(false);
    expect(quiet({ serialize: true }, 'present')).toBe(false);
    expect(quiet({}, 'forged')).toBe(false);
  });

  it('not with allowEmpty (every new session is saved) nor with the app own genSid (its sid comes first)', () => {
    expect(quiet({ allowEmpty: true }, 'absent')).toBe(false);
    expect(quiet({}, 'absent', true)).toBe(false);
  });
});

describe('issueSid: a new session gets its sid as it starts', () => {
  const effectsOf = (sid: SidKind) => sessionRunnerFactory(DEFAULTS)().send({ type: 'LOAD', sid });

  it('before the handlers, after the empty session is made (and a bad cookie expired)', () => {
    expect(effectsOf('absent')).toEqual(['startNewSession', 'issueSid']);
    expect(effectsOf('forged')).toEqual(['resetCookie', 'startNewSession', 'issueSid']);
  });

  it('after a regeneration, at once (koa-generic-session apps read ctx.sessionId right after)', () => {
    const run = sessionRunnerFactory(DEFAULTS)();
    run.send({ type: 'LOAD', sid: 'absent' });
    expect(run.send({ type: 'REGENERATE' })).toEqual(['startNewSession', 'issueSid']);
  });
});
