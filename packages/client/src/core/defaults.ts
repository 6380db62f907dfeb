/**
 * Every default of the client SDK, once (STYLE: one defaults file). Times in milliseconds.
 */
export const DEFAULTS = {
  /** The longest lead before expiry at which a proactive refresh starts (SPEC §6: 5 minutes for long tokens). */
  maxLeadMs: 5 * 60_000,
  /** The lead as a share of the token's lifetime, so a 30 s token refreshes every ~24 s, not on every call. */
  leadShare: 0.2,
  /** Up to this share of the lead is added at random, so many clients do not refresh in lockstep. */
  leadJitter: 0.25,
  /** A token this close to expiry (capped at 10% of its lifetime) is not handed out: it would expire in transit. */
  expirySkewMs: 5_000,
  /** Attempts per refresh before giving up for now (the retry budget); transient errors only. */
  retryAttempts: 4,
  /** First backoff delay; doubles per consecutive failure, with equal jitter. */
  retryBaseMs: 1_000,
  /** The backoff never grows beyond this, so a recovered server is found within a minute. */
  retryMaxMs: 60_000,
  /** A `Retry-After` above this is capped: a misconfigured server must not park a client for days. */
  retryAfterMaxMs: 60 * 60_000,
  /** A token request that hangs longer than this is aborted and counts as a transient failure. */
  requestTimeoutMs: 30_000,
  /** Lifetime assumed when a server omits `expires_in` (RFC 6749 makes it optional); short on purpose. */
  assumedLifetimeS: 300,
} as const;
