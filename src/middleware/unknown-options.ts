/**
 * The names `session(options)` knows, and the start-up warning for any other: a misspelt option
 * (`hashId`, `maxLiftime`, `rollng`) is otherwise ignored without a word, leaving an app without
 * the behaviour its author believes it has.
 */
import { OPTIONS } from './option-table.js';

/** Every option name, in the order of the option table. */
export const OPTION_NAMES: readonly string[] = Object.keys(OPTIONS);
const KNOWN: ReadonlySet<string> = new Set(OPTION_NAMES);
/** Each unknown name is reported once per process, however many middlewares are made with it. */
const warned = new Set<string>();

/** Levenshtein distance, case-insensitive: how far a misspelling is from a known name. */
function distance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** The known name closest to `name`, when it is close enough to be what was meant. */
export function closestOption(name: string): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const known of OPTION_NAMES) {
    const d = distance(name, known);
    if (d < bestDistance) [best, bestDistance] = [known, d];
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** Warns once per unknown option name, naming the closest known one. */
export function warnOfUnknownOptions(options: object): void {
  for (const name of Object.keys(options)) {
    if (KNOWN.has(name) || warned.has(name)) continue;
    warned.add(name);
    const closest = closestOption(name);
    console.warn(
      `koa-session-machine: unknown option "${name}" is ignored` + (closest ? `; did you mean "${closest}"?` : ''),
    );
  }
}
