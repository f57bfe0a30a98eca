/** The `index` capability: `indexAdd`, `indexRemove` and `indexList`, for the `owner` option. */
import { described } from '../failure.js';
import { EXPIRY_TTLS, watchExpiry } from './expiry.js';
import { indexEntry, LONG_TTL, type RuleGroup } from './probe.js';

const NO_ENTRIES = described('no entries');

export const ownerIndexRules: RuleGroup = {
  capability: 'index',
  rules: [
    {
      rule: 'an index entry is listed after indexAdd, and gone after indexRemove',
      body: async (s) => {
        const owner = s.ownerKey();
        const none = await s.indexList(owner);
        s.check(none.size === 0, owner, 'indexList() of an owner never added to gave entries', NO_ENTRIES, [...none]);
        const far = Date.now() + LONG_TTL;
        const first = indexEntry('k1', { agent: 'first browser' });
        const second = indexEntry('k2');
        await s.indexAdd(owner, 'h1', first, far);
        await s.indexAdd(owner, 'h2', second, far);
        const both = await s.indexList(owner);
        s.same(owner, [...both.keys()].sort(), ['h1', 'h2'], 'indexList() after two indexAdd() calls');
        s.same(owner, both.get('h1'), first, 'indexList() gave back another entry than indexAdd() was given');
        await s.indexRemove(owner, 'h1');
        const after = await s.indexList(owner);
        s.check(
          !after.has('h1'),
          owner,
          'indexList() still gives a handle after indexRemove() of it (a revoked or destroyed session stays listed)',
          ['h2'],
          [...after.keys()],
        );
        s.same(owner, [...after.keys()], ['h2'], 'indexRemove() of one handle took another with it');
        // Removing what is not there is not an error.
        await s.indexRemove(owner, 'h1');
        await s.indexRemove(s.ownerKey(), 'h1');
        await s.indexRemove(owner, 'h2');
        const emptied = await s.indexList(owner);
        s.check(emptied.size === 0, owner, 'indexList() after every handle was removed gave entries', NO_ENTRIES, [
          ...emptied,
        ]);
      },
    },
    {
      rule: 'indexAdd of a listed handle replaces its entry but keeps its createdAt',
      body: async (s) => {
        const owner = s.ownerKey();
        const far = Date.now() + LONG_TTL;
        const original = indexEntry('k', { agent: 'before' });
        await s.indexAdd(owner, 'h', original, far);
        const later = {
          ...indexEntry('k', { agent: 'after' }),
          createdAt: original.createdAt + 5_000,
          lastSeenAt: original.lastSeenAt + 5_000,
        };
        await s.indexAdd(owner, 'h', later, far);
        const listed = await s.indexList(owner);
        s.equal(owner, listed.size, 1, 'two indexAdd() calls of one handle did not give one entry');
        s.same(
          owner,
          listed.get('h'),
          { ...later, createdAt: original.createdAt },
          'the second indexAdd() of a handle',
        );
        // Once removed, a handle starts anew.
        await s.indexRemove(owner, 'h');
        await s.indexAdd(owner, 'h', later, far);
        s.equal(
          owner,
          (await s.indexList(owner)).get('h')?.createdAt,
          later.createdAt,
          'indexAdd() after indexRemove() kept the old createdAt',
        );
      },
    },
    {
      rule: 'an index entry is listed until its expiry, and gone after it',
      body: async (s) => {
        const owner = s.ownerKey();
        await s.indexAdd(owner, 'long', indexEntry('k-long'), Date.now() + LONG_TTL);
        await s.indexAdd(owner, 'forever', indexEntry('k-forever'), Infinity);
        const entries = [];
        for (const ttl of EXPIRY_TTLS) {
          const handle = `expires-${ttl}`;
          const expiresAt = Date.now() + ttl;
          await s.indexAdd(owner, handle, indexEntry(`k-${ttl}`), expiresAt);
          entries.push({
            key: owner,
            what: `an index entry added with an expiresAt ${ttl} ms ahead`,
            from: expiresAt,
            until: expiresAt,
            present: async () => (await s.indexList(owner)).has(handle),
          });
        }
        await watchExpiry(s, entries);
        const left = await s.indexList(owner);
        s.check(
          left.has('long') && left.has('forever'),
          owner,
          'entries of a later expiry, or none (Infinity), went with the ones that expired',
          ['forever', 'long'],
          [...left.keys()].sort(),
        );
      },
    },
    {
      rule: 'the indexes of different owners are independent',
      body: async (s) => {
        const [a, b] = [s.ownerKey(), s.ownerKey()];
        const far = Date.now() + LONG_TTL;
        await s.indexAdd(a, 'h', indexEntry('ka'), far);
        await s.indexAdd(b, 'h', indexEntry('kb'), far);
        s.equal(
          a,
          (await s.indexList(a)).get('h')?.key,
          'ka',
          "one owner's indexAdd() of a handle replaced another owner's",
        );
        await s.indexRemove(b, 'h');
        const gone = await s.indexList(b);
        s.check(gone.size === 0, b, 'indexRemove() left the entry listed', NO_ENTRIES, [...gone]);
        s.equal(
          a,
          (await s.indexList(a)).get('h')?.key,
          'ka',
          "one owner's indexRemove() of a handle removed another owner's",
        );
      },
    },
  ],
};
