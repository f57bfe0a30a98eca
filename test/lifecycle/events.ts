/**
 * Representative events for traversing the session machine: every payload a guard distinguishes,
 * each once. Guards read only these fields (see the guards of session.machine.ts), so two events
 * with the same fields lead to the same transition: this list covers every guard outcome.
 */
import type { SaveMode, SessionEvent, SessionMachineInput } from '../../src/machines/session.machine.js';

const saves: SaveMode[] = ['auto', 'force', 'skip'];
/** How a write or refresh fails: an outage, or an error the app's errorHandler swallows or rethrows. */
const FAILURES = [
  { outage: true, swallowed: false },
  { outage: false, swallowed: true },
  { outage: false, swallowed: false },
];

export const SESSION_EVENTS: readonly SessionEvent[] = [
  { type: 'LOAD', sid: 'absent' },
  { type: 'LOAD', sid: 'present' },
  { type: 'LOAD', sid: 'forged' },
  { type: 'LOCKED' },
  ...[true, false].flatMap((usable) =>
    [true, false].flatMap((expired) =>
      [true, false].map((lifetimeUnstamped) => ({ type: 'LOADED' as const, usable, expired, lifetimeUnstamped })),
    ),
  ),
  { type: 'TOMBSTONE', found: true },
  { type: 'TOMBSTONE', found: false },
  { type: 'TOMBSTONE_FAILED' },
  { type: 'LOAD_FAILED', swallowed: true },
  { type: 'LOAD_FAILED', swallowed: false },
  { type: 'STORE_UNAVAILABLE' },
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
  ...FAILURES.map((failure) => ({ type: 'WRITE_FAILED' as const, ...failure })),
  { type: 'TOUCHED', stored: true },
  { type: 'TOUCHED', stored: false },
  ...FAILURES.map((failure) => ({ type: 'TOUCH_FAILED' as const, ...failure })),
  { type: 'DESTROYED' },
  { type: 'DESTROY_FAILED' },
];

/** Every combination of the options the machine reads. */
export const SESSION_INPUTS: readonly SessionMachineInput[] = [false, true].flatMap((rolling) =>
  [false, true].flatMap((allowEmpty) =>
    [false, true].flatMap((serialize) =>
      [false, true].map((degradeOnOutage) => ({ rolling, allowEmpty, serialize, degradeOnOutage })),
    ),
  ),
);
