import type Database from 'better-sqlite3';
import { LIMITS } from '../../config/limits.js';
import type { RevocationFeedStore, RevocationRecord } from '../../ports/index.js';
import { type RevocationRow, toRevocation } from './rows.js';

/** Publishes one notice; called inside the transaction that revokes (sessions, access tokens). */
export type PublishNotice = (kind: RevocationRecord['kind'], value: string, expiresAt: number) => void;

export function prepareNoticeInsert(db: Database.Database): PublishNotice {
  const insert = db.prepare('INSERT INTO revocations (kind, value, expires_at) VALUES (?, ?, ?)');
  return (kind, value, expiresAt) => {
    insert.run(kind, value, expiresAt);
  };
}

/** The revocation feed in the `revocations` table; `seq` is its AUTOINCREMENT key. */
export function sqliteRevocationFeedStore(db: Database.Database): RevocationFeedStore {
  const list = db.prepare('SELECT * FROM revocations WHERE seq > ? AND expires_at > ? ORDER BY seq LIMIT ?');
  return {
    async listRevocations(afterSeq, now, limit = LIMITS.revocationPollBatch) {
      return (list.all(afterSeq, now, limit) as RevocationRow[]).map(toRevocation);
    },
  };
}
