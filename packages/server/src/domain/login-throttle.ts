import type { RateLimitStore } from '../ports/index.js';

/**
 * Failed logins per username: after `limit` failures in the window, further attempts are
 * refused with `rate_limited` without checking the password. The counters live in the rate-limit
 * store, so instances that share it share the lockout.
 */
export class LoginThrottle {
  constructor(
    private readonly store: RateLimitStore,
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Seconds to wait, or 0 when the username may try now. */
  async retryAfter(username: string, now: number): Promise<number> {
    if (this.limit === 0) return 0;
    const window = await this.store.peek(key(username), now);
    if (window === undefined || window.count < this.limit) return 0;
    return Math.max(1, Math.ceil((window.resetAt - now) / 1000));
  }

  /** Counts a failed attempt; the window starts at the first failure. */
  async fail(username: string, now: number): Promise<void> {
    if (this.limit === 0) return;
    await this.store.hit(key(username), this.windowMs, now);
  }

  /** Forgets the failures of a username that has just signed in. */
  async succeed(username: string): Promise<void> {
    if (this.limit === 0) return;
    await this.store.reset(key(username));
  }
}

const key = (username: string) => `login-user:${username}`;
