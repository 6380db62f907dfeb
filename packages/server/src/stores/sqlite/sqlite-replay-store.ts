import type Database from 'better-sqlite3';
import type { ReplayStore } from '../../ports/index.js';

/** Single-use keys in the `replay` table; an expired key may be recorded again. */
export function sqliteReplayStore(db: Database.Database): ReplayStore {
  // One statement, so atomic: the row is inserted, or an expired one renewed, or nothing changes.
  const insert = db.prepare(`INSERT INTO replay (key, expires_at) VALUES (@key, @expiresAt)
    ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE replay.expires_at <= @now`);
  return {
    async insertIfAbsent(key, expiresAt, now) {
      return insert.run({ key, expiresAt, now }).changes === 1;
    },
  };
}
