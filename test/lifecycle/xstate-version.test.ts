/**
 * Which xstate the machine tests run on. CI runs test/lifecycle a second time with
 * KSM_XSTATE_DIR naming a directory where the newest xstate 5.x was installed (vitest.config.ts
 * resolves `xstate` and its subpaths from there): this prints the version of that run, and fails
 * when the modules under test would get another copy of xstate than the one it names.
 */
import { join } from 'node:path';
import { StateMachine } from 'xstate';
import { describe, expect, it } from 'vitest';
import { sessionMachine } from '../../src/machines/session.machine.js';

const dir = process.env.KSM_XSTATE_DIR;
const modules = dir ? join(dir, 'node_modules') : join(import.meta.dirname, '../../node_modules');

describe('the xstate under test', () => {
  it(`is the one in ${dir ? 'KSM_XSTATE_DIR' : "the project's node_modules"}`, async () => {
    const resolved = await import('xstate/package.json', { with: { type: 'json' } });
    const expected = (await import(join(modules, 'xstate/package.json'), {
      with: { type: 'json' },
    })) as typeof resolved;
    console.log(`machine tests run on xstate ${resolved.default.version} from ${modules}`);
    // One module per resolved file: the same object only when `xstate` resolved into that directory.
    expect(resolved.default).toBe(expected.default);
    expect(sessionMachine).toBeInstanceOf(StateMachine);
  });
});
