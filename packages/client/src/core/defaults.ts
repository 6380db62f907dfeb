/**
 * Every default of the client SDK, once, each with its reason. Times in milliseconds. Plain
 * constants rather than one object, so a bundler inlines them and the core stays small.
 */

/** The longest lead before expiry at which a proactive refresh starts: 5 minutes for long tokens. */
export const MAX_LEAD_MS = 5 * 60_000;
/** The lead as a share of the token's lifetime, so a 30 s token refreshes every ~24 s, not on every call. */
export const LEAD_SHARE = 0.2;
/** Up to this share of the lead is added at random, so many clients do not refresh in lockstep. */
export const LEAD_JITTER = 0.25;
/** A token this close to expiry (capped at 10% of its lifetime) is not handed out: it would expire in transit. */
export const EXPIRY_SKEW_MS = 5_000;
/** Attempts per refresh before giving up for now (the retry budget); transient errors only. */
export const RETRY_ATTEMPTS = 4;
/** First backoff delay; doubles per consecutive failure, with equal jitter. */
export const RETRY_BASE_MS = 1_000;
/** The backoff never grows beyond this, so a recovered server is found within a minute. */
export const RETRY_MAX_MS = 60_000;
/** A `Retry-After` above this is capped: a misconfigured server must not park a client for days. */
export const RETRY_AFTER_MAX_MS = 60 * 60_000;
/**
 * A token request (its answer included) that takes longer is aborted: the network is treated as
 * unreachable and the refresh probes again with backoff. Callers never wait this long (below).
 */
export const REQUEST_TIMEOUT_MS = 10_000;
/**
 * The longest a caller of `getAccessToken()` or `refresh()` waits for a refresh: then it gets the
 * cached token (state `offline`) or the server's transient error, and the refresh goes on in the
 * background. Offline, callers start at most one probe per this interval.
 */
export const OFFLINE_AFTER_MS = 3_000;
/** Lifetime assumed when a server omits `expires_in` (RFC 6749 makes it optional); short on purpose. */
export const ASSUMED_LIFETIME_S = 300;
