import { LIMITS } from '../config/limits.js';

/**
 * Failed logins per username, in memory: after `loginFailuresPerUser` failures in the window,
 * further attempts are refused with `rate_limited` without checking the password.
 */
export class LoginThrottle {
  private readonly failures = new Map<string, { count: number; since: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Seconds to wait, or 0 when the username may try now. */
  retryAfter(username: string, now: number): number {
    if (this.limit === 0) return 0;
    const entry = this.failures.get(username);
    if (!entry || now - entry.since >= this.windowMs) return 0;
    return entry.count >= this.limit ? Math.ceil((entry.since + this.windowMs - now) / 1000) : 0;
  }

  /** Counts a failed attempt; the window starts at the first failure. */
  fail(username: string, now: number): void {
    const entry = this.failures.get(username);
    if (!entry || now - entry.since >= this.windowMs) this.failures.set(username, { count: 1, since: now });
    else entry.count++;
    // Bounded memory under a spray of usernames: past this many, entries whose window ended go.
    if (this.failures.size > LIMITS.loginThrottleEntries) this.prune(now);
  }

  /** Forgets the failures of a username that has just signed in. */
  succeed(username: string): void {
    this.failures.delete(username);
  }

  private prune(now: number): void {
    for (const [k, v] of this.failures) if (now - v.since >= this.windowMs) this.failures.delete(k);
  }
}
