import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { ReplayStore } from '../ports/index.js';
import { T0, uniqueId } from './fixtures.js';

/** `ReplayStore`: single-use keys, atomic across concurrent callers. */
export function replayStoreCases(get: () => ReplayStore): void {
  it('replay: a key is accepted once until it expires', async () => {
    const replay = get();
    const key = uniqueId('nonce');
    assert.equal(await replay.insertIfAbsent(key, T0 + 1000, T0), true);
    assert.equal(await replay.insertIfAbsent(key, T0 + 1000, T0 + 1), false);
    const concurrent = await Promise.all(
      Array.from({ length: 10 }, () => replay.insertIfAbsent(`${key}-c`, T0 + 1000, T0)),
    );
    assert.equal(concurrent.filter(Boolean).length, 1);
    assert.equal(await replay.insertIfAbsent(key, T0 + 5000, T0 + 1000), true, 'reusable after expiry');
  });

  it('replay: keys are independent, and a renewed key holds until its new expiry', async () => {
    const replay = get();
    const a = uniqueId('nonce');
    const b = uniqueId('nonce');
    assert.equal(await replay.insertIfAbsent(a, T0 + 1000, T0), true);
    assert.equal(await replay.insertIfAbsent(b, T0 + 1000, T0), true, 'another key is not taken');
    assert.equal(await replay.insertIfAbsent(a, T0 + 9000, T0 + 1000), true, 'expired: recorded again');
    assert.equal(await replay.insertIfAbsent(a, T0 + 9000, T0 + 8999), false, 'until the new expiry');
  });
}
