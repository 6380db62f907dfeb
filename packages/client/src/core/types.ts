import type { Clock, TesseraError } from '@tessera/protocol';

/**
 * The time source (`@tessera/protocol`'s): `now()` is the wall clock; `monotonic()`, where the
 * platform has one (`performance.now()`), a clock that never jumps, on which the client measures
 * lifetimes, so a device clock moved while signed in changes nothing. Injected so every timing
 * rule is testable with virtual time.
 */
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
  /**
   * True when the storage encrypts what it keeps at rest (`encryptedFileStorage` does). A store
   * that keeps a private key in a value (`storageKeyStore` of `@tessera/client/dpop`) requires it.
   */
  readonly encryptedAtRest?: boolean;
  get(key: string): Promise<string | null> | string | null;
  set(key: string, value: string): Promise<void> | void;
  remove(key: string): Promise<void> | void;
}

/** What a client tells the other members of its session (other tabs, workers, clients in one process). */
export type SessionMessage =
  | { type: 'session'; session: Session }
  | { type: 'ended'; code: string; reason?: string | undefined }
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
  refreshToken?: string;
  receivedAt: number;
  expiresAt: number;
  scope?: string;
  revocationEndpoint?: string;
  /** Increases with every rotation, so the newest of two copies wins. */
  gen: number;
}

/**
 * `signedOut`: no session. `expired`: the server ended the session. `offline`: session kept, the
 * OAuth server unreachable (refused, no answer within `offlineAfterMs`, a timeout, a captive portal).
 */
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
  /**
   * The storage failed: a read (the session reads as none; an adapter that cannot read its own
   * data has moved it aside, so later writes work), a write (the new session lives in memory
   * only until a write succeeds) or a removal.
   */
  storageError: { operation: 'read' | 'write' | 'remove'; error: unknown };
}
