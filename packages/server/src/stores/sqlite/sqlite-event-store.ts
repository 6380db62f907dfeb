import type Database from 'better-sqlite3';
import { LIMITS } from '../../config/limits.js';
import type { EventInput, EventStore } from '../../ports/index.js';
import { type EventRow, toEvent } from './rows.js';
import { StatementCache, whereOf } from './statement-cache.js';

/** Inserts one event row; shared with the session store, which writes events in its transactions. */
export type InsertEvent = (event: EventInput) => void;

export function prepareEventInsert(db: Database.Database): InsertEvent {
  const insert = db.prepare(`INSERT INTO events (at, type, family_id, user_id, client_id, reason, data)
    VALUES (@at, @type, @familyId, @userId, @clientId, @reason, @data)`);
  return (e) => {
    insert.run({
      at: e.at,
      type: e.type,
      familyId: e.familyId ?? null,
      userId: e.userId ?? null,
      clientId: e.clientId ?? null,
      reason: e.reason ?? null,
      data: e.data ? JSON.stringify(e.data) : null,
    });
  };
}

/**
 * The lifecycle record in the `events` table. Queries by family or by user go through the
 * batch-built indexes (`sqlite-event-index.ts`) plus the events after their mark.
 */
export function sqliteEventStore(db: Database.Database, insertEvent: InsertEvent): EventStore {
  const appendAll = db.transaction((events: EventInput[]) => {
    for (const e of events) insertEvent(e);
  });
  const queries = new StatementCache(db);
  const last = db.prepare('SELECT COALESCE(MAX(id), 0) FROM events').pluck();
  // Retention: the oldest `limit` events by id, those older than `before` among them, and their
  // rows in the batch-built indexes (found by primary key, from the event's own columns).
  const oldest = 'SELECT id FROM (SELECT id, at FROM events ORDER BY id LIMIT @limit) WHERE at < @before';
  const prune = {
    family: db.prepare(`DELETE FROM event_index_family WHERE (family_id, id) IN
      (SELECT family_id, id FROM events WHERE id IN (${oldest}) AND family_id IS NOT NULL)`),
    user: db.prepare(`DELETE FROM event_index_user WHERE (user_id, id) IN
      (SELECT user_id, id FROM events WHERE id IN (${oldest}) AND user_id IS NOT NULL)`),
    client: db.prepare(`DELETE FROM event_index_client WHERE (client_id, id) IN
      (SELECT client_id, id FROM events WHERE id IN (${oldest}) AND client_id IS NOT NULL)`),
    events: db.prepare(`DELETE FROM events WHERE id IN (${oldest})`),
  };
  const pruneBatch = db.transaction((args: { before: number; limit: number }) => {
    prune.family.run(args);
    prune.user.run(args);
    prune.client.run(args);
    return prune.events.run(args).changes;
  });
  return {
    async append(events) {
      if (events.length > 0) appendAll(events);
    },
    async lastEventId() {
      return last.get() as number;
    },
    async pruneEvents(input) {
      return pruneBatch.immediate({ before: input.before, limit: Math.max(1, Math.floor(input.limit)) });
    },
    async list(filter) {
      const { where, args } = whereOf([
        ['family_id = ?', filter.familyId],
        ['user_id = ?', filter.userId],
        ['client_id = ?', filter.clientId],
        ['type = ?', filter.type],
        ['id > ?', filter.afterId],
        ['at >= ?', filter.from],
        ['at < ?', filter.to],
      ]);
      const limit = Math.min(Math.max(filter.limit ?? LIMITS.listDefault, 1), LIMITS.listMax);
      const keyed =
        filter.familyId !== undefined
          ? (['event_index_family', 'family_id', filter.familyId] as const)
          : filter.userId !== undefined
            ? (['event_index_user', 'user_id', filter.userId] as const)
            : filter.clientId !== undefined && filter.type === undefined
              ? (['event_index_client', 'client_id', filter.clientId] as const)
              : undefined;
      if (!keyed) {
        const rows = queries.get(`SELECT * FROM events ${where} ORDER BY id LIMIT ?`).all(...args, limit);
        return (rows as EventRow[]).map(toEvent);
      }
      const [table, column, key] = keyed;
      const after = filter.afterId ?? 0;
      // The indexed events, then those after the index's mark (the table's last few).
      const sql = `SELECT * FROM events WHERE id IN (
          SELECT id FROM ${table} WHERE ${column} = ? AND id > ?
          UNION ALL
          SELECT id FROM events WHERE id > MAX(?, (SELECT id FROM event_index_mark WHERE one = 1))
            AND ${column} = ?)
        ${where.replace('WHERE', 'AND')} ORDER BY id LIMIT ?`;
      const rows = queries.get(sql).all(key, after, after, key, ...args, limit);
      return (rows as EventRow[]).map(toEvent);
    },
  };
}
