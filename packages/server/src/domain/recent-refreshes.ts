import { LIMITS } from '../config/limits.js';

/** The client a recent refresh was made by. */
export interface RefreshingClient {
  id: string;
  public: boolean;
}

/**
 * Who is refreshing a token while it is being rotated: the thumbprint of the request's verified
 * DPoP key, or `''` for a request with no key (a bearer session) or not yet known (a claim made
 * before the proof is checked).
 */
const NO_KEY = '';
/** Holders remembered per token at most; more only means a failed one cannot be told apart. */
const MAX_HOLDERS = 16;

interface Entry {
  client: RefreshingClient;
  until: number;
  /** Rotated: the exemption of the grace period, which only a later success replaces. */
  settled: boolean;
  /** While rotating: the keys of the requests under way, so one that fails forgets only itself. */
  holders: Set<string>;
}

/**
 * Refresh-token hashes that are being rotated right now or were rotated within their grace
 * period, each with the client that refreshed it. Requests presenting them are coalesced or
 * answered from the grace box, so they cost little and must not count against the refresh rate
 * limit (many tabs refreshing one token at once is normal) — but only when the same client
 * presents the same token. Bounded: the oldest entries go first.
 *
 * A failed attempt never changes what a successful one established: a rotated token keeps its
 * grace-period exemption whoever fails with it later (a thief presenting it with another key, or
 * with none), and a rotation under way keeps its mark when another key's request for the same
 * token fails beside it.
 */
export class RecentRefreshes {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly capacity: number = LIMITS.recentRefreshEntries) {}

  /** A refresh of `hash` by `client` is starting, proving `holder`'s key (or none). */
  mark(hash: string, client: RefreshingClient, until: number, now: number, holder: string = NO_KEY): void {
    const entry = this.entries.get(hash);
    if (entry !== undefined && entry.until > now) {
      // A rotated token's exemption belongs to the client that rotated it: kept as it is.
      if (entry.settled) return;
      if (entry.client.id === client.id) {
        if (entry.holders.size < MAX_HOLDERS) entry.holders.add(holder);
        entry.until = Math.max(entry.until, until);
        return;
      }
    }
    this.put(hash, { client: copy(client), until, settled: false, holders: new Set([holder]) });
  }

  /** `hash` was rotated by `client`: exempt until `until` (the end of its grace period). */
  settle(hash: string, client: RefreshingClient, until: number): void {
    this.put(hash, { client: copy(client), until, settled: true, holders: new Set() });
  }

  /**
   * Forgets a failed refresh by `holder`'s key, and any claim made before its key was known:
   * the mark goes once no other request is under way with it. A rotated token, or a mark another
   * client has made since, is left alone.
   */
  forget(hash: string, clientId: string, holder: string = NO_KEY): void {
    const entry = this.entries.get(hash);
    if (entry === undefined || entry.settled || entry.client.id !== clientId) return;
    entry.holders.delete(holder);
    entry.holders.delete(NO_KEY);
    if (entry.holders.size === 0) this.entries.delete(hash);
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

  private put(hash: string, entry: Entry): void {
    this.entries.delete(hash);
    this.entries.set(hash, entry);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }
}

function copy(client: RefreshingClient): RefreshingClient {
  return { id: client.id, public: client.public };
}
