import { needsRekey, sealTokenSet, unsealTokenSet } from '../crypto/seal-token-set.js';
import type { VaultKeys } from '../crypto/vault-keys.js';
import { DEFAULTS } from '../defaults.js';
import { DecryptionFailed } from '../errors.js';
import type { VaultStore } from './vault-store.js';

/**
 * Re-encrypts every stored set that is not under the current key. Each row is a
 * compare-and-swap that keeps the version (so it never fences out a refresh in flight); a row
 * that changed meanwhile was written under the current key already and is skipped.
 */
export async function rekeyStore(
  store: VaultStore,
  keys: VaultKeys,
): Promise<{
  scanned: number;
  rekeyed: number;
  failed: { userId: string; connection: string; reason: string }[];
}> {
  let scanned = 0;
  let rekeyed = 0;
  const failed: { userId: string; connection: string; reason: string }[] = [];
  let after: { userId: string; connection: string } | undefined;
  for (;;) {
    const rows = await store.page(after, DEFAULTS.rekeyBatch);
    if (rows.length === 0) break;
    for (const row of rows) {
      scanned++;
      if (!row.sealed || !needsRekey(keys, row.sealed)) continue;
      try {
        const set = unsealTokenSet(keys, row.userId, row.connection, row.sealed);
        const sealed = sealTokenSet(keys, row.userId, row.connection, set);
        const done = await store.update(
          row.userId,
          row.connection,
          row.version,
          { sealed, keyId: keys.current },
          false,
        );
        if (done !== undefined) rekeyed++;
      } catch (err) {
        if (!(err instanceof DecryptionFailed)) throw err;
        failed.push({ userId: row.userId, connection: row.connection, reason: err.message });
      }
    }
    const last = rows[rows.length - 1]!;
    after = { userId: last.userId, connection: last.connection };
  }
  return { scanned, rekeyed, failed };
}
