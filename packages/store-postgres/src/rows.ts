import type {
  EventInput,
  EventStore,
  FamilyRecord,
  KeyRecord,
  RefreshTokenRecord,
  RevocationRecord,
} from '@tessera/server';

type LifecycleEvent = Awaited<ReturnType<EventStore['list']>>[number];

// Rows as PostgreSQL returns them (snake_case; `bigint` read as a number, see the pool's type
// parser), and their mappers to the ports' records.

/** A family's columns without its sealed grace answer (read only with the token it belongs to). */
export const FAMILY_COLUMNS = `id, client_id, user_id, scope, status, created_at, expires_at, generation,
  last_refresh_at, ended_at, end_reason, ended_by, end_note, user_agent, ip, dpop_jkt`;

/** A refresh token's columns, as read joined with its family (`t`). */
export const TOKEN_COLUMNS =
  't.hash, t.family_id, t.generation, t.parent_hash, t.status, t.issued_at, t.expires_at, t.rotated_at';

/** A signing key's columns (`KeyRow`). */
export const KEY_COLUMNS =
  'kid, alg, state, public_jwk, private_jwk_sealed, created_at, activated_at, retired_at';

/** An event's columns (`EventRow`). */
export const EVENT_COLUMNS = 'id, at, type, family_id, user_id, client_id, reason, data';

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

export interface TokenRow {
  hash: string;
  family_id: string;
  generation: number;
  parent_hash: string | null;
  status: RefreshTokenRecord['status'];
  issued_at: number;
  expires_at: number;
  rotated_at: number | null;
  /** Selected from the family's row, and only for the token the sealed answer was made for. */
  grace_response: Buffer | null;
}

/** A token row joined with its family's columns, each prefixed `f_`. */
export type TokenWithFamilyRow = TokenRow & { [K in keyof FamilyRow as `f_${K}`]: FamilyRow[K] };

export interface KeyRow {
  kid: string;
  alg: string;
  state: KeyRecord['state'];
  public_jwk: string;
  private_jwk_sealed: Buffer;
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

/** The family half of a joined row. */
export const toJoinedFamily = (r: TokenWithFamilyRow): FamilyRecord => ({
  id: r.f_id,
  clientId: r.f_client_id,
  userId: r.f_user_id,
  scope: r.f_scope,
  status: r.f_status,
  createdAt: r.f_created_at,
  expiresAt: r.f_expires_at,
  generation: r.f_generation,
  lastRefreshAt: r.f_last_refresh_at,
  endedAt: r.f_ended_at,
  endReason: r.f_end_reason,
  endedBy: r.f_ended_by,
  endNote: r.f_end_note,
  userAgent: r.f_user_agent,
  ip: r.f_ip,
  dpopJkt: r.f_dpop_jkt,
});

export const toToken = (r: TokenRow): RefreshTokenRecord => ({
  hash: r.hash,
  familyId: r.family_id,
  generation: r.generation,
  parentHash: r.parent_hash,
  status: r.status,
  issuedAt: r.issued_at,
  expiresAt: r.expires_at,
  rotatedAt: r.rotated_at,
  graceResponse: r.grace_response === null ? null : new Uint8Array(r.grace_response),
});

export const toKey = (r: KeyRow): KeyRecord => ({
  kid: r.kid,
  alg: r.alg,
  state: r.state,
  publicJwk: JSON.parse(r.public_jwk),
  privateJwkSealed: new Uint8Array(r.private_jwk_sealed),
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

/** Events as the rotation function and the bulk insert read them: a JSON array of rows. */
export function eventRows(events: readonly EventInput[]): string {
  return JSON.stringify(
    events.map((e) => ({
      at: e.at,
      type: e.type,
      family_id: e.familyId ?? null,
      user_id: e.userId ?? null,
      client_id: e.clientId ?? null,
      reason: e.reason ?? null,
      data: e.data ? JSON.stringify(e.data) : null,
    })),
  );
}

/** Bytes for a `bytea` parameter (`pg` writes a Buffer as binary, any other view as text). */
export const bytes = (value: Uint8Array | null): Buffer | null =>
  value === null ? null : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
