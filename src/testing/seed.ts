/**
 * Everything the kit draws at random comes from one seed, which its output prints: the same seed
 * gives the same keys, values and sids, so a failure can be replayed. The seed is the `seed` option,
 * else the KSM_KIT_SEED environment variable, else drawn for the run.
 */
import { createHash, randomBytes } from 'node:crypto';

/** The environment variable that replays a run: `KSM_KIT_SEED=<seed> npx vitest run …`. */
export const SEED_ENV = 'KSM_KIT_SEED';

/** The run's seed: `option`, else `$KSM_KIT_SEED`, else 8 new hex digits. */
export function kitSeed(option?: string): string {
  const given = option ?? process.env[SEED_ENV];
  if (given !== undefined && given.trim() !== '') return given.trim();
  return randomBytes(4).toString('hex');
}

/** How a failure tells the reader to replay it. */
export function replayHint(seed: string): string {
  return `${seed} (${SEED_ENV}=${seed} replays it)`;
}

/**
 * Deterministic draws for one use of the seed (`label` names it: a store and a rule, a path):
 * SHA-256 of the seed, the label and a counter, read 32 bits at a time. Two labels never share a
 * sequence, and a label's sequence does not depend on what other labels drew.
 */
export class Draw {
  private block = Buffer.alloc(0);
  private offset = 0;
  private counter = 0;

  constructor(
    private readonly seed: string,
    private readonly label: string,
  ) {}

  /** A uniform integer in [0, 2^32). */
  uint32(): number {
    if (this.offset + 4 > this.block.length) {
      this.block = createHash('sha256').update(`${this.seed}\0${this.label}\0${this.counter++}`).digest();
      this.offset = 0;
    }
    const value = this.block.readUInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  /** An integer in [0, n) (n well below 2^32, so the bias is negligible). */
  below(n: number): number {
    return this.uint32() % n;
  }

  /** `n` characters of `alphabet`. */
  chars(n: number, alphabet: string): string {
    let out = '';
    for (let i = 0; i < n; i++) out += alphabet[this.below(alphabet.length)];
    return out;
  }

  /** The characters of `alphabet` in a drawn order (Fisher-Yates). */
  shuffled(alphabet: string): string {
    const list = [...alphabet];
    for (let i = list.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      [list[i], list[j]] = [list[j]!, list[i]!];
    }
    return list.join('');
  }
}
