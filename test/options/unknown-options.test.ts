/**
 * A misspelt option is not a silent hole: an unknown option name gets a one-time warning at
 * start-up that names the closest known option.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import session from '../../src/index.js';
import { closestOption, OPTION_NAMES } from '../../src/middleware/unknown-options.js';

afterEach(() => vi.restoreAllMocks());

describe('unknown option names', () => {
  it('warn once per name, naming the closest known option', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    session({ rollng: true } as never);
    session({ rollng: true } as never);
    session({ storeTimout: 100, allowempty: true } as never);
    expect(warn.mock.calls.map((c) => String(c[0]))).toEqual([
      'koa-session-machine: unknown option "rollng" is ignored; did you mean "rolling"?',
      'koa-session-machine: unknown option "storeTimout" is ignored; did you mean "storeTimeout"?',
      'koa-session-machine: unknown option "allowempty" is ignored; did you mean "allowEmpty"?',
    ]);
  });

  it('name no option when none is close', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    session({ somethingElseEntirely: 1 } as never);
    expect(warn).toHaveBeenCalledWith('koa-session-machine: unknown option "somethingElseEntirely" is ignored');
  });

  it('every documented option is known: no warning', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    session({
      key: 'k',
      prefix: 'p:',
      rolling: false,
      defer: false,
      allowEmpty: false,
      maxSize: 1000,
      storeTimeout: 100,
    });
    expect(warn).not.toHaveBeenCalled();
  });

  it.each(OPTION_NAMES.map((name) => [name]))('%s is its own closest option', (name) => {
    expect(closestOption(name)).toBe(name);
  });
});
