// `@tessera/store-postgres`: every storage port of the Tessera authorization server on PostgreSQL.
import type { PostgresStoreModule } from '@tessera/server';
import { inspectPostgresStore } from './inspect-postgres-store.js';
import { openPostgresStores } from './open-postgres-stores.js';

export { isUnavailable } from './fail-closed.js';
export { inspectPostgresStore } from './inspect-postgres-store.js';
export {
  openPostgresStores,
  type PostgresOpenOptions,
  type PostgresStoreOptions,
  type PostgresStores,
} from './open-postgres-stores.js';

/** What the server loads this package for, checked by the compiler. */
export const postgresStoreModule: PostgresStoreModule = { openPostgresStores, inspectPostgresStore };
