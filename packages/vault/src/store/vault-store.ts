/**
 * The vault's storage port: one row per connection (a user's token set at one upstream), and
 * the pending sign-ins. Every write that can race is a compare-and-swap on `version`, the
 * row's fencing version: a lease is taken by bumping it, and a holder writes its new token set
 * only if the version is still the one its lease produced. Adapters: SQLite and PostgreSQL,
 * both run by one conformance suite (`describeVaultStoreConformance` from
 * `@tessera/vault/testing`).
 */

/** A connection's lifecycle state, visible through `vault.status()`. */
export type ConnectionState = 'active' | 'refresh_backoff' | 'needs_reauthorization' | 'revoked';

export const CONNECTION_STATES: readonly ConnectionState[] = [
  'active',
  'refresh_backoff',
  'needs_reauthorization',
  'revoked',
];

/** The sealed (encrypted) values of a token set, one per column; see `crypto/seal.ts`. */
export interface SealedColumns {
  access_token: string;
  token_type: string;
  /** JSON `{ receivedAt, expiresAt, refreshExpiresAt? }`, sealed like the tokens. */
  expiry: string;
  refresh_token: string | null;
  id_token: string | null;
  scope: string | null;
}

export const SEALED_COLUMNS = [
  'access_token',
  'token_type',
  'expiry',
  'refresh_token',
  'id_token',
  'scope',
] as const;

/** One stored connection. Times are milliseconds since the epoch (vault clock). */
export interface ConnectionRow {
  userId: string;
  connection: string;
  /** The upstream's issuer identifier: a connection belongs to one upstream. */
  issuer: string;
  state: ConnectionState;
  /** Fencing version: bumped by every lease and every write of the set. */
  version: number;
  leaseOwner: string | null;
  leaseUntil: number | null;
  /** `null` for a tombstone (`needs_reauthorization`, `revoked`): no token is kept. */
  sealed: SealedColumns | null;
  /** The key every value of `sealed` was encrypted with (each value also names it). */
  keyId: string | null;
  /** Consecutive transient refresh failures. */
  failures: number;
  /** No refresh before this time (backoff). */
  retryAt: number | null;
  /** JSON of the last failure (`{ error, error_description, status }`); never a token. */
  lastError: string | null;
  refreshedAt: number | null;
  updatedAt: number;
  /** `cleanup()` deletes the row after this time. */
  purgeAt: number | null;
}

/** The fields a compare-and-swap may change. */
export type RowPatch = Partial<
  Pick<
    ConnectionRow,
    | 'state'
    | 'sealed'
    | 'keyId'
    | 'leaseOwner'
    | 'leaseUntil'
    | 'failures'
    | 'retryAt'
    | 'lastError'
    | 'refreshedAt'
    | 'updatedAt'
    | 'purgeAt'
  >
>;

/** A fresh token set written by `save` (or a finished sign-in): replaces whatever the row held. */
export interface NewTokenSet {
  userId: string;
  connection: string;
  issuer: string;
  sealed: SealedColumns;
  keyId: string;
  refreshedAt: number;
  updatedAt: number;
  purgeAt: number | null;
}

/** A pending sign-in as stored: its sealed payload under the hash of its `state`. */
export interface PendingSignInRow {
  stateHash: string;
  sealed: string;
  expiresAt: number;
}

export interface VaultStore {
  /** `sqlite` or `postgres`, for messages. */
  readonly kind: string;
  get(userId: string, connection: string): Promise<ConnectionRow | undefined>;
  /** Every connection of a user, ordered by name. */
  listUser(userId: string): Promise<ConnectionRow[]>;
  /** Inserts or replaces a connection's set (state `active`, no lease, no backoff); returns the new version. */
  put(set: NewTokenSet): Promise<number>;
  /**
   * Applies `patch` only if the row's version is `expectedVersion`; with `bump` the version is
   * incremented. Returns the row's version afterwards, or `undefined` when the swap lost.
   */
  update(
    userId: string,
    connection: string,
    expectedVersion: number,
    patch: RowPatch,
    bump: boolean,
  ): Promise<number | undefined>;
  /** Deletes one connection, or all of a user's; returns the number deleted. */
  remove(userId: string, connection?: string): Promise<number>;
  /** Rows in `(userId, connection)` order after `after`, at most `limit`: for `rekey`. */
  page(after: { userId: string; connection: string } | undefined, limit: number): Promise<ConnectionRow[]>;
  /** Rows holding a set whose last refresh is before `before`, oldest first: for keep-alive. */
  idle(before: number, limit: number): Promise<ConnectionRow[]>;
  /** Deletes rows whose `purgeAt` has passed, and expired sign-ins; returns the rows deleted. */
  purge(now: number): Promise<{ connections: number; signIns: number }>;
  /** Counts of connections per state, for the metrics gauge. */
  countByState(): Promise<Record<ConnectionState, number>>;
  /** Records a pending sign-in under the hash of its `state`. */
  putSignIn(stateHash: string, sealed: string, expiresAt: number): Promise<void>;
  /** Removes and returns a pending sign-in (single use); `undefined` if unknown or expired. */
  takeSignIn(stateHash: string, now: number): Promise<string | undefined>;
  /** Pending sign-ins not expired at `now`, in `stateHash` order after `after`, at most `limit`: for `rekey`. */
  pageSignIns(after: string | undefined, limit: number, now: number): Promise<PendingSignInRow[]>;
  /**
   * Replaces a pending sign-in's sealed payload only if it is still `expected` (a
   * compare-and-swap: a sign-in taken meanwhile is not brought back). Returns whether it did.
   */
  replaceSignIn(stateHash: string, expected: string, sealed: string): Promise<boolean>;
  close(): Promise<void>;
}
