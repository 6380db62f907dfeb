/**
 * Every default of the authorization server, once (STYLE: node-oidc-provider's defaults file).
 * Durations are in seconds. Per-client settings (`ClientRecord`) override the lifetimes here.
 */
export const DEFAULTS = {
  /** Interface to listen on; loopback unless an operator opens it up. */
  host: '127.0.0.1',
  /** TCP port of the HTTP server. */
  port: 4000,
  /** SQLite database file (the embedded default store). */
  db: './tessera.db',
  /** Issuer URL; `undefined` derives `http://{host}:{port}`. */
  issuer: undefined as string | undefined,
  /** `aud` of access tokens; `undefined` uses the issuer. */
  audience: undefined as string | undefined,
  /** Access-token lifetime (SPEC §3.1: 15 minutes). */
  accessTokenTtl: 15 * 60,
  /** How long the immediate parent of a rotated refresh token still returns the same child (SPEC §3.3 rule 3). */
  refreshGracePeriod: 5 * 60,
  /** Idle lifetime of a refresh token, renewed by each rotation (SPEC §3.1). */
  refreshIdleTtl: 14 * 24 * 3600,
  /** Absolute lifetime of a session (token family), never renewed. */
  refreshAbsoluteTtl: 30 * 24 * 3600,
  /** Format of access tokens for clients that do not choose one: `jwt`, `opaque`, `paseto` or a registered custom format. */
  accessTokenFormat: 'jwt',
  /** Signature algorithm of new signing keys. */
  signingAlg: 'ES256' as SigningAlg,
  /** Rotate the signing key on this schedule; 0 turns scheduled rotation off (rotate by CLI or API). */
  keyRotationInterval: 90 * 24 * 3600,
  /** How often a running server re-reads the key ring, so a `tessera keys rotate` from another process is picked up. */
  keyRingRefreshInterval: 30,
  /** Login requests per minute per IP; 0 turns the limit off. */
  rateLimitLogin: 30,
  /** Refresh requests per minute per IP; 0 turns it off. Coalesced and grace-period retries are not counted. */
  rateLimitRefresh: 600,
  /** Failed logins per username in `loginLockoutWindow` before further attempts are refused. */
  loginFailuresPerUser: 10,
  /** Window of the per-username failed-login limit. */
  loginLockoutWindow: 15 * 60,
  /** Largest request body accepted by any endpoint, in bytes (SPEC §2: 64 KiB). */
  bodyLimit: 64 * 1024,
  /** How long concurrent refreshes of one token wait for the rotation in flight before `rotation_in_progress`. */
  coalesceTimeout: 10,
  /** How long a refresh `nonce` is remembered for replay detection. */
  nonceTtl: 24 * 3600,
  /** How often the revocation feed looks for new notices (also those written by other instances). */
  revocationFeedPoll: 1,
  /** Keep-alive comment interval on the revocation feed, well under the middleware's 90 s silence limit. */
  revocationFeedKeepalive: 25,
  /** How long client and user records are cached in memory; changes made by another process show within this time. */
  directoryCacheTtl: 5,
  /** How often expired rows are cleaned up; 0 turns the schedule off (run `tessera cleanup`). */
  cleanupInterval: 3600,
  /** SQLite `synchronous`: NORMAL survives a process crash in WAL mode; FULL also survives power loss. */
  sqliteSynchronous: 'NORMAL' as 'NORMAL' | 'FULL',
  /** SQLite page cache per connection, MiB (filled only as pages are read). */
  sqliteCacheMiB: 64,
  /** scrypt cost for password hashes: OWASP's minimum (N=2^17, r=8, p=1). Stored with each hash. */
  passwordHashCost: 17,
  /** pino log level. */
  logLevel: 'info' as LogLevel,
  /** Trust `X-Forwarded-For` from a proxy in front (affects per-IP rate limits). */
  trustProxy: false,
  /** Default client for `POST /api/auth/login` requests that omit `client_id`; `undefined` requires it. */
  loginDefaultClientId: undefined as string | undefined,
} as const;

export type SigningAlg = 'ES256' | 'EdDSA' | 'RS256';
export const SIGNING_ALGS: readonly SigningAlg[] = ['ES256', 'EdDSA', 'RS256'];
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
