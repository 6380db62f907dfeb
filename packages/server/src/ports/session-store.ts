import type { SessionEndReason } from '@tessera/protocol';
import type { EventInput } from './event-store.js';

// Times are milliseconds since the epoch. No record ever holds a token value, only its hash.

export type FamilyStatus = 'active' | 'revoked' | 'expired';
export type RefreshTokenStatus = 'active' | 'rotated' | 'revoked';

/** One sign-in = one session = one family of refresh tokens. */
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
  /** Why the family ended (`SESSION_END_REASONS` of `@tessera/protocol`), written with `endedAt`. */
  endReason: SessionEndReason | null;
  /** Who ended it, when a person did (the administrator's username, `cli`); null otherwise. */
  endedBy: string | null;
  /** The reason that person gave, in their words; null otherwise. */
  endNote: string | null;
  userAgent: string | null;
  ip: string | null;
  /**
   * RFC 7638 thumbprint of the DPoP key the session is bound to: every refresh must prove that
   * key. Set at sign-in, or by the first rotation that came with a proof; never changed after.
   * Absent or null: not bound.
   */
  dpopJkt?: string | null;
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
}

export type RotateResult = { outcome: 'rotated' } | { outcome: 'conflict' };

export interface FamilyEnd {
  reason: SessionEndReason;
  /** Who ended it (an administrator's username, `cli`), kept as the family's `endedBy`. */
  by?: string | undefined;
  /** The reason they gave, kept as the family's `endNote`. */
  note?: string | undefined;
  now: number;
  /** Until when resource servers must remember the revocation (the last access token's expiry). */
  noticeUntil: number;
}

export interface FamilyFilter {
  userId?: string;
  clientId?: string;
  status?: FamilyStatus;
  /** Keyset paging: only families after this one in the order (`createdAt`, then `id`, both descending). */
  before?: { createdAt: number; id: string };
  /** Only families created at or after this time. */
  createdAfter?: number;
  limit?: number;
}

/**
 * Sessions: token families and their refresh tokens. The refresh grant, sign-in, logout,
 * revocation and introspection use it; see docs/architecture.md ("Storage").
 *
 * What an adapter guarantees:
 * - `rotate` and `revokeFamily` are atomic across every process sharing the store. They are what
 *   makes one child per parent, and a revocation that beats a racing refresh, hold across
 *   instances.
 * - A write is acknowledged only once it is durable: a rotation answered `rotated` survives a
 *   crash, and one that was not answered either happened completely or not at all.
 * - Ending a family publishes a notice on the revocation feed in the same transaction.
 */
export interface SessionStore {
  /** Creates a family with its first token (and `events`, in the same transaction). */
  createFamily(family: FamilyRecord, token: RefreshTokenRecord, events?: EventInput[]): Promise<void>;
  /**
   * The token of family `familyId` whose hash is `hash`, with its family. The family id is read
   * from the token itself (after its tag is checked), so a store finds a token within its family
   * and needs no index over every token's hash. Only the parent of the family's current token
   * carries its `graceResponse`.
   */
  findToken(familyId: string, hash: string): Promise<TokenAndFamily | null>;
  findFamily(id: string): Promise<FamilyRecord | null>;
  /**
   * Atomically: if the parent is `active`, its family is `active` and the family's generation is
   * still `parentGeneration`, mark the parent `rotated` (keeping `graceResponse`, which replaces
   * the family's previous one), insert the child, write `events`, and move the family to the
   * child's generation (binding it to `bindDpopJkt` when it had no key); else change nothing and
   * answer `conflict`.
   */
  rotate(input: RotateInput): Promise<RotateResult>;
  /**
   * Atomically ends an active family, revokes all its tokens and publishes a revocation notice
   * kept until `end.noticeUntil`; false when the family was not active.
   */
  revokeFamily(id: string, end: FamilyEnd): Promise<boolean>;
  /** Ends every active family of a user or of a client (one is required); returns the ids it ended. */
  revokeFamilies(filter: { userId?: string; clientId?: string }, end: FamilyEnd): Promise<string[]>;
  /**
   * Families matching the filter, newest first: by `createdAt` descending, then `id` descending
   * (`limit` defaults to 100, at most 10,000). `before` continues a page where the last one ended.
   */
  listFamilies(filter: FamilyFilter): Promise<FamilyRecord[]>;
  /** The lineage of a family, oldest first. */
  listTokens(familyId: string): Promise<RefreshTokenRecord[]>;
  /** How many families are active and not past their absolute expiry at `now` (the dashboard's tile). */
  countActiveFamilies(now: number): Promise<number>;
}
