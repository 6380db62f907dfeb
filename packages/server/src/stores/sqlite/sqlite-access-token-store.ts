import type Database from 'better-sqlite3';
import type { AccessTokenStore } from '../../ports/index.js';
import type { PublishNotice } from './sqlite-revocation-feed-store.js';
import type { WriteQueue } from './write-queue.js';

/** Opaque access tokens (`access_tokens`) and revoked access-token ids (`revoked_jtis`). */
export function sqliteAccessTokenStore(
  db: Database.Database,
  queue: WriteQueue,
  publish: PublishNotice,
): AccessTokenStore {
  const s = {
    save: db.prepare('INSERT INTO access_tokens (hash, claims, expires_at) VALUES (?, ?, ?)'),
    find: db.prepare('SELECT claims FROM access_tokens WHERE hash = ? AND expires_at > ?'),
    insertJti: db.prepare(
      'INSERT INTO revoked_jtis (jti, expires_at) VALUES (?, ?) ON CONFLICT (jti) DO UPDATE SET expires_at = excluded.expires_at',
    ),
    findJti: db.prepare('SELECT 1 FROM revoked_jtis WHERE jti = ? AND expires_at > ?'),
  };
  const revokeJti = db.transaction((jti: string, expiresAt: number) => {
    s.insertJti.run(jti, expiresAt);
    publish('jti', jti, expiresAt);
  });
  return {
    // Joins the group commit: one opaque token no longer costs a commit of its own.
    async saveAccessToken(hash, claims, expiresAt) {
      await queue.enqueue(() => {
        s.save.run(hash, claims, expiresAt);
      });
    },
    async findAccessToken(hash, now) {
      const row = s.find.get(hash, now) as { claims: string } | undefined;
      return row?.claims ?? null;
    },
    async revokeJti(jti, expiresAt) {
      revokeJti.immediate(jti, expiresAt);
    },
    async isJtiRevoked(jti, now) {
      return s.findJti.get(jti, now) !== undefined;
    },
  };
}
