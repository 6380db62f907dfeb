/** Notice of a revoked family or access token, for the revocation feed. */
export interface RevocationRecord {
  /** Ascending; a reader resumes after the last one it saw. */
  seq: number;
  kind: 'family' | 'jti';
  value: string;
  /** Milliseconds; after this, every token the notice concerns has expired. */
  expiresAt: number;
}

/**
 * The revocation feed that resource servers follow (`GET /oauth/revocations`). Notices are
 * written by `SessionStore.revokeFamily(ies)` and `AccessTokenStore.revokeJti`, each in the
 * transaction that revokes; this port only reads them.
 *
 * What an adapter guarantees: `seq` only grows, and a notice committed before another has the
 * smaller `seq`, so a reader that resumes after the last `seq` it saw misses none.
 */
export interface RevocationFeedStore {
  /** Unexpired notices after `afterSeq`, oldest first, at most `limit` (default 1000). */
  listRevocations(afterSeq: number, now: number, limit?: number): Promise<RevocationRecord[]>;
}
