import type { EventInput, RevocationRecord } from '@tessera/server';
import type { Database, Queryable } from './database.js';
import { eventRows } from './rows.js';

/** Appends events inside the caller's transaction (one statement for any number). */
export async function insertEvents(db: Database, q: Queryable, events: readonly EventInput[]): Promise<void> {
  if (events.length === 0) return;
  await q.query(
    `INSERT INTO ${db.t('events')} (at, type, family_id, user_id, client_id, reason, data)
     SELECT e.at, e.type, e.family_id, e.user_id, e.client_id, e.reason, e.data
     FROM jsonb_to_recordset($1::jsonb) AS e(at bigint, type text, family_id text, user_id text,
       client_id text, reason text, data text)`,
    [eventRows(events)],
  );
}

/**
 * Publishes a revocation notice inside the caller's transaction. The notice's `seq` is taken
 * under a transaction-scoped advisory lock (one per schema), held until that transaction ends:
 * the next notice's `seq` is taken only once this one has committed (or rolled back), so notices
 * become visible in `seq` order and a feed reader resuming after a `seq` never skips one that
 * commits later. Revocations are rare next to rotations, which never take this lock.
 */
export async function publishNotice(
  db: Database,
  q: Queryable,
  kind: RevocationRecord['kind'],
  value: string,
  expiresAt: number,
): Promise<void> {
  await q.query('SELECT pg_advisory_xact_lock(hashtext($1))', [db.feedLock]);
  await q.query(`INSERT INTO ${db.t('revocations')} (kind, value, expires_at) VALUES ($1, $2, $3)`, [
    kind,
    value,
    expiresAt,
  ]);
}
