/**
 * A bounded least-recently-used map whose entries carry their own expiry. A `Map` keeps
 * insertion order, so re-inserting on hit makes the first key the least recently used.
 */
export class LruCache<V> {
  readonly #max: number;
  readonly #entries = new Map<string, { value: V; expiresAt: number }>();

  constructor(maxEntries: number) {
    this.#max = Math.max(0, Math.floor(maxEntries));
  }

  /** The value, unless absent or expired at `now` (an expired entry is dropped). */
  get(key: string, now: number): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.value;
  }

  /** Stores `value` until `expiresAt` (ms); a past expiry stores nothing. */
  set(key: string, value: V, expiresAt: number, now: number): void {
    if (this.#max === 0 || expiresAt <= now) return;
    this.#entries.delete(key);
    this.#entries.set(key, { value, expiresAt });
    while (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }
}
