import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryRateLimitStore } from '../../src/index.js';
import { describeRateLimitStoreConformance } from '../../src/testing/index.js';

describeRateLimitStoreConformance('memory', async () => new MemoryRateLimitStore());

describe('MemoryRateLimitStore', () => {
  it('stays bounded: past its capacity, ended windows go first, then the oldest', async () => {
    const store = new MemoryRateLimitStore(10);
    const T0 = 1_800_000_000_000;
    // The oldest keys have long windows, the newer ones short windows.
    for (let i = 0; i < 5; i++) await store.hit(`long-${i}`, 60_000, T0);
    for (let i = 0; i < 5; i++) await store.hit(`short-${i}`, 1000, T0);
    // An eleventh key once the short windows have ended: those go, not the oldest open ones.
    await store.hit('new', 60_000, T0 + 2000);
    for (let i = 0; i < 5; i++)
      assert.equal((await store.peek(`long-${i}`, T0 + 2000))?.count, 1, `long-${i}`);
    // Keep adding open windows: the oldest go, the newest and the one just opened stay.
    for (let i = 0; i < 20; i++) await store.hit(`more-${i}`, 60_000, T0 + 3000);
    assert.equal(await store.peek('long-0', T0 + 3000), undefined);
    assert.equal((await store.peek('more-19', T0 + 3000))?.count, 1);
  });
});
