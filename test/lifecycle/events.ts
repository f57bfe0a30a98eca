/**
 * Representative events for traversing the session machine: every payload a guard distinguishes,
 * each once. Guards read only these fields (see the guards of session.machine.ts), so two events
 * with the same fields lead to the same transition: this list covers every guard outcome.
 */
import type { SaveMode, SessionEvent, SessionMachineInput } from '../../src/machines/session.machine.js';

const saves: SaveMode[] = ['auto', 'force', 'skip'];

export const SESSION_EVENTS: readonly SessionEvent[] = [
  { type: 'LOAD', sid: 'absent' },
  { type: 'LOAD', sid: 'present' },
  { type: 'LOAD', sid: 'forged' },
  { type: 'LOCKED' },
  { type: 'LOADED', usable: true, expired: false },
  { type: 'LOADED', usable: true, expired: true },
  { type: 'LOADED', usable: false, expired: false },
  { type: 'LOADED', usable: false, expired: true },
  { type: 'TOMBSTONE', found: true },
  { type: 'TOMBSTONE', found: false },
  { type: 'LOAD_FAILED', fatal: true },
  { type: 'LOAD_FAILED', fatal: false },
  { type: 'STORE_UNAVAILABLE', degrade: true },
  { type: 'STORE_UNAVAILABLE', degrade: false },
  { type: 'REMOVE' },
  { type: 'REPLACE' },
  { type: 'REGENERATE' },
  ...saves.flatMap((save) =>
    [true, false].flatMap((changed) => [
      { type: 'SAVE_NOW' as const, changed, save },
      { type: 'COMMIT' as const, changed, save },
    ]),
  ),
  { type: 'WRITTEN', stored: true },
  { type: 'WRITTEN', stored: false },
  { type: 'WRITE_FAILED', fatal: true },
  { type: 'WRITE_FAILED', fatal: false },
  { type: 'TOUCHED', stored: true },
  { type: 'TOUCHED', stored: false },
  { type: 'TOUCH_FAILED', fatal: true },
  { type: 'TOUCH_FAILED', fatal: false },
  { type: 'DESTROYED' },
  { type: 'DESTROY_FAILED' },
];

/** Every combination of the options the machine reads. */
export const SESSION_INPUTS: readonly SessionMachineInput[] = [false, true].flatMap((rolling) =>
  [false, true].flatMap((allowEmpty) => [false, true].map((serialize) => ({ rolling, allowEmpty, serialize }))),
);
