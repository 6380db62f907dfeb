import type { UpstreamError } from './errors.js';
import type { ConnectionState } from './store/vault-store.js';

/** What the vault announces. No event carries a token. Times are milliseconds since the epoch. */
export interface VaultEvents {
  /** A set was saved (sign-in or `save`). */
  saved: { userId: string; connection: string; expiresAt: number };
  /** A refresh succeeded; the rotated refresh token is already stored. */
  refreshed: { userId: string; connection: string; expiresAt: number; rotated: boolean; keepAlive: boolean };
  /** A refresh failed and the set was kept; no refresh is tried before `retryAt`. */
  refreshFailed: {
    userId: string;
    connection: string;
    /** `network`, `unavailable` (5xx, 429) or `rejected` (e.g. `invalid_client`). */
    kind: string;
    reason: string;
    retryAt: number;
    failures: number;
  };
  /** The upstream refused the grant: the set is deleted, the user must sign in again. */
  reauthenticationRequired: { userId: string; connection: string; error: UpstreamError };
  /** `signOut`: revoked upstream (if it answered) and deleted here. */
  revoked: { userId: string; connection: string; revokedUpstream: boolean };
  /** A connection changed state. */
  stateChanged: { userId: string; connection: string; from: ConnectionState | 'none'; to: ConnectionState };
}

export type VaultEventName = keyof VaultEvents;

/** A tiny typed emitter; a throwing listener never breaks the vault. */
export class VaultEmitter {
  private readonly listeners = new Map<VaultEventName, Set<(e: never) => void>>();

  subscribe<K extends VaultEventName>(event: K, fn: (e: VaultEvents[K]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(fn as (e: never) => void);
    return () => set.delete(fn as (e: never) => void);
  }

  emit<K extends VaultEventName>(event: K, payload: VaultEvents[K]): void {
    for (const fn of this.listeners.get(event) ?? []) {
      try {
        (fn as (e: VaultEvents[K]) => void)(payload);
      } catch {
        // A listener's bug must not turn a refresh into a failure.
      }
    }
  }
}
