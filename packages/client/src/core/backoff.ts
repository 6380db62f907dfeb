import { RETRY_AFTER_MAX_MS, RETRY_BASE_MS, RETRY_MAX_MS } from './defaults.js';

/**
 * Delay before the next attempt after `failures` consecutive transient failures: exponential
 * with equal jitter (half fixed, half random, so it never collapses to zero), and never shorter
 * than the server's `Retry-After`.
 */
export function backoffMs(failures: number, random: number, retryAfterS?: number): number {
  const ceiling = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.max(0, failures - 1));
  const jittered = ceiling / 2 + (ceiling / 2) * random;
  const floor = retryAfterS === undefined ? 0 : Math.min(RETRY_AFTER_MAX_MS, retryAfterS * 1000);
  return Math.max(jittered, floor);
}
