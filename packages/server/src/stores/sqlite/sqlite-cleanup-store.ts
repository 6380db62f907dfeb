import type Database from 'better-sqlite3';
import type { CleanupInput, CleanupResult, CleanupStore } from '../../ports/index.js';

/** Cleanup of every table, in one `BEGIN IMMEDIATE` transaction. */
export function sqliteCleanupStore(db: Database.Database): CleanupStore {
  const s = {
    // A family whose current token lapsed, or whose absolute lifetime ended, is over; its row stays
    // as the tombstone until the absolute expiry, so replayed pruned tokens are still caught.
    expireIdle:
      db.prepare(`UPDATE families SET status = 'expired', ended_at = @now, end_reason = 'idle_expired'
      WHERE status = 'active' AND expires_at > @now AND EXISTS (SELECT 1 FROM refresh_tokens t
        WHERE t.family_id = families.id AND t.generation = families.generation AND t.expires_at <= @now)`),
    expireAbsolute: db.prepare(`UPDATE families SET status = 'expired', ended_at = @now,
      end_reason = 'absolute_expired' WHERE status = 'active' AND expires_at <= @now`),
    deleteTokens: db.prepare('DELETE FROM refresh_tokens WHERE expires_at <= ?'),
    // A family's sealed answer is as old as its last rotation.
    eraseGrace: db.prepare(`UPDATE families SET grace_parent_hash = NULL, grace_box = NULL
      WHERE grace_box IS NOT NULL AND last_refresh_at < ?`),
    deleteFamilies: db.prepare('DELETE FROM families WHERE expires_at <= ?'),
    deleteJtis: db.prepare('DELETE FROM revoked_jtis WHERE expires_at <= ?'),
    deleteAccessTokens: db.prepare('DELETE FROM access_tokens WHERE expires_at <= ?'),
    deleteNotices: db.prepare('DELETE FROM revocations WHERE expires_at <= ?'),
    deleteReplay: db.prepare('DELETE FROM replay WHERE expires_at <= ?'),
  };
  const sweep = db.transaction(({ now, graceHorizon }: CleanupInput): CleanupResult => {
    const idle = s.expireIdle.run({ now }).changes;
    const absolute = s.expireAbsolute.run({ now }).changes;
    const tokens = s.deleteTokens.run(now).changes;
    s.eraseGrace.run(graceHorizon);
    const families = s.deleteFamilies.run(now).changes;
    s.deleteJtis.run(now);
    s.deleteAccessTokens.run(now);
    s.deleteNotices.run(now);
    s.deleteReplay.run(now);
    return { tokensDeleted: tokens, familiesDeleted: families, familiesExpired: idle + absolute };
  });
  return {
    async sweep(input) {
      return sweep.immediate(input);
    },
  };
}
