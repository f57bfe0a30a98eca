/** The `index` capability: `indexAdd`, `indexRemove` and `indexList`, for the `owner` option. */
import assert from 'node:assert/strict';
import { sleep, normalize, indexEntry, LONG_TTL, POLL, INDEX_TTL, type RuleGroup } from './probe.js';

export const ownerIndexRules: RuleGroup = {
  capability: 'index',
  rules: [
    {
      rule: 'an index entry is listed after indexAdd, and gone after indexRemove',
      body: async (s) => {
        const owner = s.ownerKey();
        assert.equal((await s.indexList(owner)).size, 0, 'indexList() of an owner never added to gave entries');
        const far = Date.now() + LONG_TTL;
        const first = indexEntry('k1', { agent: 'first browser' });
        const second = indexEntry('k2');
        await s.indexAdd(owner, 'h1', first, far);
        await s.indexAdd(owner, 'h2', second, far);
        const both = await s.indexList(owner);
        assert.deepEqual([...both.keys()].sort(), ['h1', 'h2'], 'indexList() after two indexAdd() calls');
        assert.deepEqual(
          both.get('h1'),
          normalize(first),
          'indexList() gave back another entry than indexAdd() was given',
        );
        await s.indexRemove(owner, 'h1');
        const after = await s.indexList(owner);
        assert.ok(
          !after.has('h1'),
          'indexList() still gives a handle after indexRemove() of it (a revoked or destroyed session stays listed)',
        );
        assert.deepEqual([...after.keys()], ['h2'], 'indexRemove() of one handle took another with it');
        // Removing what is not there is not an error.
        await s.indexRemove(owner, 'h1');
        await s.indexRemove(s.ownerKey('never-added'), 'h1');
        await s.indexRemove(owner, 'h2');
        assert.equal((await s.indexList(owner)).size, 0, 'indexList() after every handle was removed gave entries');
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
        assert.equal(listed.size, 1, `two indexAdd() calls of one handle gave ${listed.size} entries`);
        assert.deepEqual(
          listed.get('h'),
          normalize({ ...later, createdAt: original.createdAt }),
          'the second indexAdd() of a handle',
        );
        // Once removed, a handle starts anew.
        await s.indexRemove(owner, 'h');
        await s.indexAdd(owner, 'h', later, far);
        assert.equal(
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
        const expiresAt = Date.now() + INDEX_TTL;
        await s.indexAdd(owner, 'short', indexEntry('k1'), expiresAt);
        await s.indexAdd(owner, 'long', indexEntry('k2'), Date.now() + LONG_TTL);
        await s.indexAdd(owner, 'forever', indexEntry('k3'), Infinity);
        await sleep(INDEX_TTL / 2);
        const before = await s.indexList(owner);
        // Only a list that answered before the expiry can say whether the entry was still there.
        if (Date.now() < expiresAt)
          assert.ok(
            before.has('short'),
            `an index entry was gone before its expiry (${INDEX_TTL} ms after indexAdd(); is expiresAt read as ms since the epoch?)`,
          );
        const deadline = expiresAt + s.ttlBound;
        for (;;) {
          const listed = await s.indexList(owner);
          if (!listed.has('short')) {
            assert.ok(
              listed.has('long') && listed.has('forever'),
              'entries of a later expiry, or none (Infinity), went with the one that expired',
            );
            return;
          }
          assert.ok(Date.now() <= deadline, `an index entry was still listed ${s.ttlBound} ms after its expiry`);
          await sleep(POLL);
        }
      },
    },
    {
      rule: 'the indexes of different owners are independent',
      body: async (s) => {
        const [a, b] = [s.ownerKey('a'), s.ownerKey('b')];
        const far = Date.now() + LONG_TTL;
        await s.indexAdd(a, 'h', indexEntry('ka'), far);
        await s.indexAdd(b, 'h', indexEntry('kb'), far);
        assert.equal(
          (await s.indexList(a)).get('h')?.key,
          'ka',
          "one owner's indexAdd() of a handle replaced another owner's",
        );
        await s.indexRemove(b, 'h');
        assert.equal((await s.indexList(b)).size, 0, 'indexRemove() left the entry listed');
        assert.equal(
          (await s.indexList(a)).get('h')?.key,
          'ka',
          "one owner's indexRemove() of a handle removed another owner's",
        );
      },
    },
  ],
};
