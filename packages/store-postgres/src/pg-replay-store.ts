import type { ReplayStore } from '@tessera/server';
import type { Database } from './database.js';

/**
 * Single-use keys in the `replay` table, for a deployment without Redis; an expired key may be
 * recorded again. One statement, so atomic across instances: of concurrent inserts of one key,
 * one inserts and the others wait for it and then find the key recorded. Never retried on a lost
 * connection (a retry of an insert that did commit would refuse the request that made it).
 */
export function pgReplayStore(db: Database): ReplayStore {
  const insert = `INSERT INTO ${db.t('replay')} AS r (key, expires_at) VALUES ($1, $2)
    ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE r.expires_at <= $3`;
  return {
    async insertIfAbsent(key, expiresAt, now) {
      return (await db.count(insert, [key, expiresAt, now])) === 1;
    },
  };
}
