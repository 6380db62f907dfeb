import type { RevocationSignal } from '../../ports/index.js';

/**
 * The in-process `RevocationSignal`: a revocation made by this server wakes this server's
 * revocation feed at once. Instances that share a store but not a signal still see each other's
 * notices, at the feed's next poll.
 */
export class LocalRevocationSignal implements RevocationSignal {
  readonly #listeners = new Set<() => void>();

  publish(): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener();
      } catch {
        // A listener's failure is its own; the others are still told.
      }
    }
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
