import { VaultConfigError } from '../errors.js';
import { openPostgresVaultStore, type PostgresVaultStoreOptions } from './postgres-store.js';
import { openSqliteVaultStore } from './sqlite-store.js';
import type { VaultStore } from './vault-store.js';

/** Opens the store `database` names: a `postgres://` / `postgresql://` URL, else an SQLite file path. */
export async function openVaultStore(
  database: string | VaultStore,
  postgres: PostgresVaultStoreOptions = {},
): Promise<VaultStore> {
  if (typeof database !== 'string') return database;
  if (database === '') throw new VaultConfigError('database: give an SQLite file path or a postgres:// URL');
  if (/^postgres(ql)?:\/\//i.test(database)) return openPostgresVaultStore(database, postgres);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(database)) {
    throw new VaultConfigError(
      `database: unsupported URL scheme in "${database.split(':')[0]}://…" (SQLite path or postgres://)`,
    );
  }
  return openSqliteVaultStore(database);
}
