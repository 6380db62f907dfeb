import type { CleanupResult, CleanupStore } from '@tessera/server';
import type { Database } from './database.js';

/**
 * Cleanup of every table, in one transaction. A family row stays (the tombstone that catches a
 * replayed pruned token) until its absolute expiry.
 */
export function pgCleanupStore(db: Database): CleanupStore {
  const f = db.t('families');
  const t = db.t('refresh_tokens');
  const sql = {
    // A family whose current token lapsed, or whose absolute lifetime ended, is over.
    expireIdle: `UPDATE ${f} SET status = 'expired', ended_at = $1, end_reason = 'idle_expired'
      WHERE status = 'active' AND expires_at > $1 AND EXISTS (SELECT 1 FROM ${t} rt
        WHERE rt.family_id = ${f}.id AND rt.generation = ${f}.generation AND rt.expires_at <= $1)`,
    expireAbsolute: `UPDATE ${f} SET status = 'expired', ended_at = $1, end_reason = 'absolute_expired'
      WHERE status = 'active' AND expires_at <= $1`,
    deleteTokens: `DELETE FROM ${t} WHERE expires_at <= $1`,
    // A family's sealed answer is as old as its last rotation.
    eraseGrace: `UPDATE ${f} SET grace_parent_hash = NULL, grace_box = NULL
      WHERE grace_box IS NOT NULL AND last_refresh_at < $1`,
    deleteFamilies: `DELETE FROM ${f} WHERE expires_at <= $1`,
    deleteJtis: `DELETE FROM ${db.t('revoked_jtis')} WHERE expires_at <= $1`,
    deleteAccessTokens: `DELETE FROM ${db.t('access_tokens')} WHERE expires_at <= $1`,
    deleteNotices: `DELETE FROM ${db.t('revocations')} WHERE expires_at <= $1`,
    deleteReplay: `DELETE FROM ${db.t('replay')} WHERE expires_at <= $1`,
  };
  return {
    async sweep({ now, graceHorizon }): Promise<CleanupResult> {
      return db.transaction(async (q) => {
        const changed = async (text: string, value: number) => (await q.query(text, [value])).rowCount ?? 0;
        const idle = await changed(sql.expireIdle, now);
        const absolute = await changed(sql.expireAbsolute, now);
        const tokens = await changed(sql.deleteTokens, now);
        await changed(sql.eraseGrace, graceHorizon);
        const families = await changed(sql.deleteFamilies, now);
        await changed(sql.deleteJtis, now);
        await changed(sql.deleteAccessTokens, now);
        await changed(sql.deleteNotices, now);
        await changed(sql.deleteReplay, now);
        return { tokensDeleted: tokens, familiesDeleted: families, familiesExpired: idle + absolute };
      });
    },
  };
}
