/**
 * A wake-up for the revocation feed: when any instance writes a revocation notice, every
 * instance's feed reads its `RevocationFeedStore` at once, rather than at its next poll. The
 * signal carries no notice: the store stays the truth, and a signal lost (or a signal bus that is
 * down) only means the notice arrives at the next poll, as without one.
 *
 * In one process the server uses an in-memory signal; instances behind one load balancer share
 * one over pub/sub (Redis: `@tessera/store-redis`).
 */
export interface RevocationSignal {
  /** Tells every subscriber, on every instance, that a notice was written. Best effort: never throws. */
  publish(): void;
  /** Calls `listener` on each signal; returns the function that unsubscribes it. */
  subscribe(listener: () => void): () => void;
}
