/**
 * Every default of the vault, once. Times in milliseconds. Documented in the package README.
 */
export const DEFAULTS = {
  /** The longest lead before expiry at which a refresh starts (the SDK's rule: 5 minutes for long tokens). */
  maxLeadMs: 5 * 60_000,
  /** The lead as a share of the token's lifetime, so short tokens do not refresh on every call. */
  leadShare: 0.2,
  /** Up to this share of the lead is added at random, so many connections do not refresh in lockstep. */
  leadJitter: 0.25,
  /** A token this close to expiry (capped at 10% of its lifetime) is never handed out: it would expire in transit. */
  expirySkewMs: 5_000,
  /** Lifetime assumed when the upstream omits `expires_in` (RFC 6749 makes it optional); short on purpose. */
  assumedLifetimeS: 300,
  /** How long a refresh lease holds; longer than two upstream requests, so a live holder always finishes first. */
  leaseMs: 30_000,
  /** Timeout of one upstream request; a refresh makes at most two (the second after a lost response). */
  requestTimeoutMs: 10_000,
  /** First poll of a caller waiting for another process's refresh; grows to `pollMaxMs`. */
  pollMinMs: 10,
  pollMaxMs: 200,
  /** First backoff delay after a transient refresh failure; doubles per failure, with equal jitter. */
  retryBaseMs: 1_000,
  /** The backoff never grows beyond this, so a recovered upstream is found within a minute. */
  retryMaxMs: 60_000,
  /** A `Retry-After` above this is capped: a misconfigured upstream must not park a connection for days. */
  retryAfterMaxMs: 60 * 60_000,
  /** A sign-in must finish within this time after `startSignIn`. */
  signInTtlMs: 10 * 60_000,
  /** Tombstones (`needs_reauthorization`, `revoked`) are kept this long for `status()`, then `cleanup()` drops them. */
  tombstoneTtlMs: 30 * 24 * 60 * 60_000,
  /** A connection with no refresh-token expiry is purged by `cleanup()` this long after its last refresh. */
  idlePurgeMs: 90 * 24 * 60 * 60_000,
  /** How often `cleanup()` runs on its own (0 turns it off); deleting is idempotent, so every instance may run it. */
  cleanupIntervalMs: 60 * 60_000,
  /** The connection name used when none is given. */
  connection: 'default',
  /** Rows re-encrypted per transaction by `rekey()`. */
  rekeyBatch: 100,
  /** Largest token value accepted by `save` (bytes); an upstream that answers more is refused, not stored. */
  maxValueBytes: 64 * 1024,
} as const;

/** The environment variables the vault reads, declared once (the CLI's help names them from here). */
export const VAULT_ENV = {
  /** The keys object as JSON: `{"current":"k1","k1":"<base64 32 bytes>"}`. */
  keys: 'TESSERA_VAULT_KEYS',
  /** A file holding that JSON. */
  keysFile: 'TESSERA_VAULT_KEYS_FILE',
} as const;
