import pg from 'pg';
import { VaultConfigError } from '../errors.js';
import { patchAssignments, toConnectionRow } from './columns.js';
import { MIGRATIONS, migrationSql } from './schema.js';
import type { ConnectionState, NewTokenSet, RowPatch, VaultStore } from './vault-store.js';

export interface PostgresVaultStoreOptions {
  /** Schema holding the vault's tables (created if missing). Default `public`. */
  schema?: string;
  /** Prefix of the vault's table names. Default `tessera_vault_`. */
  tablePrefix?: string;
  /** Pool size. Default 10. */
  max?: number;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * The vault store on PostgreSQL (`pg`): tables of its own in a schema, migrations under
 * `pg_advisory_xact_lock` so instances starting together migrate once, and every race-prone
 * write a single conditional `UPDATE … WHERE version = $n`.
 */
export async function openPostgresVaultStore(
  url: string,
  options: PostgresVaultStoreOptions = {},
): Promise<VaultStore> {
  const schema = options.schema ?? 'public';
  const prefix = options.tablePrefix ?? 'tessera_vault_';
  if (!IDENT.test(schema))
    throw new VaultConfigError(`PostgreSQL schema "${schema}" must be a plain identifier`);
  if (!IDENT.test(`${prefix}x`)) {
    throw new VaultConfigError(`PostgreSQL table prefix "${prefix}" must be a plain identifier`);
  }
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10 });
  // An idle client that errors (server restart) must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  const q = `"${schema}".${prefix}`;
  try {
    await migrate(pool, schema, q, prefix);
  } catch (err) {
    await pool.end();
    throw err;
  }
  const T = `${q}connections`;
  const S = `${q}signins`;
  const query = async (text: string, values: unknown[] = []) => (await pool.query(text, values)).rows;

  return {
    kind: 'postgres',
    async get(userId, connection) {
      const [row] = await query(`SELECT * FROM ${T} WHERE user_id = $1 AND connection = $2`, [
        userId,
        connection,
      ]);
      return row ? toConnectionRow(row) : undefined;
    },
    async listUser(userId) {
      return (await query(`SELECT * FROM ${T} WHERE user_id = $1 ORDER BY connection`, [userId])).map(
        toConnectionRow,
      );
    },
    async put(set: NewTokenSet) {
      const s = set.sealed;
      const [row] = await query(
        `INSERT INTO ${T} (user_id, connection, issuer, state, version, key_id, access_token, token_type, expiry,
           refresh_token, id_token, scope, failures, refreshed_at, updated_at, purge_at)
         VALUES ($1, $2, $13, 'active', 1, $3, $4, $5, $6, $7, $8, $9, 0, $10, $11, $12)
         ON CONFLICT (user_id, connection) DO UPDATE SET
           issuer = excluded.issuer, state = 'active', version = ${T}.version + 1, lease_owner = NULL, lease_until = NULL,
           key_id = excluded.key_id, access_token = excluded.access_token, token_type = excluded.token_type,
           expiry = excluded.expiry, refresh_token = excluded.refresh_token, id_token = excluded.id_token,
           scope = excluded.scope, failures = 0, retry_at = NULL, last_error = NULL,
           refreshed_at = excluded.refreshed_at, updated_at = excluded.updated_at, purge_at = excluded.purge_at
         RETURNING version`,
        [
          set.userId,
          set.connection,
          set.keyId,
          s.access_token,
          s.token_type,
          s.expiry,
          s.refresh_token,
          s.id_token,
          s.scope,
          set.refreshedAt,
          set.updatedAt,
          set.purgeAt,
          set.issuer,
        ],
      );
      if (!row) throw new Error('INSERT … RETURNING version returned no row');
      return Number(row.version);
    },
    async update(userId, connection, expectedVersion, patch: RowPatch, bump) {
      const { columns, values } = patchAssignments(patch);
      const sets = columns.map((c, i) => `${c} = $${i + 1}`);
      if (bump) sets.push('version = version + 1');
      if (sets.length === 0) sets.push('version = version');
      const n = columns.length;
      const [row] = await query(
        `UPDATE ${T} SET ${sets.join(', ')} WHERE user_id = $${n + 1} AND connection = $${n + 2} AND version = $${n + 3} RETURNING version`,
        [...values, userId, connection, expectedVersion],
      );
      return row ? Number(row.version) : undefined;
    },
    async remove(userId, connection) {
      const res =
        connection === undefined
          ? await pool.query(`DELETE FROM ${T} WHERE user_id = $1`, [userId])
          : await pool.query(`DELETE FROM ${T} WHERE user_id = $1 AND connection = $2`, [userId, connection]);
      return res.rowCount ?? 0;
    },
    async page(after, limit) {
      const rows = after
        ? await query(
            `SELECT * FROM ${T} WHERE (user_id, connection) > ($1, $2) ORDER BY user_id, connection LIMIT $3`,
            [after.userId, after.connection, limit],
          )
        : await query(`SELECT * FROM ${T} ORDER BY user_id, connection LIMIT $1`, [limit]);
      return rows.map(toConnectionRow);
    },
    async idle(before, limit) {
      return (
        await query(
          `SELECT * FROM ${T} WHERE access_token IS NOT NULL AND refreshed_at < $1 ORDER BY refreshed_at LIMIT $2`,
          [before, limit],
        )
      ).map(toConnectionRow);
    },
    async purge(now) {
      const a = await pool.query(`DELETE FROM ${T} WHERE purge_at IS NOT NULL AND purge_at <= $1`, [now]);
      const b = await pool.query(`DELETE FROM ${S} WHERE expires_at <= $1`, [now]);
      return { connections: a.rowCount ?? 0, signIns: b.rowCount ?? 0 };
    },
    async countByState() {
      const out: Record<ConnectionState, number> = {
        active: 0,
        refresh_backoff: 0,
        needs_reauthorization: 0,
        revoked: 0,
      };
      for (const r of await query(`SELECT state, COUNT(*)::int AS n FROM ${T} GROUP BY state`)) {
        out[r.state as ConnectionState] = Number(r.n);
      }
      return out;
    },
    async putSignIn(stateHash, sealed, expiresAt) {
      await query(`INSERT INTO ${S} (state_hash, payload, expires_at) VALUES ($1, $2, $3)`, [
        stateHash,
        sealed,
        expiresAt,
      ]);
    },
    async takeSignIn(stateHash, now) {
      const [row] = await query(`DELETE FROM ${S} WHERE state_hash = $1 RETURNING payload, expires_at`, [
        stateHash,
      ]);
      return row && Number(row.expires_at) > now ? String(row.payload) : undefined;
    },
    async pageSignIns(after, limit, now) {
      const rows =
        after === undefined
          ? await query(
              `SELECT state_hash, payload, expires_at FROM ${S} WHERE expires_at > $1 ORDER BY state_hash COLLATE "C" LIMIT $2`,
              [now, limit],
            )
          : await query(
              `SELECT state_hash, payload, expires_at FROM ${S} WHERE expires_at > $1 AND state_hash COLLATE "C" > $2 ORDER BY state_hash COLLATE "C" LIMIT $3`,
              [now, after, limit],
            );
      return rows.map((r) => ({
        stateHash: String(r.state_hash),
        sealed: String(r.payload),
        expiresAt: Number(r.expires_at),
      }));
    },
    async replaceSignIn(stateHash, expected, sealed) {
      const res = await pool.query(`UPDATE ${S} SET payload = $1 WHERE state_hash = $2 AND payload = $3`, [
        sealed,
        stateHash,
        expected,
      ]);
      return res.rowCount === 1;
    },
    async close() {
      await pool.end();
    },
  };
}

/** Creates the schema and applies pending migrations, one instance at a time (a transaction-scoped advisory lock). */
async function migrate(pool: pg.Pool, schema: string, q: string, prefix: string): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`tessera_vault:${schema}.${prefix}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${q}schema (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)`,
    );
    const { rows } = await client.query(`SELECT version FROM ${q}schema WHERE id = 1`);
    const current = rows[0] ? Number(rows[0].version) : 0;
    if (current > MIGRATIONS.length) {
      throw new Error(
        `This vault schema has version ${current}; this @tessera/vault knows ${MIGRATIONS.length}: upgrade the package`,
      );
    }
    for (let i = current; i < MIGRATIONS.length; i++) {
      await client.query(migrationSql(i, { prefix: q, indexPrefix: prefix, int: 'BIGINT' }));
    }
    await client.query(
      `INSERT INTO ${q}schema (id, version) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET version = excluded.version`,
      [MIGRATIONS.length],
    );
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
