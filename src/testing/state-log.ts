/**
 * The events and states each request's session machine went through, collected through the
 * middleware's `inspect` option, for the kit to compare with a path.
 */
import type { InspectionEvent } from 'xstate';
import { sessionMachine } from '../machines/session.machine.js';
import { describeEvent } from './session-paths.js';

export interface Observed {
  entries: string[];
  done: boolean;
  actors: number;
}

/** Collects, through `inspect`, the events and states of the session machine of each request. */
export class StateLog {
  private actors = new Set<unknown>();
  private entries: string[] = [];
  private done = false;

  readonly inspect = (event: InspectionEvent): void => {
    const actor = event.actorRef as unknown as { logic?: { id?: string } };
    if (actor.logic?.id !== sessionMachine.id) return;
    if (event.type === '@xstate.actor') this.actors.add(event.actorRef);
    if (event.type !== '@xstate.snapshot' || event.event.type === 'xstate.init') return;
    const snapshot = event.snapshot as { value?: unknown; status?: string };
    this.entries.push(`${describeEvent(event.event as never)} → ${String(snapshot.value)}`);
    this.done = snapshot.status === 'done';
  };

  reset(): void {
    this.actors = new Set();
    this.entries = [];
    this.done = false;
  }

  observed(): Observed {
    return { entries: [...this.entries], done: this.done, actors: this.actors.size };
  }
}
