import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TokenStorage } from '../core/types.js';

/** Options of {@link describeStorageConformance}. */
export interface StorageConformanceOptions {
  /**
   * Makes what `storage` keeps under `key` unreadable by the adapter's own means (truncate the
   * file, garble the record, break the key). With it, the suite also checks the rule for broken
   * storage: the read fails once (or answers null), and later writes and reads work.
   */
  corrupt?: (storage: TokenStorage, key: string) => Promise<void> | void;
}

/**
 * The contract every {@link TokenStorage} adapter must meet, as a `node:test` suite: run it
 * against your adapter (Keychain, Android Keystore, a database, ...) to know the SDK can rely
 * on it. `factory` makes a fresh, empty storage for each test.
 *
 * @example
 * import { describeStorageConformance } from '@tessera/client/testing';
 * describeStorageConformance('keychainStorage', () => keychainStorage({ service: `test-${Math.random()}` }));
 */
export function describeStorageConformance(
  name: string,
  factory: () => TokenStorage | Promise<TokenStorage>,
  options: StorageConformanceOptions = {},
): void {
  describe(`${name} (storage conformance)`, () => {
    it('answers null for a missing key', async () => {
      const s = await factory();
      assert.equal(await s.get('missing'), null);
    });

    it('round-trips a value, including non-ASCII', async () => {
      const s = await factory();
      const value = JSON.stringify({ accessToken: 'at-é-🔑', refreshToken: 'rt-1', expiresAt: 1 });
      await s.set('tessera:web', value);
      assert.equal(await s.get('tessera:web'), value);
    });

    it('replaces a value and keeps keys apart', async () => {
      const s = await factory();
      await s.set('a', 'one');
      await s.set('b', 'two');
      await s.set('a', 'three');
      assert.equal(await s.get('a'), 'three');
      assert.equal(await s.get('b'), 'two');
    });

    it('removes a value (and removing a missing key is fine)', async () => {
      const s = await factory();
      await s.set('a', 'one');
      await s.remove('a');
      await s.remove('never-set');
      assert.equal(await s.get('a'), null);
    });

    it('concurrent writes all land; the last write wins', async () => {
      const s = await factory();
      await Promise.all(Array.from({ length: 20 }, (_, i) => s.set(`k${i}`, `v${i}`)));
      for (let i = 0; i < 20; i++) assert.equal(await s.get(`k${i}`), `v${i}`);
      await Promise.all([s.set('x', '1'), s.set('x', '2'), s.set('x', '3')]);
      assert.equal(await s.get('x'), '3');
    });

    const corrupt = options.corrupt;
    if (corrupt) {
      it('an unreadable value: the read fails once or answers null, then writes and reads work again', async () => {
        const s = await factory();
        await s.set('tessera:web', 'session-1');
        await corrupt(s, 'tessera:web');
        let first: string | null = null;
        try {
          first = await s.get('tessera:web');
        } catch {}
        assert.equal(first, null, 'never a garbled value');
        assert.equal(await s.get('tessera:web'), null, 'started clean');
        await s.set('tessera:web', 'session-2');
        assert.equal(await s.get('tessera:web'), 'session-2');
      });
    }
  });
}
