/**
 * Keys as real sids and prefixes make them, all at once in one store: every shape of keys.ts under
 * every prefix, keys that differ only in case, and keys that begin with another key (a store that
 * finds entries by a pattern, or parses its own file names, mixes them up). Each holds its own
 * session; destroying one leaves the others.
 */
import { described, RuleFailure, show } from '../failure.js';
import { PREFIXES, SID_SHAPES } from '../keys.js';
import { sessionOf, sleep, LONG_TTL, type RuleGroup } from './probe.js';

/** What follows a key in the keys that begin with it. */
const SUFFIXES = ['__1', '__', '_', '-', '-1', ':1', '/1', '.json'];
/** Longer than any ttl a digit in a key can be misread as, in ms. */
const MISREAD_TTL = 20;
/** How many mishandled keys a failure lists. */
const SHOWN = 12;

export const keyShapeRules: RuleGroup = {
  rules: [
    {
      rule: 'keys of every shape a sid and a prefix make are kept apart',
      body: async (s) => {
        const keys: { key: string; shape: string }[] = [];
        for (const prefix of PREFIXES) {
          for (const shape of SID_SHAPES) {
            keys.push({ key: s.keyOf(prefix, s.sids.sid(shape)), shape: `${shape.name}, prefix "${prefix}"` });
          }
        }
        const base = s.keyOf(PREFIXES[0]!, s.sids.sid(SID_SHAPES[0]!));
        keys.push({ key: base, shape: 'a key others begin with' });
        const swapped = [...base].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join('');
        keys.push({ key: s.keyOf('', swapped), shape: 'a key that differs from another only in case' });
        for (const suffix of SUFFIXES) keys.push({ key: s.keyOf(base, suffix), shape: `another key and "${suffix}"` });

        // Every shape is tried, and the failure lists each one the store mishandled.
        const problems: { key: string; problem: string }[] = [];
        const attempt = async (key: string, shape: string, step: () => Promise<string | undefined>) => {
          if (problems.some((p) => p.key === key)) return;
          try {
            const problem = await step();
            if (problem !== undefined) problems.push({ key, problem: `${shape}: ${problem}` });
          } catch (err) {
            const why = err instanceof RuleFailure ? `${err.message}, ${show(err.actual)}` : String(err);
            problems.push({ key, problem: `${shape}: ${why}` });
          }
        };
        for (const [i, { key, shape }] of keys.entries())
          await attempt(key, shape, async () => void (await s.set(key, sessionOf({ i }), LONG_TTL)));
        // A store that reads a digit after `__` back as the entry's ttl (in ms) has lost it by now.
        await sleep(MISREAD_TTL);
        for (const [i, { key, shape }] of keys.entries())
          await attempt(key, shape, async () => {
            const got = await s.get(key);
            return got?.i === i ? undefined : `get() gave ${show(got)}, not its own session`;
          });
        // Every other key destroyed: the rest keep their sessions.
        for (const [i, { key, shape }] of keys.entries())
          if (i % 2 === 0) await attempt(key, shape, async () => void (await s.destroy(key)));
        for (const [i, { key, shape }] of keys.entries())
          await attempt(key, shape, async () => {
            const got = await s.get(key);
            if (i % 2 === 0) return got ? `get() after destroy() gave ${show(got)}` : undefined;
            return got?.i === i ? undefined : `get() gave ${show(got)} once other keys were destroyed`;
          });
        // Lost or mixed-up sessions first, then calls that failed; a dozen lines say enough.
        problems.sort((a, b) => Number(!a.problem.includes('get()')) - Number(!b.problem.includes('get()')));
        const shown = problems.slice(0, SHOWN).map((p) => `    - ${p.problem}`);
        if (problems.length > SHOWN) shown.push(`    - and ${problems.length - SHOWN} more`);
        s.check(
          problems.length === 0,
          problems[0]?.key,
          `the store mishandled ${problems.length} of ${keys.length} keys:\n${shown.join('\n')}`,
          described('each key keeps its own session, and loses it only to its own destroy()'),
          described(`${problems.length} keys did not`),
        );
      },
    },
  ],
};
