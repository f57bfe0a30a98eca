/**
 * When the middleware starts a request's run of the session machine, and when a new session gets
 * its sid: both are the machine's. `quietUntilUsed` asks a run of the machine whether a request
 * whose session is never used asks for anything someone could see; `issueSid` is the effect that
 * issues a new session's sid as it starts (guard `appGeneratesSid` for the app's own `genSid`).
 */
import { describe, expect, it } from 'vitest';
import { sessionRunnerFactory } from '../../src/machines/session-runner.js';
import { quietUntilUsed, type SessionMachineInput, type SidKind } from '../../src/machines/session.machine.js';

const DEFAULTS: SessionMachineInput = { rolling: false, allowEmpty: false, serialize: false, ownGenSid: false };
const quiet = (over: Partial<SessionMachineInput>, sid: SidKind) =>
  quietUntilUsed(sessionRunnerFactory({ ...DEFAULTS, ...over })(), sid);

describe('quietUntilUsed: a request may start its run when its session is first used', () => {
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
    expect(quiet({ ownGenSid: true }, 'absent')).toBe(false);
  });
});

describe('issueSid: when a new session gets its sid', () => {
  const effectsOf = (over: Partial<SessionMachineInput>, sid: SidKind) =>
    sessionRunnerFactory({ ...DEFAULTS, ...over })().send({ type: 'LOAD', sid });

  it('with the app own genSid, as the session starts, before the handlers', () => {
    expect(effectsOf({ ownGenSid: true }, 'absent')).toEqual(['startNewSession', 'issueSid']);
    expect(effectsOf({ ownGenSid: true }, 'forged')).toEqual(['resetCookie', 'startNewSession', 'issueSid']);
  });

  it('with the default generator, only when first needed', () => {
    expect(effectsOf({}, 'absent')).toEqual(['startNewSession']);
    expect(effectsOf({}, 'forged')).toEqual(['resetCookie', 'startNewSession']);
  });

  it('after a regeneration, always (koa-generic-session apps read ctx.sessionId right after)', () => {
    const run = sessionRunnerFactory(DEFAULTS)();
    run.send({ type: 'LOAD', sid: 'absent' });
    expect(run.send({ type: 'REGENERATE' })).toEqual(['startNewSession', 'issueSid']);
  });
});
