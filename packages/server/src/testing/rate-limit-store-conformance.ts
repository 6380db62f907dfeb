import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RateLimitStore } from '../ports/index.js';

/**
 * What every `RateLimitStore` must do (the in-memory one, and any shared adapter): fixed windows
 * that start at a key's first hit, counts that `peek` reads without adding to, `reset`, and
 * atomic hits (concurrent hits get distinct counts, so a limit cannot be overrun by racing it).
 * `open` returns a fresh, empty store (a new key prefix for a shared one).
 *
 * @example
 * import { describeRateLimitStoreConformance } from '@tessera/server/testing';
 * describeRateLimitStoreConformance('redis', async () => redisRateLimitStore({ url, prefix: freshPrefix() }));
 */
export function describeRateLimitStoreConformance(name: string, open: () => Promise<RateLimitStore>): void {
  describe(`rate-limit store conformance: ${name}`, () => {
    const T0 = 1_800_000_000_000;
    const WINDOW = 60_000;
    let n = 0;
    const key = () => `conformance-${++n}-${Math.random().toString(36).slice(2, 8)}`;

    it('counts hits in a window that starts at the first hit and ends windowMs later', async () => {
      const store = await open();
      const k = key();
      assert.deepEqual(await store.hit(k, WINDOW, T0), { count: 1, resetAt: T0 + WINDOW });
      assert.deepEqual(await store.hit(k, WINDOW, T0 + 10_000), { count: 2, resetAt: T0 + WINDOW });
      assert.deepEqual(await store.hit(k, WINDOW, T0 + WINDOW - 1), { count: 3, resetAt: T0 + WINDOW });
      // The window has ended: a new one starts at this hit.
      assert.deepEqual(await store.hit(k, WINDOW, T0 + WINDOW), { count: 1, resetAt: T0 + 2 * WINDOW });
    });

    it('peek reads the count without adding to it, and nothing once the window has ended', async () => {
      const store = await open();
      const k = key();
      assert.equal(await store.peek(k, T0), undefined);
      await store.hit(k, WINDOW, T0);
      await store.hit(k, WINDOW, T0);
      assert.deepEqual(await store.peek(k, T0 + 1), { count: 2, resetAt: T0 + WINDOW });
      assert.deepEqual(await store.peek(k, T0 + 1), { count: 2, resetAt: T0 + WINDOW });
      assert.equal(await store.peek(k, T0 + WINDOW), undefined);
    });

    it('reset ends a window; keys are independent', async () => {
      const store = await open();
      const a = key();
      const b = key();
      await store.hit(a, WINDOW, T0);
      await store.hit(b, WINDOW, T0);
      await store.hit(b, WINDOW, T0);
      await store.reset(a);
      assert.equal(await store.peek(a, T0), undefined);
      assert.equal((await store.peek(b, T0))?.count, 2);
      assert.equal((await store.hit(a, WINDOW, T0 + 5)).count, 1);
      await store.reset(key()); // a key without a window: nothing happens
    });

    it('concurrent hits are atomic: each gets its own count', async () => {
      const store = await open();
      const k = key();
      const counts = await Promise.all(Array.from({ length: 100 }, () => store.hit(k, WINDOW, T0)));
      assert.deepEqual(
        counts.map((c) => c.count).sort((x, y) => x - y),
        Array.from({ length: 100 }, (_, i) => i + 1),
      );
    });
  });
}
