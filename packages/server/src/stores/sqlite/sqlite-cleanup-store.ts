import type Database from 'better-sqlite3';
import type { CleanupInput, CleanupResult, CleanupStore } from '../../ports/index.js';
import type { EventIndex } from './sqlite-event-index.js';

/** Cleanup of every table, in one `BEGIN IMMEDIATE` transaction. */
export function sqliteCleanupStore(db: Database.Database, eventIndex: EventIndex): CleanupStore {
  const s = {
    // A family whose current token lapsed, or whose absolute lifetime ended, is over; its row stays
    // as the tombstone until the absolute expiry, so replayed pruned tokens are still caught.
    expireIdle: db
      .prepare(`UPDATE families SET status = 'expired', ended_at = @now, end_reason = 'idle_expired'
      WHERE status = 'active' AND expires_at > @now AND token_expires_at <= @now RETURNING id`)
      .pluck(),
    expireAbsolute: db.prepare(`UPDATE families SET status = 'expired', ended_at = @now,
      end_reason = 'absolute_expired' WHERE status = 'active' AND expires_at <= @now`),
    // Expired tokens go from the lineage (by its expiry index) and, for a family's current one,
    // from its row.
    deleteTokens: db.prepare('DELETE FROM lineage WHERE expires_at <= ?'),
    forgetCurrent: db.prepare(`UPDATE families SET token_hash = NULL, token_parent_hash = NULL,
      token_issued_at = NULL, token_expires_at = NULL WHERE token_expires_at <= ?`),
    // A family's sealed answer is as old as its last rotation. Erased with zeros of its length, so
    // the row keeps the room the next rotation's answer takes (no growth, no page split).
    eraseGrace:
      db.prepare(`UPDATE families SET grace_parent_hash = NULL, grace_box = zeroblob(length(grace_box))
      WHERE grace_parent_hash IS NOT NULL AND last_refresh_at < ?`),
    deleteFamilies: db.prepare('DELETE FROM families WHERE expires_at <= ?'),
    deleteJtis: db.prepare('DELETE FROM revoked_jtis WHERE expires_at <= ?'),
    deleteAccessTokens: db.prepare('DELETE FROM access_tokens WHERE expires_at <= ?'),
    deleteNotices: db.prepare('DELETE FROM revocations WHERE expires_at <= ?'),
    deleteReplay: db.prepare('DELETE FROM replay WHERE expires_at <= ?'),
  };
  const sweep = db.transaction(({ now, graceHorizon }: CleanupInput): CleanupResult => {
    const idle = s.expireIdle.all({ now }) as string[];
    const absolute = s.expireAbsolute.run({ now }).changes;
    // An ended family's event chain goes into the index (reads by user walk active families only);
    // those past their absolute expiry are deleted below, and `flushDeleted` copies theirs.
    for (const id of idle) eventIndex.flushEnded(id);
    const tokens = s.deleteTokens.run(now).changes;
    s.forgetCurrent.run(now);
    s.eraseGrace.run(graceHorizon);
    // A deleted family takes its event chain's head with it: its chain goes into the indexes first.
    eventIndex.flushDeleted(now);
    const families = s.deleteFamilies.run(now).changes;
    s.deleteJtis.run(now);
    s.deleteAccessTokens.run(now);
    s.deleteNotices.run(now);
    s.deleteReplay.run(now);
    return {
      tokensDeleted: tokens,
      familiesDeleted: families,
      familiesExpired: idle.length + absolute,
    };
  });
  return {
    async sweep(input) {
      return sweep.immediate(input);
    },
  };
}
