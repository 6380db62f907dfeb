import type { LifecycleEvent } from '@tessera/protocol';
import type { FamilyRecord, KeyRecord, RevocationRecord } from '../../ports/index.js';

// Rows as SQLite returns them (snake_case columns), and their mappers to the ports' records.

/** A family's columns without its sealed grace answer (read only with the token it belongs to). */
export const FAMILY_COLUMNS = `id, client_id, user_id, scope, status, created_at, expires_at, generation,
  last_refresh_at, ended_at, end_reason, ended_by, end_note, user_agent, ip, dpop_jkt`;

export interface FamilyRow {
  id: string;
  client_id: string;
  user_id: string;
  scope: string;
  status: FamilyRecord['status'];
  created_at: number;
  expires_at: number;
  generation: number;
  last_refresh_at: number | null;
  ended_at: number | null;
  end_reason: FamilyRecord['endReason'];
  ended_by: string | null;
  end_note: string | null;
  user_agent: string | null;
  ip: string | null;
  dpop_jkt: string | null;
}

export interface KeyRow {
  kid: string;
  alg: string;
  state: KeyRecord['state'];
  public_jwk: string;
  private_jwk_sealed: Uint8Array;
  created_at: number;
  activated_at: number | null;
  retired_at: number | null;
}

export interface EventRow {
  id: number;
  at: number;
  type: LifecycleEvent['type'];
  family_id: string | null;
  user_id: string | null;
  client_id: string | null;
  reason: string | null;
  data: string | null;
}

export interface RevocationRow {
  seq: number;
  kind: RevocationRecord['kind'];
  value: string;
  expires_at: number;
}

export const toFamily = (r: FamilyRow): FamilyRecord => ({
  id: r.id,
  clientId: r.client_id,
  userId: r.user_id,
  scope: r.scope,
  status: r.status,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  generation: r.generation,
  lastRefreshAt: r.last_refresh_at,
  endedAt: r.ended_at,
  endReason: r.end_reason,
  endedBy: r.ended_by,
  endNote: r.end_note,
  userAgent: r.user_agent,
  ip: r.ip,
  dpopJkt: r.dpop_jkt,
});

export const toKey = (r: KeyRow): KeyRecord => ({
  kid: r.kid,
  alg: r.alg,
  state: r.state,
  publicJwk: JSON.parse(r.public_jwk),
  privateJwkSealed: r.private_jwk_sealed,
  createdAt: r.created_at,
  activatedAt: r.activated_at,
  retiredAt: r.retired_at,
});

export const toEvent = (r: EventRow): LifecycleEvent => ({
  id: r.id,
  at: r.at,
  type: r.type,
  familyId: r.family_id,
  userId: r.user_id,
  clientId: r.client_id,
  reason: r.reason,
  ...(r.data ? { data: JSON.parse(r.data) as Record<string, unknown> } : {}),
});

export const toRevocation = (r: RevocationRow): RevocationRecord => ({
  seq: r.seq,
  kind: r.kind,
  value: r.value,
  expiresAt: r.expires_at,
});

/** Users and clients are stored as JSON documents beside the columns they are looked up by. */
export interface DocumentRow {
  data: string;
}
