import type { FamilyEnd, FamilyFilter, RotateResult, SessionStore } from '@tessera/server';
import { LIMITS } from '@tessera/server';
import type { Database, Queryable } from './database.js';
import { ROTATION_CONFLICT } from './migrations.js';
import {
  bytes,
  eventRows,
  FAMILY_COLUMNS,
  type FamilyRow,
  TOKEN_COLUMNS,
  type TokenRow,
  type TokenWithFamilyRow,
  toFamily,
  toJoinedFamily,
  toToken,
} from './rows.js';
import { whereOf } from './where.js';
import { insertEvents, publishNotice } from './writes.js';

/**
 * Families (`families`, which also holds each family's newest sealed grace answer) and refresh
 * tokens (`refresh_tokens`, keyed by family and generation). A rotation is one call of
 * `tessera_rotate` (one statement: one round trip, one transaction); revocations lock the family
 * row first, as a rotation does, so the two serialise on it and never deadlock.
 */
export function pgSessionStore(db: Database): SessionStore {
  const families = db.t('families');
  const tokens = db.t('refresh_tokens');
  const sql = {
    insertFamily: `INSERT INTO ${families} (id, client_id, user_id, scope, status, created_at, expires_at,
      generation, last_refresh_at, ended_at, end_reason, ended_by, end_note, user_agent, ip, dpop_jkt)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
    insertToken: `INSERT INTO ${tokens} (hash, family_id, generation, parent_hash, status, issued_at,
      expires_at, rotated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    // Newest first, within the family's key range: the current token is the first row read and the
    // grace period's parent the second; only an old ancestor (reuse) reads further back.
    findTokenAndFamily: `SELECT ${TOKEN_COLUMNS}, f.id AS f_id, f.client_id AS f_client_id, f.user_id AS f_user_id,
      f.scope AS f_scope, f.status AS f_status, f.created_at AS f_created_at, f.expires_at AS f_expires_at,
      f.generation AS f_generation, f.last_refresh_at AS f_last_refresh_at, f.ended_at AS f_ended_at,
      f.end_reason AS f_end_reason, f.ended_by AS f_ended_by, f.end_note AS f_end_note, f.user_agent AS f_user_agent, f.ip AS f_ip, f.dpop_jkt AS f_dpop_jkt,
      CASE WHEN f.grace_parent_hash = t.hash THEN f.grace_box END AS grace_response
      FROM ${tokens} t JOIN ${families} f ON f.id = t.family_id
      WHERE t.family_id = $1 AND t.hash = $2 ORDER BY t.generation DESC LIMIT 1`,
    findFamily: `SELECT ${FAMILY_COLUMNS} FROM ${families} WHERE id = $1`,
    rotate: `SELECT ${db.t('tessera_rotate')}($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13) AS rotated`,
    endFamily: `UPDATE ${families} SET status = 'revoked', ended_at = $2, end_reason = $3, ended_by = $4,
      end_note = $5, grace_parent_hash = NULL, grace_box = NULL WHERE id = $1 AND status = 'active'`,
    revokeFamilyTokens: `UPDATE ${tokens} SET status = 'revoked' WHERE family_id = $1 AND status != 'revoked'`,
    listTokens: `SELECT ${TOKEN_COLUMNS}, CASE WHEN f.grace_parent_hash = t.hash THEN f.grace_box END AS grace_response
      FROM ${tokens} t JOIN ${families} f ON f.id = t.family_id WHERE t.family_id = $1 ORDER BY t.generation`,
  };

  /** Ends one active family inside the caller's transaction; false when it was not active. */
  const endFamily = async (q: Queryable, id: string, end: FamilyEnd): Promise<boolean> => {
    const ended = await q.query(sql.endFamily, [id, end.now, end.reason, end.by ?? null, end.note ?? null]);
    if (ended.rowCount !== 1) return false;
    await q.query(sql.revokeFamilyTokens, [id]);
    await publishNotice(db, q, 'family', id, end.noticeUntil);
    return true;
  };

  return {
    async createFamily(f, t, events = []) {
      await db.transaction(async (q) => {
        await q.query(sql.insertFamily, [
          f.id,
          f.clientId,
          f.userId,
          f.scope,
          f.status,
          f.createdAt,
          f.expiresAt,
          f.generation,
          f.lastRefreshAt,
          f.endedAt,
          f.endReason,
          f.endedBy ?? null,
          f.endNote ?? null,
          f.userAgent,
          f.ip,
          f.dpopJkt ?? null,
        ]);
        await q.query(sql.insertToken, [
          t.hash,
          t.familyId,
          t.generation,
          t.parentHash,
          t.status,
          t.issuedAt,
          t.expiresAt,
          t.rotatedAt,
        ]);
        await insertEvents(db, q, events);
      });
    },

    async findToken(familyId, hash) {
      const [row] = await db.rows<TokenWithFamilyRow>(sql.findTokenAndFamily, [familyId, hash]);
      return row ? { token: toToken(row), family: toJoinedFamily(row) } : null;
    },

    async findFamily(id) {
      const [row] = await db.rows<FamilyRow>(sql.findFamily, [id]);
      return row ? toFamily(row) : null;
    },

    async rotate(input): Promise<RotateResult> {
      const { child } = input;
      try {
        const [row] = await db.rows<{ rotated: boolean }>(sql.rotate, [
          child.familyId,
          input.parentHash,
          input.parentGeneration,
          input.now,
          bytes(input.graceResponse),
          child.hash,
          child.generation,
          child.status,
          child.issuedAt,
          child.expiresAt,
          child.rotatedAt,
          input.events?.length ? eventRows(input.events) : null,
          // The function's last argument once bound a family on rotation; sessions are bound at
          // sign-in only, so it is always null.
          null,
        ]);
        return { outcome: row?.rotated ? 'rotated' : 'conflict' };
      } catch (err) {
        // The family moved but not this parent: the statement was undone; the caller reads again.
        if ((err as { code?: string }).code === ROTATION_CONFLICT) return { outcome: 'conflict' };
        throw err;
      }
    },

    async revokeFamily(id, end) {
      return db.transaction((q) => endFamily(q, id, end));
    },

    async revokeFamilies(filter, end) {
      if (filter.userId === undefined && filter.clientId === undefined) {
        throw new Error('revokeFamilies needs a userId or a clientId');
      }
      return db.transaction(async (q) => {
        const { where, args } = familyWhere({ ...filter, status: 'active' });
        // Locked in id order, so two bulk revocations that overlap never deadlock.
        const { rows } = await q.query<{ id: string }>(
          `SELECT id FROM ${families} ${where} ORDER BY id FOR UPDATE`,
          args,
        );
        const ended: string[] = [];
        for (const { id } of rows) if (await endFamily(q, id, end)) ended.push(id);
        return ended;
      });
    },

    async listFamilies(filter) {
      const { where, args } = familyWhere(filter);
      const limit = Math.min(Math.max(filter.limit ?? LIMITS.listDefault, 1), LIMITS.listMax);
      const rows = await db.rows<FamilyRow>(
        `SELECT ${FAMILY_COLUMNS} FROM ${families} ${where} ORDER BY created_at DESC, id DESC LIMIT $${args.length + 1}`,
        [...args, limit],
      );
      return rows.map(toFamily);
    },

    async listTokens(familyId) {
      return (await db.rows<TokenRow>(sql.listTokens, [familyId])).map(toToken);
    },

    async countActiveFamilies(now) {
      const rows = await db.rows<{ n: string }>(
        `SELECT count(*) AS n FROM ${db.t('families')} WHERE status = 'active' AND expires_at > $1`,
        [now],
      );
      return Number(rows[0]?.n ?? 0);
    },
  };
}

/** The WHERE clause (and its arguments) selecting families by user, client and status. */
function familyWhere(filter: Omit<FamilyFilter, 'limit'>) {
  const { where, args } = whereOf([
    ['user_id', filter.userId],
    ['client_id', filter.clientId],
    ['status', filter.status],
  ]);
  const extra: string[] = [];
  const all: (string | number)[] = [...args];
  if (filter.createdAfter !== undefined) {
    all.push(filter.createdAfter);
    extra.push(`created_at >= $${all.length}`);
  }
  if (filter.before !== undefined) {
    // Keyset: a row comparison the (…, created_at DESC, id DESC) indexes serve as a range.
    all.push(filter.before.createdAt, filter.before.id);
    extra.push(`(created_at, id) < ($${all.length - 1}, $${all.length})`);
  }
  if (extra.length === 0) return { where, args };
  return {
    where: where === '' ? `WHERE ${extra.join(' AND ')}` : `${where} AND ${extra.join(' AND ')}`,
    args: all,
  };
}
