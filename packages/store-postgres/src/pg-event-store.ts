import { type EventStore, LIMITS } from '@tessera/server';
import type { Database } from './database.js';
import { EVENT_COLUMNS, type EventRow, toEvent } from './rows.js';
import { whereOf } from './where.js';
import { insertEvents } from './writes.js';

/** The lifecycle record in the `events` table; ids come from an identity column, ascending. */
export function pgEventStore(db: Database): EventStore {
  return {
    async append(events) {
      await insertEvents(db, db.pool, events);
    },
    async lastEventId() {
      const rows = await db.rows<{ id: string | number | null }>(
        `SELECT max(id) AS id FROM ${db.t('events')}`,
      );
      return Number(rows[0]?.id ?? 0);
    },
    async pruneEvents(input) {
      // The oldest `limit` by id, those older than `before` among them: one bounded batch.
      const rows = await db.rows<{ n: string | number }>(
        `WITH gone AS (DELETE FROM ${db.t('events')} WHERE id IN (
           SELECT id FROM (SELECT id, at FROM ${db.t('events')} ORDER BY id LIMIT $2) oldest WHERE at < $1)
         RETURNING 1) SELECT count(*) AS n FROM gone`,
        [input.before, Math.max(1, Math.floor(input.limit))],
      );
      return Number(rows[0]?.n ?? 0);
    },
    async list(filter) {
      const { where, args } = whereOf(
        [
          ['family_id', filter.familyId],
          ['user_id', filter.userId],
          ['client_id', filter.clientId],
          ['type', filter.type],
          ['id', filter.afterId],
        ],
        ['id'],
      );
      const range: string[] = [];
      if (filter.from !== undefined) range.push(`at >= $${args.push(filter.from)}`);
      if (filter.to !== undefined) range.push(`at < $${args.push(filter.to)}`);
      if (filter.beforeId !== undefined) range.push(`id < $${args.push(filter.beforeId)}`);
      const clause =
        range.length === 0 ? where : `${where ? `${where} AND` : 'WHERE'} ${range.join(' AND ')}`;
      const limit = Math.min(Math.max(filter.limit ?? LIMITS.listDefault, 1), LIMITS.listMax);
      const rows = await db.rows<EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM ${db.t('events')} ${clause} ORDER BY id ${filter.order === 'desc' ? 'DESC' : 'ASC'} LIMIT $${args.length + 1}`,
        [...args, limit],
      );
      return rows.map(toEvent);
    },
  };
}
