/**
 * The time source, injected everywhere time matters (expiry, grace periods, caches, cooldowns),
 * so tests drive time instead of sleeping.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => Date.now() };
