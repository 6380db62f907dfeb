import type { Clock, TesseraError } from '@tessera/protocol';

/** A source of wall-clock time in milliseconds. Injected so every timing rule is testable with virtual time. */
export type { Clock };

/** Timers. Injected for the same reason as {@link Clock}; the default unrefs its timers in Node. */
export interface Scheduler {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * Where the session is kept. Values are opaque strings (the SDK serialises the session itself).
 * `set` must replace the value atomically: a reader sees the old value or the new one, never a mix,
 * because a rotated refresh token that is half written is a lost session.
 * Implement this for Keychain, Android Keystore, a database, ...
 */
export interface TokenStorage {
  get(key: string): Promise<string | null> | string | null;
  set(key: string, value: string): Promise<void> | void;
  remove(key: string): Promise<void> | void;
}

/** What a client tells the other members of its session (other tabs, workers, clients in one process). */
export type SessionMessage =
  | { type: 'session'; session: Session }
  | { type: 'ended'; code: string }
  | { type: 'signedOut' };

/** A member's handle on a coordinator channel. */
export interface CoordinatorPort {
  /** Sends to every other member of the channel, never back to the sender. */
  post(message: SessionMessage): void;
  leave(): void;
}

/**
 * Single flight across tabs, workers or processes. `withLock` runs `fn` while no other member
 * runs one for the same name (and must release the lock if the holder dies, as Web Locks does);
 * `join` hands new sessions to the others so they need no refresh of their own.
 */
export interface Coordinator {
  withLock<T>(name: string, fn: () => Promise<T>): Promise<T>;
  join(name: string, onMessage: (message: SessionMessage) => void): CoordinatorPort;
}

/** The stored session. Times are local clock milliseconds: receipt time plus `expires_in`. */
export interface Session {
  accessToken: string;
  tokenType: string;
  refreshToken?: string;
  receivedAt: number;
  expiresAt: number;
  refreshExpiresAt?: number;
  scope?: string;
  revocationEndpoint?: string;
  /** Increases with every rotation, so the newest of two copies wins. */
  gen: number;
}

/** `signedOut`: no session. `expired`: the server ended the session. `offline`: session kept, network down. */
export type ClientState = 'signedOut' | 'active' | 'refreshing' | 'offline' | 'expired';

/** Events and their payloads. No payload ever holds a token. */
export interface TesseraEvents {
  refreshed: { expiresAt: number };
  refreshFailed: TesseraError;
  offline: undefined;
  online: undefined;
  sessionExpired: TesseraError;
  reuseDetected: TesseraError;
  stateChange: ClientState;
}
