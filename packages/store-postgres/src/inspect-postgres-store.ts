import type { PostgresStoreModule, PostgresStoreOptions } from '@tessera/server';
import pg from 'pg';
import { migrations } from './migrations.js';

/** PostgreSQL's SQLSTATE for a table that does not exist. */
const UNDEFINED_TABLE = '42P01';

/**
 * Connects once and reads the schema's migration version, changing nothing (no schema is
 * created, nothing migrated): what `tessera doctor` reports about the database.
 */
export const inspectPostgresStore: PostgresStoreModule['inspectPostgresStore'] = async (
  options: PostgresStoreOptions,
) => {
  const schema = options.schema ?? 'public';
  const latestVersion = migrations(`"${schema}"`).length;
  const client = new pg.Client({
    connectionString: options.url,
    connectionTimeoutMillis: 5000,
    application_name: `tessera doctor ${schema}`,
  });
  try {
    await client.connect();
  } catch (err) {
    return { reachable: false, detail: `cannot connect: ${(err as Error).message}` };
  }
  try {
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
    let schemaVersion = 0;
    try {
      const version = await client.query<{ v: number | null }>(
        `SELECT max(version) AS v FROM "${schema}".tessera_migrations`,
      );
      schemaVersion = version.rows[0]?.v ?? 0;
    } catch (err) {
      if ((err as { code?: string }).code !== UNDEFINED_TABLE) throw err;
    }
    return { reachable: true, schemaVersion, latestVersion, detail: `PostgreSQL ${rows[0]?.server_version}` };
  } catch (err) {
    return { reachable: false, detail: (err as Error).message };
  } finally {
    await client.end().catch(() => {});
  }
};
