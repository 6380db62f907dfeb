/**
 * The resource server's memory of DPoP proof `jti`s. Keys are SHA-256 digests (fixed size,
 * whatever the length of the htu), and an entry is never forgotten before it expires: when the
 * cache is full of live entries a new proof is refused (the caller answers 503, retryable)
 * rather than letting a flood of fresh proofs evict a captured one so it could be replayed.
 * Expired entries are swept when the cache is full, at most once per second, so a flood costs
 * one sweep a second, not one per request.
 */
export class ReplayCache {
  readonly #max: number;
  readonly #entries = new Map<string, number>();
  #lastSweep = Number.NEGATIVE_INFINITY;

  constructor(maxEntries: number) {
    this.#max = Math.max(1, Math.floor(maxEntries));
  }

  /**
   * Remembers `key` until `expiresAt` (ms). Answers `'fresh'` the first time, `'seen'` while an
   * earlier entry lives, and `'full'` (nothing stored) when every slot holds a live entry.
   */
  insert(key: string, expiresAt: number, now: number): 'fresh' | 'seen' | 'full' {
    const known = this.#entries.get(key);
    if (known !== undefined && known > now) return 'seen';
    if (known !== undefined) this.#entries.delete(key);
    if (this.#entries.size >= this.#max && now - this.#lastSweep >= 1000) {
      this.#lastSweep = now;
      for (const [k, until] of this.#entries) if (until <= now) this.#entries.delete(k);
    }
    if (this.#entries.size >= this.#max) return 'full';
    this.#entries.set(key, expiresAt);
    return 'fresh';
  }

  get size(): number {
    return this.#entries.size;
  }
}

/** The fixed-size key of one proof: base64url SHA-256 over its parts, separated unambiguously. */
export async function replayKey(parts: readonly string[]): Promise<string> {
  const data = new TextEncoder().encode(JSON.stringify(parts));
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', data));
  let s = '';
  for (const b of digest) s += String.fromCharCode(b);
  return btoa(s);
}
