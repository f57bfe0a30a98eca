/**
 * `session(options)`'s options resolved: each checked and given its default by its entry of the
 * option table (option-table.ts), then the rules between options. Everything is checked once, when
 * the middleware is created, so that a mistake is a clear error at start-up instead of a 500 on
 * some request.
 */
import { OPTIONS, type OptionName, type ResolvedOptions, type SessionOptions } from './option-table.js';
import { fail } from './option-values.js';
import { warnOfUnknownOptions } from './unknown-options.js';

export type { ResolvedOptions, SessionNotice, SessionOptions } from './option-table.js';
export { defaultGenSid, type ErrorType, type SessionIdStore } from './option-values.js';

export function resolveOptions(options: SessionOptions = {}): ResolvedOptions {
  if (options === null || typeof options !== 'object') fail('options must be an object');
  warnOfUnknownOptions(options);
  const resolved: Record<string, unknown> = {};
  for (const name of Object.keys(OPTIONS) as OptionName[]) {
    resolved[name] = (OPTIONS[name].resolve as (value: unknown) => unknown)(options[name]);
  }
  const all = resolved as ResolvedOptions;
  if (all.seal && !all.hashIds)
    fail('option "seal" needs hashIds: true (a store key that is the sid would give the sealing key away)');
  if (all.describe && !all.owner)
    fail('option "describe" needs the option "owner" (it describes the sessions of an owner)');
  return all;
}
