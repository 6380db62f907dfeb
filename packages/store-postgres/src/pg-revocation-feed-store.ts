import { LIMITS, type RevocationFeedStore } from '@tessera/server';
import type { Database } from './database.js';
import { type RevocationRow, toRevocation } from './rows.js';

/** The revocation feed in the `revocations` table; `seq` commits in order (see `publishNotice`). */
export function pgRevocationFeedStore(db: Database): RevocationFeedStore {
  const list = `SELECT seq, kind, value, expires_at FROM ${db.t('revocations')}
    WHERE seq > $1 AND expires_at > $2 ORDER BY seq LIMIT $3`;
  return {
    async listRevocations(afterSeq, now, limit = LIMITS.revocationPollBatch) {
      return (await db.rows<RevocationRow>(list, [afterSeq, now, limit])).map(toRevocation);
    },
  };
}
