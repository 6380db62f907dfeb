import type { DirectoryStore } from './directory-store.js';
import type { EventStore } from './event-store.js';
import type { KeyStore } from './key-store.js';
import type { ReplayStore } from './replay-store.js';
import type { TokenStore } from './token-store.js';

export type * from './directory-store.js';
export { DuplicateError, GRANT_TYPES } from './directory-store.js';
export type * from './event-store.js';
export type * from './key-store.js';
export type * from './replay-store.js';
export type * from './token-store.js';

/** Every port an authorization server needs; one adapter may serve several. */
export interface Stores {
  tokens: TokenStore;
  directory: DirectoryStore;
  keys: KeyStore;
  events: EventStore;
  replay: ReplayStore;
  /** Throws when a store is unreachable (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Declared with the server's other errors; re-exported beside the ports whose adapters throw it. */
export { StoreUnavailableError } from '../errors.js';
