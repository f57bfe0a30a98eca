/**
 * The keys the kit writes: what real sids and prefixes hold, on purpose and in every run. A key is
 * a prefix (the default `koa:sess:`, none, one with `/`, one with `:` and `-`) and a sid of one of
 * the shapes below: every base64url character, `-` and `_` at either end, runs of `__`, `--`, `_-`
 * and `-_` followed by a digit, a trailing `__`, a long sid. Which shape and prefix a key gets is
 * fixed by the rule and the key's place in it; only the letters and digits that fill it come from
 * the seed. So a store that mishandles a shape fails the same rules in every run, and random filler
 * never makes a shape by chance (it has no `-` or `_`).
 */
import { createHash } from 'node:crypto';
import type { Draw } from './seed.js';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const DIGITS = '0123456789';

export interface KeyShape {
  /** What the shape is, in words (failures and docs name it). */
  name: string;
  make(draw: Draw): string;
}

const fill = (draw: Draw, n: number) => draw.chars(n, ALNUM);
const LETTERS = ALNUM.slice(0, 52);
/** A run, then one digit and a letter: a store that reads a number after the run reads that one digit. */
const runThenDigit = (run: string) => (draw: Draw) =>
  `${fill(draw, 10)}${run}${draw.chars(1, DIGITS)}${draw.chars(1, LETTERS)}${fill(draw, 9)}`;

/** The shapes of sids. */
export const SID_SHAPES: readonly KeyShape[] = [
  { name: 'a 32-character sid', make: (d) => fill(d, 32) },
  {
    name: 'every base64url character',
    // The letters and digits in a drawn order; `-` and `_` at fixed places, never side by side.
    make: (d) => {
      const letters = d.shuffled(ALNUM);
      return `${letters.slice(0, 20)}-${letters.slice(20, 41)}_${letters.slice(41)}`;
    },
  },
  { name: '`-` first', make: (d) => `-${fill(d, 31)}` },
  { name: '`_` first', make: (d) => `_${fill(d, 31)}` },
  { name: '`-` last', make: (d) => `${fill(d, 31)}-` },
  { name: '`_` last', make: (d) => `${fill(d, 31)}_` },
  { name: '`__` and a digit', make: runThenDigit('__') },
  { name: '`--` and a digit', make: runThenDigit('--') },
  { name: '`_-` and a digit', make: runThenDigit('_-') },
  { name: '`-_` and a digit', make: runThenDigit('-_') },
  { name: '`__` last', make: (d) => `${fill(d, 30)}__` },
  { name: 'a 200-character sid', make: (d) => fill(d, 200) },
];

/** The prefixes of keys. */
export const PREFIXES: readonly string[] = ['koa:sess:', '', 'app/sessions/', 'app:sess-v2:'];

/** A number from a rule's name, so that a rule's keys keep their shapes when rules are added. */
function offsetOf(label: string): number {
  return createHash('sha256').update(label).digest().readUInt32BE(0);
}

/** The keys of one check: the n-th gets the n-th shape and prefix after the check's own offset. */
export class KeyMaker {
  private n = 0;
  private readonly offset: number;

  constructor(
    private readonly draw: Draw,
    label: string,
  ) {
    this.offset = offsetOf(label);
  }

  /** A new key. */
  next(): string {
    const i = this.offset + this.n++;
    return PREFIXES[i % PREFIXES.length]! + SID_SHAPES[i % SID_SHAPES.length]!.make(this.draw);
  }

  /** A sid of the given shape (every key shape test writes each). */
  sid(shape: KeyShape): string {
    return shape.make(this.draw);
  }
}
