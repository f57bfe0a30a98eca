/**
 * How each request runs its session machine: the transition table compiled from the machine (the
 * hot path), or a real XState actor when the app passes an `inspect` callback.
 *
 * The table is read from XState's internals (definition.ts) while the dependency range allows any
 * later xstate 5.x. Should a release store them differently, the table cannot be compiled: the
 * middleware then runs real actors, which behave the same and cost some microseconds more per
 * request, and says so once per process. An upgrade never stops an app from starting.
 */
import type { InspectionEvent } from 'xstate';
import { compileMachine, type CompiledMachineOf } from './compile.js';
import { actorRunnerFactory, tableRunnerFactory } from './runner.js';
import {
  SESSION_EFFECTS,
  sessionMachine,
  type SessionMachine,
  type SessionMachineInput,
  type SessionRunner,
} from './session.machine.js';

/** Compiled once per process (the table depends on the machine only); `null` when it cannot be. */
let compiled: CompiledMachineOf<SessionMachine> | null | undefined;

function sessionTable(): CompiledMachineOf<SessionMachine> | null {
  if (compiled === undefined) {
    try {
      compiled = compileMachine(sessionMachine);
    } catch (err) {
      compiled = null;
      console.warn(
        'koa-session-machine: the session machine could not be compiled into its transition table, so ' +
          'every request runs an XState actor instead (the same behaviour, some microseconds slower per ' +
          `request). Please report it with your xstate version. The reason: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }
  return compiled;
}

/** A factory of runners for one `session(options)`: one runner per request. */
export function sessionRunnerFactory(
  input: SessionMachineInput,
  inspect?: (event: InspectionEvent) => void,
): () => SessionRunner {
  const table = inspect ? null : sessionTable();
  return table ? tableRunnerFactory(table, input) : actorRunnerFactory(sessionMachine, SESSION_EFFECTS, input, inspect);
}
