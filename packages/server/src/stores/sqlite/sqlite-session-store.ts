import type Database from 'better-sqlite3';
import { LIMITS } from '../../config/limits.js';
import type {
  EventInput,
  FamilyEnd,
  FamilyFilter,
  FamilyRecord,
  RefreshTokenRecord,
  RotateInput,
  RotateResult,
  SessionStore,
} from '../../ports/index.js';
import { FAMILY_COLUMNS, type FamilyRow, toFamily } from './rows.js';
import type { InsertEvent } from './sqlite-event-store.js';
import type { PublishNotice } from './sqlite-revocation-feed-store.js';
import { StatementCache, whereOf } from './statement-cache.js';
import type { WriteQueue } from './write-queue.js';

/**
 * Bytes reserved for the sealed grace answer when a family is created (a zeroed blob, never read:
 * the answer is only read for `grace_parent_hash`, which is NULL until the first rotation). A JWT
 * rotation's sealed answer is ~600–900 bytes, so the first rotation overwrites the reservation in
 * place instead of growing the row, which could split its page.
 */
export const GRACE_BOX_RESERVE_BYTES = 1024;

/** A family row as the session store reads it: its columns and its current token's. */
interface FamilyStateRow extends FamilyRow {
  token_hash: string | null;
  token_parent_hash: string | null;
  token_issued_at: number | null;
  token_expires_at: number | null;
  grace_parent_hash: string | null;
  /** Only when the hash asked for is the grace parent's. */
  grace_response: Uint8Array | null;
}

/** A lineage row (`lineage`), with its rotation time derived from its child. */
interface LineageRow {
  seq: number;
  family_id: string;
  generation: number;
  hash: string;
  parent_hash: string | null;
  issued_at: number;
  expires_at: number;
  rotated_at: number | null;
}

const STATE_COLUMNS = `${FAMILY_COLUMNS}, token_hash, token_parent_hash, token_issued_at, token_expires_at,
  grace_parent_hash`;

/** `findState`'s columns, in the order of its SELECT (checked when the statement is prepared). */
const STATE_ORDER = [
  'id',
  'client_id',
  'user_id',
  'scope',
  'status',
  'created_at',
  'expires_at',
  'generation',
  'last_refresh_at',
  'ended_at',
  'end_reason',
  'ended_by',
  'end_note',
  'user_agent',
  'ip',
  'dpop_jkt',
  'token_hash',
  'token_parent_hash',
  'token_issued_at',
  'token_expires_at',
  'grace_parent_hash',
  'grace_response',
] as const satisfies readonly (keyof FamilyStateRow)[];

/**
 * A family-state row read as an array (`raw`), made into its object here: better-sqlite3 sets a
 * row object's properties one by one in native code, which cost more than the read itself (about
 * 24 µs against 13 for this 22-column row, on every refresh).
 */
function toStateRow(r: unknown[]): FamilyStateRow {
  return {
    id: r[0],
    client_id: r[1],
    user_id: r[2],
    scope: r[3],
    status: r[4],
    created_at: r[5],
    expires_at: r[6],
    generation: r[7],
    last_refresh_at: r[8],
    ended_at: r[9],
    end_reason: r[10],
    ended_by: r[11],
    end_note: r[12],
    user_agent: r[13],
    ip: r[14],
    dpop_jkt: r[15],
    token_hash: r[16],
    token_parent_hash: r[17],
    token_issued_at: r[18],
    token_expires_at: r[19],
    grace_parent_hash: r[20],
    grace_response: r[21],
  } as FamilyStateRow;
}

/** `statement`'s result columns are `names`, in that order (a raw reader depends on it). */
function expectColumns(statement: Database.Statement, names: readonly string[]): void {
  const actual = statement.columns().map((c) => c.name);
  if (actual.join() !== names.join()) {
    throw new Error(`findState reads ${actual.join(', ')}, not ${names.join(', ')}`);
  }
}

/** A family's chain of tokens from its head back, by primary key, each with the time its child was made. */
const CHAIN = `WITH RECURSIVE chain (seq, rotated_at) AS (
    SELECT lineage_head, NULL FROM families WHERE id = @familyId
    UNION ALL
    SELECT l.prev_seq, l.parent_rotated_at FROM chain c JOIN lineage l ON l.seq = c.seq
    WHERE l.prev_seq IS NOT NULL)`;

/**
 * Families (`families`: one row per session, which also holds what a rotation changes: the current
 * token, the generation, the grace parent and its sealed answer) and the lineage of every token
 * issued (`lineage`, append-only, a chain per family). A rotation writes its family's row and
 * appends one lineage row (the last page, shared by the rotations of a group commit): one random
 * page. Rotations go through the group commit (`queue`); the other writes run in transactions of
 * their own.
 *
 * Token records are derived: the family's current token is `active` (the newest lineage row), an
 * older one `rotated` (at the time its child records), every one `revoked` once the family is. A
 * token of a live family that is neither the current one nor the grace parent is, by the tag that
 * names its family, an ancestor: `findToken` walks the chain for it (reuse is rare), and a pruned
 * one is simply not found (the domain then treats it as reuse too).
 */
export function sqliteSessionStore(
  db: Database.Database,
  queue: WriteQueue,
  insertEvent: InsertEvent,
  publish: PublishNotice,
  /** Copies an ended family's event chain into the event index (`EventIndex.flushEnded`). */
  chainEnded: (familyId: string) => void,
): SessionStore {
  const s = {
    insertFamily: db.prepare(`INSERT INTO families (id, client_id, user_id, scope, status, created_at,
      expires_at, generation, last_refresh_at, ended_at, end_reason, ended_by, end_note, user_agent, ip, dpop_jkt,
      token_hash,
      token_parent_hash, token_issued_at, token_expires_at, lineage_head, grace_parent_hash, grace_box)
      VALUES (@id, @clientId, @userId, @scope, @status, @createdAt, @expiresAt, @generation,
      @lastRefreshAt, @endedAt, @endReason, @endedBy, @endNote, @userAgent, @ip,
      @dpopJkt, @tokenHash, @tokenParentHash, @tokenIssuedAt,
      @tokenExpiresAt, @head, NULL, zeroblob(${GRACE_BOX_RESERVE_BYTES}))`),
    insertFirst: db.prepare(`INSERT INTO lineage (family_id, generation, hash, parent_hash, prev_seq,
      issued_at, expires_at, parent_rotated_at)
      VALUES (@familyId, @generation, @hash, @parentHash, NULL, @issuedAt, @expiresAt, NULL)`),
    // The family row: one page, read by primary key; the sealed answer only for its grace parent.
    findState: db
      .prepare(`SELECT ${STATE_COLUMNS},
      CASE WHEN grace_parent_hash = @hash THEN grace_box END AS grace_response
      FROM families WHERE id = @familyId`)
      .raw(true),
    findFamily: db.prepare(`SELECT ${FAMILY_COLUMNS} FROM families WHERE id = ?`),
    // An older token of the family, found along its chain (reuse and the grace path only). CROSS
    // JOIN keeps the chain the outer loop: by the hash alone the planner would scan the lineage.
    findInChain: db.prepare(`${CHAIN}
      SELECT l.seq, l.family_id, l.generation, l.hash, l.parent_hash, l.issued_at, l.expires_at, c.rotated_at
      FROM chain c CROSS JOIN lineage l ON l.seq = c.seq WHERE l.hash = @hash LIMIT 1`),
    listChain: db.prepare(`${CHAIN}
      SELECT l.seq, l.family_id, l.generation, l.hash, l.parent_hash, l.issued_at, l.expires_at, c.rotated_at
      FROM chain c CROSS JOIN lineage l ON l.seq = c.seq ORDER BY l.generation`),
    // The child, appended after the family's head, if and only if the parent is still current in
    // an active family: the conflict check and the insert in one statement.
    // The two statements of every rotation take positional parameters (in the order of their
    // `?`s, see `rotateOne`): better-sqlite3 binds them about twice as fast as named ones.
    // The family's id and parent hash are the row's own: the WHERE clause has just matched them.
    appendChild: db.prepare(`INSERT INTO lineage (family_id, generation, hash, parent_hash, prev_seq,
      issued_at, expires_at, parent_rotated_at)
      SELECT id, ?, ?, token_hash, lineage_head, ?, ?, ?
      FROM families WHERE id = ? AND status = 'active' AND generation = ? AND token_hash = ?`),
    // The new sealed answer replaces the family's previous one: only the newest is ever kept.
    // The rotation's chained events move the family's chain head (see `appendChained`).
    advanceFamily: db.prepare(`UPDATE families SET generation = ?, last_refresh_at = ?,
      grace_parent_hash = ?, grace_box = ?, token_hash = ?, token_parent_hash = ?,
      token_issued_at = ?, token_expires_at = ?, lineage_head = ?,
      chain_head = COALESCE(?, chain_head), chain_pending = chain_pending + ?
      WHERE id = ?`),
    // A rotation's event about its own family, chained to the family's previous one instead of
    // indexed (`sqlite-event-index.ts`): `family_prev` is the given previous event (a second event
    // of the same rotation), else the family's chain head, else 0 (the first).
    appendChained: db.prepare(`INSERT INTO events (at, type, family_id, user_id, client_id, reason, data,
      family_prev) VALUES (?, ?, ?, ?, ?, ?, ?, COALESCE(?, (SELECT chain_head FROM families WHERE id = ?), 0))`),
    endFamily: db.prepare(`UPDATE families SET status = 'revoked', ended_at = @now, end_reason = @reason,
      ended_by = @by, end_note = @note, grace_parent_hash = NULL, grace_box = NULL WHERE id = @id AND status = 'active'`),
  };
  expectColumns(s.findState, STATE_ORDER);
  const readState = (familyId: string, hash: string | null): FamilyStateRow | undefined => {
    const row = s.findState.get({ familyId, hash }) as unknown[] | undefined;
    return row && toStateRow(row);
  };
  const queries = new StatementCache(db);
  // families_status_expiry: a count over the index alone.
  const countActive = db
    .prepare("SELECT COUNT(*) FROM families WHERE status = 'active' AND expires_at > ?")
    .pluck();

  const createFamily = db.transaction(
    (family: FamilyRecord, token: RefreshTokenRecord, events: EventInput[]) => {
      const head = s.insertFirst.run(token).lastInsertRowid;
      s.insertFamily.run({
        ...family,
        dpopJkt: family.dpopJkt ?? null,
        endedBy: family.endedBy ?? null,
        endNote: family.endNote ?? null,
        tokenHash: token.hash,
        tokenParentHash: token.parentHash,
        tokenIssuedAt: token.issuedAt,
        tokenExpiresAt: token.expiresAt,
        head,
      });
      for (const e of events) insertEvent(e);
    },
  );

  // One rotation, in its own savepoint: inside the group commit's transaction this nested
  // better-sqlite3 transaction is a SAVEPOINT, so an error undoes this rotation only.
  const rotateOne = db.transaction((input: RotateInput): RotateResult => {
    const { child, now } = input;
    if (child.status !== 'active') throw new Error(`a rotation's child must be active, not ${child.status}`);
    const appended = s.appendChild.run(
      // generation, hash, issued_at, expires_at, parent_rotated_at
      child.generation,
      child.hash,
      child.issuedAt,
      child.expiresAt,
      now,
      // WHERE: the family, the generation and the current token the caller read
      child.familyId,
      input.parentGeneration,
      input.parentHash,
    );
    if (appended.changes !== 1) return { outcome: 'conflict' };
    // The events first: a chained one needs the chain head the family row still holds.
    let head: number | null = null;
    let chained = 0;
    for (const e of input.events ?? []) {
      if (e.familyId !== child.familyId) {
        insertEvent(e);
        continue;
      }
      head = Number(
        s.appendChained.run(
          e.at,
          e.type,
          e.familyId,
          e.userId ?? null,
          e.clientId ?? null,
          e.reason ?? null,
          e.data ? JSON.stringify(e.data) : null,
          head, // the previous event of this rotation, if any
          child.familyId,
        ).lastInsertRowid,
      );
      chained++;
    }
    s.advanceFamily.run(
      child.generation,
      now, // last_refresh_at
      input.parentHash, // grace_parent_hash
      input.graceResponse, // grace_box
      child.hash, // token_hash
      input.parentHash, // token_parent_hash
      child.issuedAt,
      child.expiresAt,
      appended.lastInsertRowid, // lineage_head
      head, // chain_head (unchanged when NULL)
      chained, // added to chain_pending
      child.familyId, // WHERE id
    );
    return { outcome: 'rotated' };
  });

  const endFamily = (id: string, end: FamilyEnd): boolean => {
    const ended = s.endFamily.run({
      id,
      now: end.now,
      reason: end.reason,
      by: end.by ?? null,
      note: end.note ?? null,
    });
    if (ended.changes !== 1) return false;
    chainEnded(id);
    // Its tokens are revoked with it: a token's status follows its family's.
    publish('family', id, end.noticeUntil);
    return true;
  };
  const revokeOne = db.transaction(endFamily);
  const revokeMany = db.transaction((filter: { userId?: string; clientId?: string }, end: FamilyEnd) => {
    if (filter.userId === undefined && filter.clientId === undefined) {
      throw new Error('revokeFamilies needs a userId or a clientId');
    }
    const { where, args } = familyWhere({ ...filter, status: 'active' });
    const ids = (queries.get(`SELECT id FROM families ${where}`).all(...args) as { id: string }[]).map(
      (r) => r.id,
    );
    return ids.filter((id) => endFamily(id, end));
  });

  return {
    async createFamily(family, token, events = []) {
      createFamily.immediate(family, token, events);
    },

    async findToken(familyId, hash) {
      const row = readState(familyId, hash);
      if (!row) return null;
      const family = toFamily(row);
      const revoked = row.status === 'revoked';
      if (row.token_hash === hash && row.token_issued_at !== null && row.token_expires_at !== null) {
        return {
          family,
          token: {
            hash,
            familyId,
            generation: row.generation,
            parentHash: row.token_parent_hash,
            status: revoked ? 'revoked' : 'active',
            issuedAt: row.token_issued_at,
            expiresAt: row.token_expires_at,
            rotatedAt: null,
            graceResponse: null,
          },
        };
      }
      const older = s.findInChain.get({ familyId, hash }) as LineageRow | undefined;
      if (!older || older.generation >= row.generation) return null;
      return {
        family,
        token: {
          ...lineageToken(older, revoked),
          graceResponse: row.grace_parent_hash === hash ? row.grace_response : null,
        },
      };
    },

    async findFamily(id) {
      const row = s.findFamily.get(id) as FamilyRow | undefined;
      return row ? toFamily(row) : null;
    },

    // Through the group commit: see write-queue.ts.
    rotate(input) {
      return queue.enqueue((): RotateResult => rotateOne(input));
    },

    async revokeFamily(id, end) {
      return revokeOne.immediate(id, end);
    },

    async revokeFamilies(filter, end) {
      return revokeMany.immediate(filter, end);
    },

    async listFamilies(filter) {
      const { where, args } = familyWhere(filter);
      const limit = Math.min(Math.max(filter.limit ?? LIMITS.listDefault, 1), LIMITS.listMax);
      const sql = `SELECT ${FAMILY_COLUMNS} FROM families ${where} ORDER BY created_at DESC, id DESC LIMIT ?`;
      return (queries.get(sql).all(...args, limit) as FamilyRow[]).map(toFamily);
    },

    async countActiveFamilies(now) {
      return countActive.get(now) as number;
    },

    async listTokens(familyId) {
      const state = readState(familyId, null);
      if (!state) return [];
      const revoked = state.status === 'revoked';
      const rows = s.listChain.all({ familyId }) as LineageRow[];
      const grace =
        state.grace_parent_hash === null
          ? null
          : (readState(familyId, state.grace_parent_hash)?.grace_response ?? null);
      return rows
        .filter((r) => r.generation <= state.generation)
        .map((r) => {
          if (r.generation === state.generation && r.hash === state.token_hash) {
            return { ...lineageToken(r, revoked), status: revoked ? 'revoked' : 'active', rotatedAt: null };
          }
          return {
            ...lineageToken(r, revoked),
            graceResponse: r.hash === state.grace_parent_hash ? grace : null,
          };
        });
    },
  };
}

/** A lineage row as a token record: rotated (or revoked with its family). */
function lineageToken(r: LineageRow, revoked: boolean): RefreshTokenRecord {
  return {
    hash: r.hash,
    familyId: r.family_id,
    generation: r.generation,
    parentHash: r.parent_hash,
    status: revoked ? 'revoked' : 'rotated',
    issuedAt: r.issued_at,
    expiresAt: r.expires_at,
    rotatedAt: r.rotated_at,
    graceResponse: null,
  };
}

/** The WHERE clause (and its arguments) selecting families by user, client and status. */
function familyWhere(filter: Omit<FamilyFilter, 'limit'>) {
  const { where, args } = whereOf([
    ['user_id = ?', filter.userId],
    ['client_id = ?', filter.clientId],
    ['status = ?', filter.status],
    ['created_at >= ?', filter.createdAfter],
  ]);
  if (filter.before === undefined) return { where, args };
  // Keyset: a row value comparison, which the (…, created_at, id) indexes serve as a range.
  const keyset = '(created_at, id) < (?, ?)';
  return {
    where: where === '' ? `WHERE ${keyset}` : `${where} AND ${keyset}`,
    args: [...args, filter.before.createdAt, filter.before.id],
  };
}
