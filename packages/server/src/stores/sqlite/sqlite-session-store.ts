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
import {
  FAMILY_COLUMNS,
  type FamilyRow,
  type TokenRow,
  type TokenWithFamilyRow,
  toFamily,
  toJoinedFamily,
  toToken,
} from './rows.js';
import type { InsertEvent } from './sqlite-event-store.js';
import type { PublishNotice } from './sqlite-revocation-feed-store.js';
import { StatementCache, whereOf } from './statement-cache.js';
import type { WriteQueue } from './write-queue.js';

/** The parent was rotated under us between the family's update and the parent's: undo the savepoint. */
class RotationConflict extends Error {}

/**
 * Families (`families`, which also holds each family's newest sealed grace answer) and refresh
 * tokens (`refresh_tokens`, keyed by family and generation). Rotations go through the group
 * commit (`queue`); the other writes run in transactions of their own.
 */
export function sqliteSessionStore(
  db: Database.Database,
  queue: WriteQueue,
  insertEvent: InsertEvent,
  publish: PublishNotice,
): SessionStore {
  const s = {
    insertFamily: db.prepare(`INSERT INTO families (id, client_id, user_id, scope, status, created_at,
      expires_at, generation, last_refresh_at, ended_at, end_reason, ended_by, end_note, user_agent, ip,
      dpop_jkt) VALUES (@id, @clientId, @userId, @scope, @status, @createdAt, @expiresAt, @generation,
      @lastRefreshAt, @endedAt, @endReason, @endedBy, @endNote, @userAgent, @ip, @dpopJkt)`),
    insertToken: db.prepare(`INSERT INTO refresh_tokens (hash, family_id, generation, parent_hash, status,
      issued_at, expires_at, rotated_at) VALUES (@hash, @familyId, @generation, @parentHash, @status,
      @issuedAt, @expiresAt, @rotatedAt)`),
    // Newest first, within the family's key range: the current token is the first row read and the
    // grace period's parent the second; only an old ancestor (reuse) reads further back.
    findTokenAndFamily: db.prepare(`SELECT t.*, f.id AS f_id, f.client_id AS f_client_id,
      f.user_id AS f_user_id, f.scope AS f_scope, f.status AS f_status, f.created_at AS f_created_at,
      f.expires_at AS f_expires_at, f.generation AS f_generation, f.last_refresh_at AS f_last_refresh_at,
      f.ended_at AS f_ended_at, f.end_reason AS f_end_reason, f.ended_by AS f_ended_by,
      f.end_note AS f_end_note, f.user_agent AS f_user_agent, f.ip AS f_ip, f.dpop_jkt AS f_dpop_jkt,
      CASE WHEN f.grace_parent_hash = t.hash THEN f.grace_box END AS grace_response
      FROM refresh_tokens t JOIN families f ON f.id = t.family_id
      WHERE t.family_id = @familyId AND t.hash = @hash ORDER BY t.generation DESC LIMIT 1`),
    findFamily: db.prepare(`SELECT ${FAMILY_COLUMNS} FROM families WHERE id = ?`),
    // By primary key (the parent's family and generation), and only if it is that very token.
    markRotated: db.prepare(`UPDATE refresh_tokens SET status = 'rotated', rotated_at = @now
      WHERE family_id = @familyId AND generation = @generation AND hash = @hash AND status = 'active'`),
    // The new sealed answer replaces the family's previous one: only the newest is ever kept.
    advanceFamily: db.prepare(`UPDATE families SET generation = @generation, last_refresh_at = @now,
      grace_parent_hash = @parentHash, grace_box = @grace, dpop_jkt = COALESCE(dpop_jkt, @bindDpopJkt)
      WHERE id = @id AND status = 'active' AND generation = @expected`),
    endFamily: db.prepare(`UPDATE families SET status = 'revoked', ended_at = @now, end_reason = @reason,
      ended_by = @by, end_note = @note, grace_parent_hash = NULL, grace_box = NULL WHERE id = @id AND status = 'active'`),
    revokeFamilyTokens: db.prepare(
      `UPDATE refresh_tokens SET status = 'revoked' WHERE family_id = ? AND status != 'revoked'`,
    ),
    listTokens: db.prepare(`SELECT t.*,
      CASE WHEN f.grace_parent_hash = t.hash THEN f.grace_box END AS grace_response FROM refresh_tokens t
      JOIN families f ON f.id = t.family_id WHERE t.family_id = ? ORDER BY t.generation`),
  };
  const queries = new StatementCache(db);

  const createFamily = db.transaction(
    (family: FamilyRecord, token: RefreshTokenRecord, events: EventInput[]) => {
      s.insertFamily.run({ ...family, dpopJkt: family.dpopJkt ?? null });
      s.insertToken.run(token);
      for (const e of events) insertEvent(e);
    },
  );

  // One rotation, in its own savepoint: inside the group commit's transaction this nested
  // better-sqlite3 transaction is a SAVEPOINT, so a conflict or an error undoes this rotation only.
  const rotateOne = db.transaction((input: RotateInput): RotateResult => {
    const { child, now } = input;
    const advanced = s.advanceFamily.run({
      id: child.familyId,
      generation: child.generation,
      now,
      expected: input.parentGeneration,
      parentHash: input.parentHash,
      grace: input.graceResponse,
      bindDpopJkt: input.bindDpopJkt ?? null,
    });
    if (advanced.changes !== 1) return { outcome: 'conflict' };
    const marked = s.markRotated.run({
      familyId: child.familyId,
      generation: input.parentGeneration,
      hash: input.parentHash,
      now,
    });
    if (marked.changes !== 1) throw new RotationConflict();
    s.insertToken.run(child);
    for (const e of input.events ?? []) insertEvent(e);
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
    s.revokeFamilyTokens.run(id);
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
      const row = s.findTokenAndFamily.get({ familyId, hash }) as TokenWithFamilyRow | undefined;
      return row ? { token: toToken(row), family: toJoinedFamily(row) } : null;
    },

    async findFamily(id) {
      const row = s.findFamily.get(id) as FamilyRow | undefined;
      return row ? toFamily(row) : null;
    },

    // Through the group commit: see write-queue.ts.
    rotate(input) {
      return queue.enqueue((): RotateResult => {
        try {
          return rotateOne(input);
        } catch (err) {
          // The parent was rotated under us: its savepoint is rolled back; the caller reads again.
          if (err instanceof RotationConflict) return { outcome: 'conflict' };
          throw err;
        }
      });
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
      const sql = `SELECT ${FAMILY_COLUMNS} FROM families ${where} ORDER BY created_at DESC, rowid DESC LIMIT ?`;
      return (queries.get(sql).all(...args, limit) as FamilyRow[]).map(toFamily);
    },

    async listTokens(familyId) {
      return (s.listTokens.all(familyId) as TokenRow[]).map(toToken);
    },
  };
}

/** The WHERE clause (and its arguments) selecting families by user, client and status. */
function familyWhere(filter: Omit<FamilyFilter, 'limit'>) {
  return whereOf([
    ['user_id = ?', filter.userId],
    ['client_id = ?', filter.clientId],
    ['status = ?', filter.status],
  ]);
}
