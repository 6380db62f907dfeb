import type { EventInput } from './event-store.js';

/** Times are milliseconds since the epoch. No record ever holds a token value, only its hash. */

export type FamilyStatus = 'active' | 'revoked' | 'expired';
export type RefreshTokenStatus = 'active' | 'rotated' | 'revoked';

/** One sign-in = one session = one family of refresh tokens (SPEC §3.2). */
export interface FamilyRecord {
  id: string;
  clientId: string;
  userId: string;
  scope: string;
  status: FamilyStatus;
  createdAt: number;
  /** Absolute expiry: no token of the family lives past it. */
  expiresAt: number;
  /** Generation of the family's current (newest) refresh token; the first is 0. */
  generation: number;
  lastRefreshAt: number | null;
  endedAt: number | null;
  /** Why the family ended: `logout`, `token_reused`, `revoked`, `admin`, `idle_timeout`, `absolute_timeout`. */
  endReason: string | null;
  userAgent: string | null;
  ip: string | null;
}

export interface RefreshTokenRecord {
  hash: string;
  familyId: string;
  generation: number;
  parentHash: string | null;
  status: RefreshTokenStatus;
  issuedAt: number;
  /** Idle expiry, capped by the family's absolute expiry. */
  expiresAt: number;
  rotatedAt: number | null;
  /** The sealed response given for this token's rotation, kept for the grace period only. */
  graceResponse: Uint8Array | null;
}

export interface TokenAndFamily {
  token: RefreshTokenRecord;
  family: FamilyRecord;
}

export interface RotateInput {
  parentHash: string;
  /** The parent's generation as read; the rotation only happens if it is still the family's current one. */
  parentGeneration: number;
  child: RefreshTokenRecord;
  graceResponse: Uint8Array;
  now: number;
  /** Events written in the same transaction: recorded if and only if the rotation is. */
  events?: EventInput[];
  /** Fault injection for crash tests: called inside the transaction after every write, before commit. */
  beforeCommit?: () => void;
}

export type RotateResult = { outcome: 'rotated' } | { outcome: 'conflict' };

export interface FamilyEnd {
  reason: string;
  now: number;
  /** Until when resource servers must remember the revocation (the last access token's expiry). */
  noticeUntil: number;
}

export interface FamilyFilter {
  userId?: string;
  clientId?: string;
  status?: FamilyStatus;
  limit?: number;
}

export interface CleanupInput {
  now: number;
  /** Sealed grace responses of tokens rotated before this time are erased. */
  graceHorizon: number;
}

export interface CleanupResult {
  tokensDeleted: number;
  familiesDeleted: number;
  familiesExpired: number;
}

/** Notice of a revoked family or access token, for the revocation feed (SPEC §5). */
export interface RevocationRecord {
  seq: number;
  kind: 'family' | 'jti';
  value: string;
  /** Milliseconds; after this, every token the notice concerns has expired. */
  expiresAt: number;
}

/**
 * The durable state of sessions and refresh tokens. `rotate` and `revokeFamily` must be atomic
 * across every process sharing the store: they are what make SPEC §3.3 hold across instances.
 */
export interface TokenStore {
  /** Creates a family with its first token (and `events`, in the same transaction). */
  createFamily(family: FamilyRecord, token: RefreshTokenRecord, events?: EventInput[]): Promise<void>;
  /**
   * The token of family `familyId` whose hash is `hash`, with its family. The family id is read
   * from the token itself (after its tag is checked), so a store finds a token within its family
   * and needs no index over every token's hash.
   */
  findToken(familyId: string, hash: string): Promise<TokenAndFamily | null>;
  findFamily(id: string): Promise<FamilyRecord | null>;
  /**
   * Atomically: if the parent is `active`, its family is `active` and the family's generation is
   * still `parentGeneration`, mark the parent `rotated` (keeping `graceResponse`), insert the child
   * and move the family to the child's generation; else change nothing and answer `conflict`.
   */
  rotate(input: RotateInput): Promise<RotateResult>;
  /**
   * Atomically ends an active family, revokes all its tokens and publishes a revocation notice
   * kept until `end.noticeUntil`; false when the family was not active.
   */
  revokeFamily(id: string, end: FamilyEnd): Promise<boolean>;
  /** Ends every active family of a user or of a client; returns the ids it ended. */
  revokeFamilies(filter: { userId?: string; clientId?: string }, end: FamilyEnd): Promise<string[]>;
  listFamilies(filter: FamilyFilter): Promise<FamilyRecord[]>;
  /** The lineage of a family, oldest first. */
  listTokens(familyId: string): Promise<RefreshTokenRecord[]>;
  /** Records a revoked access token id until `expiresAt`, and publishes a notice. */
  revokeJti(jti: string, expiresAt: number): Promise<void>;
  isJtiRevoked(jti: string, now: number): Promise<boolean>;
  /** Stores an opaque access token's claims (JSON) under the token's hash until `expiresAt`. */
  saveAccessToken(hash: string, claims: string, expiresAt: number): Promise<void>;
  /** The claims JSON of an unexpired opaque access token, or null. */
  findAccessToken(hash: string, now: number): Promise<string | null>;
  /** Revocation notices after `afterSeq`, oldest first. */
  listRevocations(afterSeq: number, now: number, limit?: number): Promise<RevocationRecord[]>;
  /** Marks lapsed families expired, deletes expired token rows and erases stale grace responses. */
  cleanup(input: CleanupInput): Promise<CleanupResult>;
}
