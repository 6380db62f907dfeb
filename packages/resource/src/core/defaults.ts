/**
 * Every default of the resource-server middleware, once, each with the reason for its value.
 * Options are resolved against this object at start (see `resolve-options.ts`).
 */
export const DEFAULTS = {
  /** RFC 9068 recommends asymmetric algorithms only; `none` and HS* can never be enabled. */
  algorithms: ['ES256', 'EdDSA', 'RS256'] as readonly string[],
  /** Seconds of leeway for `exp`, `nbf` and a future `iat`: small clock skew, not a grace period. */
  clockTolerance: 5,
  /** Tokens larger than this are refused before any decoding (jose happily parses megabytes). */
  maxTokenBytes: 8 * 1024,
  /** Nesting depth of the JWT header and claims; real tokens are two or three levels deep. */
  maxJsonDepth: 16,
  /** RFC 9068 §2.2 claims plus `client_id`; `requiredClaims` adds to these, never removes. */
  requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id'] as readonly string[],
  /** Verified JWTs kept in memory (LRU); each entry also expires at the token's `exp`. */
  verifiedCacheSize: 10_000,
  /** Introspection answers kept in memory (LRU). */
  introspectionCacheSize: 10_000,
  /** An active introspection answer is reused at most this long (and never past `exp`). */
  introspectionCacheTtlMs: 60_000,
  /** An inactive answer is remembered briefly, so a flood of one bad token costs one call. */
  introspectionNegativeTtlMs: 10_000,
  /** Minimum time between two JWKS fetches triggered by an unknown `kid` (no fetch storm). */
  jwksCooldownMs: 30_000,
  /** A JWKS older than this is refetched on next use, so retired keys drop out. */
  jwksMaxAgeMs: 10 * 60_000,
  /** After a failed metadata or JWKS fetch, wait this long before trying again. */
  retryAfterFailureMs: 5_000,
  /** Timeout of each HTTP call to the authorization server. */
  httpTimeoutMs: 5_000,
  /** Largest metadata, JWKS or introspection answer read into memory. */
  maxResponseBytes: 512 * 1024,
  /** First reconnect delay of the revocation feed; doubles per failed attempt. */
  reconnectInitialMs: 500,
  /** Upper bound of the reconnect delay. */
  reconnectMaxMs: 30_000,
  /** Reopen a revocation stream silent for this long (a half-open TCP connection says nothing). */
  feedIdleTimeoutMs: 90_000,
  /** Largest revocation snapshot read into memory. */
  maxSnapshotBytes: 16 * 1024 * 1024,
  /** Longest SSE line accepted; a notice is about 150 bytes. */
  maxSseLineBytes: 64 * 1024,
} as const;
