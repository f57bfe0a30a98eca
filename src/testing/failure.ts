/**
 * What a failure tells a store author: the rule (or the lifecycle path), the store, the key, what
 * was expected and what came back, and the seed that replays the run. Rules fail through
 * `RuleFailure`, which carries the key and the two values; the runner turns it, or anything else
 * the check threw, into a `KitFailure` whose message holds all of it, starting with the rule.
 */
import { AssertionError } from 'node:assert';
import { inspect } from 'node:util';
import { replayHint } from './seed.js';

/** An expected value that is said in words rather than shown (`nothing (a falsy value)`). */
export class Described {
  constructor(readonly text: string) {}
}

export const described = (text: string) => new Described(text);

/** A rule's own failure: what it saw under `key`, against what it expected. */
export class RuleFailure extends Error {
  constructor(
    message: string,
    readonly key: string | undefined,
    readonly expected: unknown,
    readonly actual: unknown,
  ) {
    super(message);
    this.name = 'RuleFailure';
  }
}

/** Where a failure happened, for the message. */
export interface FailureContext {
  /** The rule, or the lifecycle path's name. */
  rule: string;
  /** The store's name, when the author gave one. */
  store?: string | undefined;
  seed: string;
  /** The key to name when the error does not carry one (a lifecycle path's session keys). */
  key?: string | undefined;
}

/** A check's failure: its message starts with the rule and says everything a reader needs. */
export class KitFailure extends Error {
  readonly rule: string;
  readonly key: string | undefined;
  readonly seed: string;

  constructor(context: FailureContext, cause: unknown) {
    const detail = detailOf(cause);
    const key = detail.key ?? context.key;
    const lines = [`${context.rule}: ${detail.message}`];
    if (context.store !== undefined) lines.push(`  store:    ${context.store}`);
    if (key !== undefined) lines.push(`  key:      ${JSON.stringify(key)}`);
    if (detail.values) {
      lines.push(`  expected: ${show(detail.expected)}`);
      lines.push(`  actual:   ${show(detail.actual)}`);
    }
    lines.push(`  seed:     ${replayHint(context.seed)}`);
    super(lines.join('\n'), { cause });
    this.name = 'KitFailure';
    this.rule = context.rule;
    this.key = key;
    this.seed = context.seed;
  }
}

interface Detail {
  message: string;
  key?: string | undefined;
  values: boolean;
  expected?: unknown;
  actual?: unknown;
}

function detailOf(cause: unknown): Detail {
  if (cause instanceof RuleFailure) {
    return { message: cause.message, key: cause.key, values: true, expected: cause.expected, actual: cause.actual };
  }
  if (cause instanceof AssertionError) {
    // The first line: node's own message repeats both values, which are shown below.
    return {
      message: cause.message.split('\n')[0]!,
      values: true,
      expected: cause.expected,
      actual: cause.actual,
    };
  }
  // A plain Error, or the kit's own, says what it is in its message; a TypeError or a store's own
  // error class says more with its name.
  if (cause instanceof Error) {
    const own = cause.name === 'Error' || cause.name === 'StoreRaised';
    return { message: own ? cause.message : errorText(cause), values: false };
  }
  return { message: `threw ${inspect(cause)}`, values: false };
}

/** An error as a reader wants it: its name and message (and its code, for store errors). */
export function errorText(err: unknown): string {
  if (!(err instanceof Error)) return inspect(err);
  const code = (err as { code?: unknown }).code;
  return `${err.name}: ${err.message}${code !== undefined ? ` (code ${String(code)})` : ''}`;
}

/** A value in a failure: JSON where it is JSON, words where it is `Described`, inspect() otherwise. */
export function show(value: unknown): string {
  if (value instanceof Described) return value.text;
  if (value === undefined) return 'undefined';
  if (value instanceof Error) return `an error, ${errorText(value)}`;
  try {
    const json = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
    if (json !== undefined) return json.length > 400 ? `${json.slice(0, 400)}…` : json;
  } catch {
    // A cycle: inspect() below says so.
  }
  return inspect(value, { depth: 4, breakLength: Infinity });
}
