import { type Clock, systemClock } from './clock.js';
import { loadVaultKeys, type VaultKeysInput } from './crypto/vault-keys.js';
import { openVaultStore } from './store/open-vault-store.js';
import type { PostgresVaultStoreOptions } from './store/postgres-store.js';
import { rekeyStore } from './store/rekey-store.js';
import type { VaultStore } from './store/vault-store.js';

export interface RekeyVaultOptions {
  database: string | VaultStore;
  postgres?: PostgresVaultStoreOptions;
  keys?: VaultKeysInput;
  env?: Record<string, string | undefined>;
  /** Decides which pending sign-ins have expired (default the system clock). */
  clock?: Clock;
}

/**
 * Re-encrypts a vault database under its current key without contacting the upstream
 * (what `tessera vault rekey` runs): every token set and every pending sign-in. Rows that no
 * configured key opens are reported, not changed.
 *
 * @example
 * const { rekeyed, failed } = await rekeyVault({ database: './vault.db' }); // keys from TESSERA_VAULT_KEYS
 */
export async function rekeyVault(options: RekeyVaultOptions) {
  const keys = loadVaultKeys(options.keys, options.env);
  const store = await openVaultStore(options.database, options.postgres);
  try {
    return {
      current: keys.current,
      ...(await rekeyStore(store, keys, (options.clock ?? systemClock).now())),
    };
  } finally {
    if (typeof options.database === 'string') await store.close();
  }
}
