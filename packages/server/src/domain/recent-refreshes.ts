import { LIMITS } from '../config/limits.js';

/**
 * Refresh-token hashes that are being rotated right now or were rotated within their grace
 * period. Requests presenting them are coalesced or answered from the grace box, so they cost
 * little and must not count against the refresh rate limit (SPEC §2: many tabs refreshing one
 * token at once is normal). Bounded: the oldest entries go first.
 */
export class RecentRefreshes {
  private readonly until = new Map<string, number>();

  constructor(private readonly capacity: number = LIMITS.recentRefreshEntries) {}

  mark(hash: string, until: number): void {
    this.until.delete(hash);
    this.until.set(hash, until);
    if (this.until.size > this.capacity) {
      const oldest = this.until.keys().next().value;
      if (oldest !== undefined) this.until.delete(oldest);
    }
  }

  forget(hash: string): void {
    this.until.delete(hash);
  }

  has(hash: string, now: number): boolean {
    const until = this.until.get(hash);
    if (until === undefined) return false;
    if (until <= now) {
      this.until.delete(hash);
      return false;
    }
    return true;
  }
}
