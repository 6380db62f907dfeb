export interface CleanupInput {
  now: number;
  /** Sealed grace responses of tokens rotated before this time are erased. */
  graceHorizon: number;
}

export interface CleanupResult {
  tokensDeleted: number;
  familiesDeleted: number;
  familiesExpired: number;
}

/**
 * Removing what has expired, run on a schedule by the `cleanup` operation. An adapter whose
 * backend expires entries by itself (TTLs) still marks lapsed families expired here.
 */
export interface CleanupStore {
  /**
   * Marks lapsed families expired (`idle_expired`, `absolute_expired`), deletes expired token,
   * access-token, revoked-`jti`, notice and replay rows, and erases grace responses sealed before
   * `graceHorizon`. A family row is deleted only at its absolute expiry: until then it is the
   * tombstone that still catches a replayed token whose row was pruned.
   */
  sweep(input: CleanupInput): Promise<CleanupResult>;
}
