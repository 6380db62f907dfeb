import Database from 'better-sqlite3';
import { patchAssignments, toConnectionRow } from './columns.js';
import { MIGRATIONS, migrationSql } from './schema.js';
import type { ConnectionState, NewTokenSet, RowPatch, VaultStore } from './vault-store.js';

export interface SqliteVaultStoreOptions {
  /** How long a writer waits for another process's write lock before failing (ms). */
  busyTimeoutMs?: number;
}

type Row = Record<string, unknown>;

/**
 * The vault store on one SQLite file (better-sqlite3, WAL). Several processes may open the
 * same file: writes are short `BEGIN IMMEDIATE` transactions or single statements, and the
 * migrations run under the write lock, so two processes opening a new file at once cannot
 * both migrate it.
 */
export function openSqliteVaultStore(path: string, options: SqliteVaultStoreOptions = {}): VaultStore {
  const db = new Database(path);
  // Waiting for the lock must be set before anything else: switching to WAL needs it too.
  db.pragma(`busy_timeout = ${Math.floor(options.busyTimeoutMs ?? 5_000)}`);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  migrate(db);

  const T = 'tessera_vault_connections';
  const S = 'tessera_vault_signins';
  const get = db.prepare(`SELECT * FROM ${T} WHERE user_id = ? AND connection = ?`);
  const listUser = db.prepare(`SELECT * FROM ${T} WHERE user_id = ? ORDER BY connection`);
  const put = db.prepare(
    `INSERT INTO ${T} (user_id, connection, issuer, state, version, key_id, access_token, token_type, expiry,
       refresh_token, id_token, scope, failures, refreshed_at, updated_at, purge_at)
     VALUES (@userId, @connection, @issuer, 'active', 1, @keyId, @access_token, @token_type, @expiry,
       @refresh_token, @id_token, @scope, 0, @refreshedAt, @updatedAt, @purgeAt)
     ON CONFLICT (user_id, connection) DO UPDATE SET
       issuer = excluded.issuer, state = 'active', version = version + 1, lease_owner = NULL, lease_until = NULL,
       key_id = excluded.key_id, access_token = excluded.access_token, token_type = excluded.token_type,
       expiry = excluded.expiry, refresh_token = excluded.refresh_token, id_token = excluded.id_token,
       scope = excluded.scope, failures = 0, retry_at = NULL, last_error = NULL,
       refreshed_at = excluded.refreshed_at, updated_at = excluded.updated_at, purge_at = excluded.purge_at
     RETURNING version`,
  );
  const removeOne = db.prepare(`DELETE FROM ${T} WHERE user_id = ? AND connection = ?`);
  const removeAll = db.prepare(`DELETE FROM ${T} WHERE user_id = ?`);
  const pageFirst = db.prepare(`SELECT * FROM ${T} ORDER BY user_id, connection LIMIT ?`);
  const pageAfter = db.prepare(
    `SELECT * FROM ${T} WHERE (user_id > ?) OR (user_id = ? AND connection > ?) ORDER BY user_id, connection LIMIT ?`,
  );
  const idle = db.prepare(
    `SELECT * FROM ${T} WHERE access_token IS NOT NULL AND refreshed_at < ? ORDER BY refreshed_at LIMIT ?`,
  );
  const purgeConnections = db.prepare(`DELETE FROM ${T} WHERE purge_at IS NOT NULL AND purge_at <= ?`);
  const purgeSignIns = db.prepare(`DELETE FROM ${S} WHERE expires_at <= ?`);
  const counts = db.prepare(`SELECT state, COUNT(*) AS n FROM ${T} GROUP BY state`);
  const putSignIn = db.prepare(`INSERT INTO ${S} (state_hash, payload, expires_at) VALUES (?, ?, ?)`);
  const takeSignIn = db.prepare(`DELETE FROM ${S} WHERE state_hash = ? RETURNING payload, expires_at`);
  const pageSignInsFirst = db.prepare(
    `SELECT state_hash, payload, expires_at FROM ${S} WHERE expires_at > ? ORDER BY state_hash LIMIT ?`,
  );
  const pageSignInsAfter = db.prepare(
    `SELECT state_hash, payload, expires_at FROM ${S} WHERE expires_at > ? AND state_hash > ? ORDER BY state_hash LIMIT ?`,
  );
  const replaceSignIn = db.prepare(`UPDATE ${S} SET payload = ? WHERE state_hash = ? AND payload = ?`);
  const updates = new Map<string, Database.Statement>();

  return {
    kind: 'sqlite',
    async get(userId, connection) {
      const row = get.get(userId, connection) as Row | undefined;
      return row ? toConnectionRow(row) : undefined;
    },
    async listUser(userId) {
      return (listUser.all(userId) as Row[]).map(toConnectionRow);
    },
    async put(set: NewTokenSet) {
      const row = put.get({
        userId: set.userId,
        connection: set.connection,
        issuer: set.issuer,
        keyId: set.keyId,
        ...set.sealed,
        refreshedAt: set.refreshedAt,
        updatedAt: set.updatedAt,
        purgeAt: set.purgeAt,
      }) as { version: number };
      return row.version;
    },
    async update(userId, connection, expectedVersion, patch: RowPatch, bump) {
      const { columns, values } = patchAssignments(patch);
      const key = `${columns.join(',')}|${bump}`;
      let stmt = updates.get(key);
      if (!stmt) {
        const sets = [...columns.map((c) => `${c} = ?`), ...(bump ? ['version = version + 1'] : [])];
        if (sets.length === 0) sets.push('version = version');
        stmt = db.prepare(
          `UPDATE ${T} SET ${sets.join(', ')} WHERE user_id = ? AND connection = ? AND version = ? RETURNING version`,
        );
        updates.set(key, stmt);
      }
      const row = stmt.get(...values, userId, connection, expectedVersion) as { version: number } | undefined;
      return row?.version;
    },
    async remove(userId, connection) {
      return (connection === undefined ? removeAll.run(userId) : removeOne.run(userId, connection)).changes;
    },
    async page(after, limit) {
      const rows = after
        ? pageAfter.all(after.userId, after.userId, after.connection, limit)
        : pageFirst.all(limit);
      return (rows as Row[]).map(toConnectionRow);
    },
    async idle(before, limit) {
      return (idle.all(before, limit) as Row[]).map(toConnectionRow);
    },
    async purge(now) {
      return db.transaction(() => ({
        connections: purgeConnections.run(now).changes,
        signIns: purgeSignIns.run(now).changes,
      }))();
    },
    async countByState() {
      const out: Record<ConnectionState, number> = {
        active: 0,
        refresh_backoff: 0,
        needs_reauthorization: 0,
        revoked: 0,
      };
      for (const r of counts.all() as { state: ConnectionState; n: number }[]) out[r.state] = r.n;
      return out;
    },
    async putSignIn(stateHash, sealed, expiresAt) {
      putSignIn.run(stateHash, sealed, expiresAt);
    },
    async takeSignIn(stateHash, now) {
      const row = takeSignIn.get(stateHash) as { payload: string; expires_at: number } | undefined;
      return row && row.expires_at > now ? row.payload : undefined;
    },
    async pageSignIns(after, limit, now) {
      const rows = (
        after === undefined ? pageSignInsFirst.all(now, limit) : pageSignInsAfter.all(now, after, limit)
      ) as { state_hash: string; payload: string; expires_at: number }[];
      return rows.map((r) => ({ stateHash: r.state_hash, sealed: r.payload, expiresAt: r.expires_at }));
    },
    async replaceSignIn(stateHash, expected, sealed) {
      return replaceSignIn.run(sealed, stateHash, expected).changes === 1;
    },
    async close() {
      if (db.open) db.close();
    },
  };
}

/** Applies pending migrations under the write lock: reading `user_version` and migrating are one transaction. */
function migrate(db: Database.Database): void {
  const run = db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    for (let i = current; i < MIGRATIONS.length; i++) {
      db.exec(migrationSql(i, { prefix: 'tessera_vault_', indexPrefix: 'tessera_vault_', int: 'INTEGER' }));
    }
    if (current < MIGRATIONS.length) db.pragma(`user_version = ${MIGRATIONS.length}`);
    if (current > MIGRATIONS.length) {
      throw new Error(
        `This vault database has schema version ${current}; this @tessera/vault knows ${MIGRATIONS.length}: upgrade the package`,
      );
    }
  });
  run.immediate();
}
