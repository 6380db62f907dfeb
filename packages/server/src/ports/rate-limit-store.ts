/** A counter of one fixed window: how many hits so far, and when (ms) the window ends. */
export interface RateLimitCount {
  count: number;
  resetAt: number;
}

/**
 * Counters for rate limits and lockouts: per-IP request limits, failed client authentications,
 * failed logins per username. A window starts at a key's first hit and lasts `windowMs`; the
 * next hit after it starts a new one. Adapters shared by several instances (Redis: `SET key 0 PX
 * windowMs NX`, `INCR`, `PTTL`) make `hit` atomic, so every instance counts against one budget.
 * An unreachable store throws (`StoreUnavailableError`): a security limit fails closed.
 */
export interface RateLimitStore {
  /** Counts one hit against `key` and returns the window's count including it. */
  hit(key: string, windowMs: number, now: number): Promise<RateLimitCount>;
  /** The window's count without adding to it; `undefined` when the key has no open window. */
  peek(key: string, now: number): Promise<RateLimitCount | undefined>;
  /** Ends the key's window (a successful sign-in forgets the username's failures). */
  reset(key: string): Promise<void>;
}
