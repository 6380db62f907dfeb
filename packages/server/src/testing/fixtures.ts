import type { FamilyRecord, RefreshTokenRecord, SessionStore } from '../ports/index.js';

/** The suites' "now": far from the epoch and from the machine's clock (stores must take `now` as given). */
export const T0 = 1_800_000_000_000;

let n = 0;
/** A value no other run uses, so suites can share a backend (a database, a Redis) with others. */
export function uniqueId(prefix: string): string {
  return `${prefix}-${++n}-${Math.random().toString(36).slice(2, 8)}`;
}

export function newFamily(over: Partial<FamilyRecord> = {}): FamilyRecord {
  return {
    id: uniqueId('fam'),
    clientId: 'web',
    userId: 'user-1',
    scope: 'openid',
    status: 'active',
    createdAt: T0,
    expiresAt: T0 + 30 * 86_400_000,
    generation: 0,
    lastRefreshAt: null,
    endedAt: null,
    endReason: null,
    endedBy: null,
    endNote: null,
    userAgent: 'test',
    ip: '127.0.0.1',
    dpopJkt: null,
    ...over,
  };
}

export function newToken(f: FamilyRecord, over: Partial<RefreshTokenRecord> = {}): RefreshTokenRecord {
  return {
    hash: uniqueId('hash'),
    familyId: f.id,
    generation: 0,
    parentHash: null,
    status: 'active',
    issuedAt: T0,
    expiresAt: T0 + 14 * 86_400_000,
    rotatedAt: null,
    graceResponse: null,
    ...over,
  };
}

/** The next generation after `parent`. */
export function childOf(f: FamilyRecord, parent: RefreshTokenRecord): RefreshTokenRecord {
  return newToken(f, { generation: parent.generation + 1, parentHash: parent.hash, issuedAt: T0 + 1000 });
}

/** A new family with its first token, created in `sessions`. */
export async function seeded(sessions: SessionStore): Promise<{ f: FamilyRecord; t: RefreshTokenRecord }> {
  const f = newFamily();
  const t = newToken(f);
  await sessions.createFamily(f, t);
  return { f, t };
}
