import type { KeyRecord, KeyStore } from '@tessera/server';
import type { Database, Queryable } from './database.js';
import { bytes, KEY_COLUMNS, type KeyRow, toKey } from './rows.js';

/**
 * Signing keys in named rings (`signing_keys`). `initKeys` and `rotateKeys` run in one
 * transaction that first takes an advisory lock on the ring, so instances starting (or rotating)
 * at once serialise: one initialises or rotates, the others find it done.
 */
export function pgKeyStore(db: Database): KeyStore {
  const keys = db.t('signing_keys');
  const lockRing = (q: Queryable, ring: string) =>
    q.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`tessera keys ${db.schemaName} ${ring}`]);
  const insert = (q: Queryable, ring: string, k: KeyRecord) =>
    q.query(
      `INSERT INTO ${keys} (ring, kid, alg, state, public_jwk, private_jwk_sealed, created_at, activated_at,
        retired_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        ring,
        k.kid,
        k.alg,
        k.state,
        JSON.stringify(k.publicJwk),
        bytes(k.privateJwkSealed),
        k.createdAt,
        k.activatedAt,
        k.retiredAt,
      ],
    );
  return {
    async listKeys(ring) {
      const rows = await db.rows<KeyRow>(
        `SELECT ${KEY_COLUMNS} FROM ${keys} WHERE ring = $1 ORDER BY created_at, kid`,
        [ring],
      );
      return rows.map(toKey);
    },
    async initKeys(ring, records) {
      return db.transaction(async (q) => {
        await lockRing(q, ring);
        const { rowCount } = await q.query(`SELECT 1 FROM ${keys} WHERE ring = $1 LIMIT 1`, [ring]);
        if (rowCount) return false;
        for (const k of records) await insert(q, ring, k);
        return true;
      });
    },
    async rotateKeys(input) {
      const { ring, now } = input;
      return db.transaction(async (q) => {
        await lockRing(q, ring);
        const { rows } = await q.query<{ kid: string }>(
          `SELECT kid FROM ${keys} WHERE ring = $1 AND state = 'current'`,
          [ring],
        );
        if (rows[0]?.kid !== input.expectedCurrentKid) return false;
        await q.query(
          `UPDATE ${keys} SET state = 'retired', retired_at = $1 WHERE ring = $2 AND state = 'current'`,
          [now, ring],
        );
        await q.query(
          `UPDATE ${keys} SET state = 'current', activated_at = $1 WHERE ring = $2 AND state = 'next'`,
          [now, ring],
        );
        await q.query(`DELETE FROM ${keys} WHERE ring = $1 AND state = 'retired' AND retired_at < $2`, [
          ring,
          input.dropRetiredBefore,
        ]);
        await insert(q, ring, input.newNext);
        return true;
      });
    },
  };
}
