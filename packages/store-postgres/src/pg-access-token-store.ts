import type { AccessTokenStore } from '@tessera/server';
import type { Database } from './database.js';
import { publishNotice } from './writes.js';

/** Opaque access tokens (`access_tokens`) and revoked access-token ids (`revoked_jtis`). */
export function pgAccessTokenStore(db: Database): AccessTokenStore {
  const sql = {
    save: `INSERT INTO ${db.t('access_tokens')} (hash, claims, expires_at) VALUES ($1, $2, $3)`,
    find: `SELECT claims FROM ${db.t('access_tokens')} WHERE hash = $1 AND expires_at > $2`,
    insertJti: `INSERT INTO ${db.t('revoked_jtis')} (jti, expires_at) VALUES ($1, $2)
      ON CONFLICT (jti) DO UPDATE SET expires_at = excluded.expires_at`,
    findJti: `SELECT 1 FROM ${db.t('revoked_jtis')} WHERE jti = $1 AND expires_at > $2`,
  };
  return {
    async saveAccessToken(hash, claims, expiresAt) {
      await db.count(sql.save, [hash, claims, expiresAt]);
    },
    async findAccessToken(hash, now) {
      const [row] = await db.rows<{ claims: string }>(sql.find, [hash, now]);
      return row?.claims ?? null;
    },
    async revokeJti(jti, expiresAt) {
      await db.transaction(async (q) => {
        await q.query(sql.insertJti, [jti, expiresAt]);
        await publishNotice(db, q, 'jti', jti, expiresAt);
      });
    },
    async isJtiRevoked(jti, now) {
      return (await db.count(sql.findJti, [jti, now])) > 0;
    },
  };
}
