/**
 * The vault's tables, one migration per entry (append only). Written in the SQL both SQLite and
 * PostgreSQL accept; `{p}` is the table prefix (schema-qualified on PostgreSQL), `{int}` the
 * integer type wide enough for milliseconds since the epoch.
 */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE {p}connections (
    user_id TEXT NOT NULL,
    connection TEXT NOT NULL,
    issuer TEXT NOT NULL,
    state TEXT NOT NULL,
    version {int} NOT NULL,
    lease_owner TEXT,
    lease_until {int},
    key_id TEXT,
    access_token TEXT,
    token_type TEXT,
    expiry TEXT,
    refresh_token TEXT,
    id_token TEXT,
    scope TEXT,
    failures INTEGER NOT NULL DEFAULT 0,
    retry_at {int},
    last_error TEXT,
    refreshed_at {int},
    updated_at {int} NOT NULL,
    purge_at {int},
    PRIMARY KEY (user_id, connection)
  );
  CREATE INDEX {n}connections_purge ON {p}connections (purge_at) WHERE purge_at IS NOT NULL;
  CREATE INDEX {n}connections_refreshed ON {p}connections (refreshed_at) WHERE access_token IS NOT NULL;
  CREATE TABLE {p}signins (
    state_hash TEXT PRIMARY KEY,
    payload TEXT NOT NULL,
    expires_at {int} NOT NULL
  );
  CREATE INDEX {n}signins_expiry ON {p}signins (expires_at);`,
];

/** The SQL of migration `index` for one dialect. */
export function migrationSql(
  index: number,
  table: { prefix: string; indexPrefix: string; int: string },
): string {
  const sql = MIGRATIONS[index];
  if (sql === undefined) throw new RangeError(`no vault migration ${index} (there are ${MIGRATIONS.length})`);
  return sql
    .replaceAll('{p}', table.prefix)
    .replaceAll('{n}', table.indexPrefix)
    .replaceAll('{int}', table.int);
}
