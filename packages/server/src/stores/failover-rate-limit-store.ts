import type { Logger } from 'pino';
import { hasErrorCode } from '../errors.js';
import type { RateLimitCount, RateLimitStore } from '../ports/index.js';
import { MemoryRateLimitStore } from './memory/memory-rate-limit-store.js';

/**
 * A shared `RateLimitStore` (Redis) that, while it cannot be reached, counts in this process's
 * memory instead: the limits stop being shared across instances (each counts on its own, so the
 * budget is at most one per instance) but never stop, and no request fails because a counter
 * is down. One warning is logged when an outage starts and one line when the shared store
 * answers again; requests go back to it by themselves. The counts made in memory during the
 * outage are not carried over.
 */
export class FailoverRateLimitStore implements RateLimitStore {
  readonly #fallback = new MemoryRateLimitStore();
  #down = false;

  constructor(
    private readonly shared: RateLimitStore,
    private readonly log: Logger,
  ) {}

  /** True while the shared store is unreachable and counting happens in memory. */
  get degraded(): boolean {
    return this.#down;
  }

  hit(key: string, windowMs: number, now: number): Promise<RateLimitCount> {
    return this.#run(
      () => this.shared.hit(key, windowMs, now),
      () => this.#fallback.hit(key, windowMs, now),
    );
  }

  peek(key: string, now: number): Promise<RateLimitCount | undefined> {
    return this.#run(
      () => this.shared.peek(key, now),
      () => this.#fallback.peek(key, now),
    );
  }

  reset(key: string): Promise<void> {
    void this.#fallback.reset(key);
    return this.#run(
      () => this.shared.reset(key),
      () => Promise.resolve(),
    );
  }

  async #run<T>(shared: () => Promise<T>, fallback: () => Promise<T>): Promise<T> {
    try {
      const value = await shared();
      if (this.#down) {
        this.#down = false;
        this.log.info(
          { event: 'rate_limit_store.recovered' },
          'rate-limit store reachable again: limits are shared again',
        );
      }
      return value;
    } catch (err) {
      if (!hasErrorCode(err, 'ERR_TESSERA_STORE_UNAVAILABLE')) throw err;
      if (!this.#down) {
        this.#down = true;
        this.log.warn(
          { event: 'rate_limit_store.unavailable', reason: (err as Error).message },
          'rate-limit store unreachable: counting in this instance only until it answers again',
        );
      }
      return fallback();
    }
  }
}
