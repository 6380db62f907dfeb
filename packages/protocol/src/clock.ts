/**
 * The time source, injected everywhere time matters (expiry, grace periods, caches, cooldowns),
 * so tests drive time instead of sleeping.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /**
   * Optional: milliseconds from any origin on a clock that never jumps (`performance.now()`).
   * The client SDK measures token lifetimes on it, so a device clock moved while signed in
   * changes nothing; everything else uses `now`.
   */
  monotonic?(): number;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => Date.now() };
