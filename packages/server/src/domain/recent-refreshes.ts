import { LIMITS } from '../config/limits.js';

/** The client a recent refresh was made by. */
export interface RefreshingClient {
  id: string;
  public: boolean;
}

/**
 * Refresh-token hashes that are being rotated right now or were rotated within their grace
 * period, each with the client that refreshed it. Requests presenting them are coalesced or
 * answered from the grace box, so they cost little and must not count against the refresh rate
 * limit (many tabs refreshing one token at once is normal) — but only when the same client
 * presents the same token. Bounded: the oldest entries go first.
 */
export class RecentRefreshes {
  private readonly entries = new Map<string, { client: RefreshingClient; until: number }>();

  constructor(private readonly capacity: number = LIMITS.recentRefreshEntries) {}

  mark(hash: string, client: RefreshingClient, until: number): void {
    this.entries.delete(hash);
    this.entries.set(hash, { client: { id: client.id, public: client.public }, until });
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  /** Forgets a failed refresh, unless another client has marked the token since. */
  forget(hash: string, clientId: string): void {
    if (this.entries.get(hash)?.client.id === clientId) this.entries.delete(hash);
  }

  /**
   * True while `hash` was refreshed recently by `clientId`; with no client named (the first-party
   * refresh of a public client, which names none), by a public client.
   */
  has(hash: string, clientId: string | undefined, now: number): boolean {
    const entry = this.entries.get(hash);
    if (entry === undefined) return false;
    if (entry.until <= now) {
      this.entries.delete(hash);
      return false;
    }
    return clientId === undefined ? entry.client.public : entry.client.id === clientId;
  }
}
