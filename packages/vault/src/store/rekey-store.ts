import { sealedKeyId } from '../crypto/seal.js';
import { needsRekey, sealTokenSet, unsealTokenSet } from '../crypto/seal-token-set.js';
import type { VaultKeys } from '../crypto/vault-keys.js';
import { DEFAULTS } from '../defaults.js';
import { DecryptionFailed } from '../errors.js';
import { sealSignIn, unsealSignIn } from '../sign-in/pending-sign-in.js';
import type { VaultStore } from './vault-store.js';

/** What `rekey` did. */
export interface RekeyReport {
  /** Connections read. */
  scanned: number;
  /** Connections re-encrypted under the current key. */
  rekeyed: number;
  /** Connections whose values could not be decrypted with any configured key (left as they are). */
  failed: { userId: string; connection: string; reason: string }[];
  /** Pending sign-ins (PKCE verifier, nonce, user) not yet expired: read, re-encrypted, unreadable (left to expire). */
  signIns: { scanned: number; rekeyed: number; failed: number };
}

/**
 * Re-encrypts every stored set, and every pending sign-in, that is not under the current key.
 * Each row is a compare-and-swap that keeps the version (so it never fences out a refresh in
 * flight); a row that changed meanwhile was written under the current key already and is
 * skipped, and a sign-in finished meanwhile is not brought back.
 */
export async function rekeyStore(store: VaultStore, keys: VaultKeys, now: number): Promise<RekeyReport> {
  let scanned = 0;
  let rekeyed = 0;
  const failed: { userId: string; connection: string; reason: string }[] = [];
  let after: { userId: string; connection: string } | undefined;
  for (;;) {
    const rows = await store.page(after, DEFAULTS.rekeyBatch);
    const last = rows.at(-1);
    if (last === undefined) break;
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
    after = { userId: last.userId, connection: last.connection };
  }
  return { scanned, rekeyed, failed, signIns: await rekeySignIns(store, keys, now) };
}

async function rekeySignIns(
  store: VaultStore,
  keys: VaultKeys,
  now: number,
): Promise<RekeyReport['signIns']> {
  const out = { scanned: 0, rekeyed: 0, failed: 0 };
  let after: string | undefined;
  for (;;) {
    const rows = await store.pageSignIns(after, DEFAULTS.rekeyBatch, now);
    const last = rows.at(-1);
    if (last === undefined) break;
    for (const row of rows) {
      out.scanned++;
      if (sealedKeyId(row.sealed) === keys.current) continue;
      let sealed: string;
      try {
        sealed = sealSignIn(keys, row.stateHash, unsealSignIn(keys, row.stateHash, row.sealed));
      } catch {
        // No configured key opens it: finishing it fails either way, and it expires within minutes.
        out.failed++;
        continue;
      }
      if (await store.replaceSignIn(row.stateHash, row.sealed, sealed)) out.rekeyed++;
    }
    after = last.stateHash;
  }
  return out;
}
