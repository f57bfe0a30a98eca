/**
 * When the middleware starts a request's run of the session machine, and when a new session gets
 * its sid: the two rules session.machine.ts exports beside the machine.
 */
import { describe, expect, it } from 'vitest';
import { sidBeforeHandlers, startsOnFirstUse } from '../../src/machines/session.machine.js';

const input = (over: Partial<{ defer: boolean; allowEmpty: boolean; ownGenSid: boolean }> = {}) => ({
  defer: false,
  allowEmpty: false,
  ownGenSid: false,
  ...over,
});

describe('startsOnFirstUse', () => {
  it('without a client sid, the session starts on first use', () => {
    expect(startsOnFirstUse(input(), 'absent')).toBe(true);
  });
  it('with a sid to look up or a forged one, it starts with the request', () => {
    expect(startsOnFirstUse(input(), 'present')).toBe(false);
    expect(startsOnFirstUse(input(), 'forged')).toBe(false);
  });
  it('allowEmpty and an app genSid start it with the request; defer always on first use', () => {
    expect(startsOnFirstUse(input({ allowEmpty: true }), 'absent')).toBe(false);
    expect(startsOnFirstUse(input({ ownGenSid: true }), 'absent')).toBe(false);
    for (const sid of ['absent', 'present', 'forged'] as const)
      expect(startsOnFirstUse(input({ defer: true }), sid)).toBe(true);
  });
});

describe('sidBeforeHandlers', () => {
  it('only a new session with an app genSid gets its sid before the handlers', () => {
    expect(sidBeforeHandlers(input({ ownGenSid: true }), 'fresh')).toBe(true);
    expect(sidBeforeHandlers(input({ ownGenSid: true }), 'loaded')).toBe(false);
    expect(sidBeforeHandlers(input(), 'fresh')).toBe(false);
  });
});
