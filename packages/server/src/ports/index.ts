import type { AccessTokenStore } from './access-token-store.js';
import type { CleanupStore } from './cleanup-store.js';
import type { CounterStore } from './counter-store.js';
import type { DirectoryStore } from './directory-store.js';
import type { EventStore } from './event-store.js';
import type { KeyStore } from './key-store.js';
import type { ReplayStore } from './replay-store.js';
import type { RevocationFeedStore } from './revocation-feed-store.js';
import type { SessionStore } from './session-store.js';

export type * from './access-token-store.js';
export type * from './cleanup-store.js';
export type * from './counter-store.js';
export { COUNTER_RESOLUTIONS, counterResolutionFor } from './counter-store.js';
export type * from './directory-store.js';
export { DuplicateError, GRANT_TYPES } from './directory-store.js';
export type * from './event-store.js';
export type * from './key-store.js';
export type * from './rate-limit-store.js';
export type * from './replay-store.js';
export type * from './revocation-feed-store.js';
export type * from './revocation-signal.js';
export type * from './session-store.js';

/**
 * Every port an authorization server needs, as one adapter (or several) assembles them. Method
 * names are unique across ports, so one object may implement several. Consumers take only the
 * ports they use (see `TesseraContext`).
 */
export interface Stores {
  sessions: SessionStore;
  accessTokens: AccessTokenStore;
  revocationFeed: RevocationFeedStore;
  cleanup: CleanupStore;
  directory: DirectoryStore;
  keys: KeyStore;
  events: EventStore;
  /** Per-minute counters for the dashboard's overview. */
  counters: CounterStore;
  replay: ReplayStore;
  /** Throws when a store is unreachable (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Declared with the server's other errors; re-exported beside the ports whose adapters throw it. */
export { StoreUnavailableError } from '../errors.js';
