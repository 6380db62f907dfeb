import { LIMITS } from '../../config/limits.js';
import type { RateLimitCount, RateLimitStore } from '../../ports/index.js';

/**
 * The in-process `RateLimitStore`: right for one instance; several instances behind one load
 * balancer need a shared adapter, or each counts on its own. Every operation takes effect when
 * it is called (the promise only carries the result), so a check and the count that follows it
 * see each other within one process. Bounded: past `capacity` keys, windows that have ended are
 * dropped, then the oldest keys (an evicted key starts
 * counting again: the bound trades exactness under a spray of keys for bounded memory).
 */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly windows = new Map<string, RateLimitCount>();

  constructor(private readonly capacity: number = LIMITS.rateLimitEntries) {}

  hit(key: string, windowMs: number, now: number): Promise<RateLimitCount> {
    let entry = this.windows.get(key);
    if (entry === undefined || entry.resetAt <= now) {
      entry = { count: 0, resetAt: now + windowMs };
      this.windows.delete(key);
      this.windows.set(key, entry);
      if (this.windows.size > this.capacity) this.prune(now);
    }
    entry.count++;
    return Promise.resolve({ ...entry });
  }

  peek(key: string, now: number): Promise<RateLimitCount | undefined> {
    const entry = this.windows.get(key);
    if (entry === undefined) return Promise.resolve(undefined);
    if (entry.resetAt <= now) {
      this.windows.delete(key);
      return Promise.resolve(undefined);
    }
    return Promise.resolve({ ...entry });
  }

  reset(key: string): Promise<void> {
    this.windows.delete(key);
    return Promise.resolve();
  }

  private prune(now: number): void {
    for (const [key, entry] of this.windows) if (entry.resetAt <= now) this.windows.delete(key);
    // Still full: the oldest windows go first (insertion order), down to nine tenths, so a spray
    // of new keys prunes once per tenth of the capacity rather than on every hit.
    const target = Math.floor(this.capacity * 0.9);
    for (const key of this.windows.keys()) {
      if (this.windows.size <= target) break;
      this.windows.delete(key);
    }
  }
}
