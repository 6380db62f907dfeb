/**
 * Every default of the resource-server middleware, once, each with the reason for its value.
 * `option` names the `ResourceServerOptions` field that overrides it; the others are internal
 * limits. `createResourceServer` resolves its options against `DEFAULTS` once, at creation. The
 * package README's defaults table is generated from this one (`npm run docs:config`) and a test
 * fails when it differs.
 */
export const DEFAULT_TABLE = {
  algorithms: {
    value: ['ES256', 'EdDSA', 'RS256'] as readonly string[],
    option: 'algorithms',
    doc: 'RFC 9068 recommends asymmetric algorithms only; `none` and HS* can never be enabled.',
  },
  clockTolerance: {
    value: 5,
    option: 'clockTolerance',
    unit: 's',
    doc: 'Leeway for `exp`, `nbf` and a future `iat`: small clock skew, not a grace period.',
  },
  maxTokenBytes: {
    value: 8 * 1024,
    option: 'maxTokenBytes',
    unit: 'bytes',
    doc: 'Tokens larger than this are refused before any decoding (jose happily parses megabytes).',
  },
  requiredClaims: {
    value: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id'] as readonly string[],
    option: 'requiredClaims',
    doc: 'RFC 9068 §2.2 claims plus `client_id`; the option adds to these, never removes.',
  },
  verifiedCacheSize: {
    value: 10_000,
    option: 'cacheSize',
    unit: 'entries',
    doc: "Verified JWTs kept in memory (LRU, `0` turns it off); each entry also expires at the token's `exp`.",
  },
  jwksCooldownMs: {
    value: 30_000,
    option: 'jwksCooldownMs',
    unit: 'ms',
    doc: 'Minimum time between two JWKS fetches triggered by an unknown `kid` (no fetch storm).',
  },
  introspectionCacheTtlMs: {
    value: 60_000,
    option: 'introspectionCacheTtlMs',
    unit: 'ms',
    doc: 'An active introspection answer is reused at most this long (and never past `exp`).',
  },
  reconnectInitialMs: {
    value: 500,
    option: 'reconnectInitialMs',
    unit: 'ms',
    doc: 'First reconnect delay of the revocation feed; doubles per failed attempt, with equal jitter.',
  },
  reconnectMaxMs: {
    value: 30_000,
    option: 'reconnectMaxMs',
    unit: 'ms',
    doc: 'Upper bound of the reconnect delay: a restarted issuer is found again within half a minute.',
  },
  feedIdleTimeoutMs: {
    value: 90_000,
    option: 'feedIdleTimeoutMs',
    unit: 'ms',
    doc: 'Reopen a revocation stream silent this long (`0`: never); a half-open TCP connection says nothing.',
  },
  dpopProofWindow: {
    value: 60,
    option: 'dpopProofWindow',
    unit: 's',
    doc: "A DPoP proof's `iat` may be this far from now either way; its `jti` is remembered as long.",
  },
  dpopReplayCacheSize: {
    value: 100_000,
    option: 'dpopReplayCacheSize',
    unit: 'entries',
    doc: 'DPoP proof `jti`s remembered per resource server, each until its window ends (SHA-256 keys, about 100 B each): 1,600 proofs/s for 60 s. When full of live entries, new proofs get a retryable 503 rather than an older one being forgotten.',
  },
  dpopNoncePeriodMs: {
    value: 5 * 60_000,
    option: 'dpopNoncePeriodMs',
    unit: 'ms',
    doc: 'With `dpopNonceSecret`, the nonce changes this often; the previous one is still accepted.',
  },
  maxDpopProofBytes: {
    value: 8 * 1024,
    unit: 'bytes',
    doc: 'A `DPoP` header longer than this is refused before any parsing.',
  },
  maxDpopJtiLength: {
    value: 256,
    unit: 'characters',
    doc: 'Longest DPoP proof `jti` accepted, so proofs cannot fill the replay cache with large keys.',
  },
  maxJsonDepth: {
    value: 16,
    doc: 'Nesting depth of the JWT header and claims; real tokens are two or three levels deep.',
  },
  introspectionCacheSize: {
    value: 10_000,
    unit: 'entries',
    doc: 'Introspection answers kept in memory (LRU).',
  },
  introspectionNegativeTtlMs: {
    value: 10_000,
    unit: 'ms',
    doc: 'An inactive answer is remembered briefly, so a flood of one bad token costs one call.',
  },
  jwksMaxAgeMs: {
    value: 10 * 60_000,
    unit: 'ms',
    doc: 'A JWKS older than this is refetched on next use, so retired keys drop out.',
  },
  retryAfterFailureMs: {
    value: 5_000,
    unit: 'ms',
    doc: "After a failed metadata or JWKS fetch, wait this long before trying again (also the 503's `Retry-After`).",
  },
  httpTimeoutMs: {
    value: 5_000,
    unit: 'ms',
    doc: 'Timeout of each HTTP call to the authorization server.',
  },
  maxResponseBytes: {
    value: 512 * 1024,
    unit: 'bytes',
    doc: 'Largest metadata, JWKS or introspection answer read into memory.',
  },
  maxSnapshotBytes: {
    value: 16 * 1024 * 1024,
    unit: 'bytes',
    doc: 'Largest revocation snapshot read into memory.',
  },
  maxSseLineBytes: {
    value: 64 * 1024,
    unit: 'bytes',
    doc: 'Longest SSE line accepted; a notice is about 150 bytes.',
  },
  revocationPruneIntervalMs: {
    value: 60_000,
    unit: 'ms',
    doc: 'Expired revocation notices are dropped at most this often, amortised over new ones.',
  },
  maxDescriptionLength: {
    value: 200,
    unit: 'characters',
    doc: 'Longest `error_description` put in a `WWW-Authenticate` challenge.',
  },
} as const satisfies Record<string, { value: unknown; option?: string; unit?: string; doc: string }>;

type Table = typeof DEFAULT_TABLE;

/** The defaults' values: `DEFAULTS.clockTolerance`. */
export const DEFAULTS = Object.freeze(
  Object.fromEntries(Object.entries(DEFAULT_TABLE).map(([k, v]) => [k, v.value])),
) as {
  readonly [K in keyof Table]: Table[K]['value'] extends number ? number : Table[K]['value'];
};
