/**
 * Access-token state: opaque (reference) access tokens, and revoked access-token ids (`jti`).
 * The opaque token format, introspection and RFC 7009 revocation use it.
 *
 * What an adapter guarantees: values are keyed by hashes only; an entry is never answered after
 * its `expiresAt` (ms); a write is acknowledged only once it is durable.
 */
export interface AccessTokenStore {
  /** Stores an opaque access token's claims (JSON) under the token's hash until `expiresAt`. */
  saveAccessToken(hash: string, claims: string, expiresAt: number): Promise<void>;
  /** The claims JSON of an unexpired opaque access token, or null. */
  findAccessToken(hash: string, now: number): Promise<string | null>;
  /**
   * Records a revoked access-token id until `expiresAt`, and publishes a notice on the revocation
   * feed, in one transaction.
   */
  revokeJti(jti: string, expiresAt: number): Promise<void>;
  isJtiRevoked(jti: string, now: number): Promise<boolean>;
}
