import { type EventStore, LIMITS } from '@tessera/server';
import type { Database } from './database.js';
import { type EventRow, toEvent } from './rows.js';
import { whereOf } from './where.js';
import { insertEvents } from './writes.js';

/** The lifecycle record in the `events` table; ids come from an identity column, ascending. */
export function pgEventStore(db: Database): EventStore {
  return {
    async append(events) {
      await insertEvents(db, db.pool, events);
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
      const limit = Math.min(Math.max(filter.limit ?? LIMITS.listDefault, 1), LIMITS.listMax);
      const rows = await db.rows<EventRow>(
        `SELECT * FROM ${db.t('events')} ${where} ORDER BY id LIMIT $${args.length + 1}`,
        [...args, limit],
      );
      return rows.map(toEvent);
    },
  };
}
