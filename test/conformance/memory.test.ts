/**
 * The conformance kit on the embedded MemoryStore: the store contract and every generated lifecycle
 * path (the MemoryStore has every capability but events, so no path is skipped), and its index per
 * owner.
 */
import { MemoryStore } from '../../src/index.js';
import { testStore } from '../../src/testing/index.js';

testStore({
  name: 'MemoryStore',
  factory: () => new MemoryStore(),
  supports: { ttl: true, touch: true, update: true, add: true, lock: true, index: true },
});
