import type { LifecycleEvent } from '@tessera/protocol';
import type Database from 'better-sqlite3';
import { LIMITS } from '../../config/limits.js';
import type { EventFilter, EventInput, EventStore } from '../../ports/index.js';
import { type EventRow, toEvent } from './rows.js';
import type { EventIndex } from './sqlite-event-index.js';
import { StatementCache, whereOf } from './statement-cache.js';

/** Inserts one event row; shared with the session store, which writes events in its transactions. */
export type InsertEvent = (event: EventInput) => void;

export function prepareEventInsert(db: Database.Database): InsertEvent {
  // Positional parameters, in the order of the columns: one insert per rotation, and better-sqlite3
  // binds them about twice as fast as named ones.
  const insert = db.prepare(`INSERT INTO events (at, type, family_id, user_id, client_id, reason, data)
    VALUES (?, ?, ?, ?, ?, ?, ?)`);
  return (e) => {
    insert.run(
      e.at,
      e.type,
      e.familyId ?? null,
      e.userId ?? null,
      e.clientId ?? null,
      e.reason ?? null,
      e.data ? JSON.stringify(e.data) : null,
    );
  };
}

/**
 * The lifecycle record in the `events` table. Queries by family, user, client or type go through the
 * batch-built indexes (`sqlite-event-index.ts`) plus the events after their mark.
 */
export function sqliteEventStore(
  db: Database.Database,
  insertEvent: InsertEvent,
  eventIndex: EventIndex,
): EventStore {
  const appendAll = db.transaction((events: EventInput[]) => {
    for (const e of events) insertEvent(e);
  });
  const queries = new StatementCache(db);
  const last = db.prepare('SELECT COALESCE(MAX(id), 0) FROM events').pluck();
  // Retention: the oldest `limit` events by id, those older than `before` among them, and their
  // rows in the batch-built indexes (found by primary key, from the event's own columns). Never the
  // newest: a new event's id is the largest one plus one, and an id must never come back (the
  // index's mark and the families' chains hold ids).
  const oldest = `SELECT id FROM (SELECT id, at FROM events ORDER BY id LIMIT @limit)
    WHERE at < @before AND id < (SELECT MAX(id) FROM events)`;
  const prune = {
    family: db.prepare(`DELETE FROM event_index_family WHERE (family_id, id) IN
      (SELECT family_id, id FROM events WHERE id IN (${oldest}) AND family_id IS NOT NULL)`),
    user: db.prepare(`DELETE FROM event_index_user WHERE (user_id, id) IN
      (SELECT user_id, id FROM events WHERE id IN (${oldest}) AND user_id IS NOT NULL)`),
    client: db.prepare(`DELETE FROM event_index_client WHERE (client_id, id) IN
      (SELECT client_id, id FROM events WHERE id IN (${oldest}) AND client_id IS NOT NULL)`),
    type: db.prepare(`DELETE FROM event_index_type WHERE (type, id) IN
      (SELECT type, id FROM events WHERE id IN (${oldest}))`),
    events: db.prepare(`DELETE FROM events WHERE id IN (${oldest})`),
  };
  // Whether a batch is a prefix of the table (every event up to its newest goes): then no chain
  // can be cut above an event that stays, and none needs copying first.
  const batchOf = db.prepare(`SELECT MAX(id) AS newest, COUNT(*) AS n FROM (${oldest})`);
  const upTo = db.prepare('SELECT COUNT(*) FROM events WHERE id <= ?').pluck();
  // Otherwise, the families some of whose chained events, not yet indexed, are about to go
  // (`flushFamilies`: a chain cannot be walked past a deleted event).
  const chainsPruned = db
    .prepare(`SELECT DISTINCT events.family_id FROM events JOIN families ON families.id = events.family_id
      WHERE events.id IN (${oldest}) AND events.family_prev IS NOT NULL
      AND events.id > families.chain_indexed`)
    .pluck();
  const pruneBatch = db.transaction((args: { before: number; limit: number }) => {
    const batch = batchOf.get(args) as { newest: number | null; n: number };
    if (batch.newest === null) return 0;
    if ((upTo.get(batch.newest) as number) > batch.n)
      eventIndex.flushFamilies(chainsPruned.all(args) as string[]);
    prune.family.run(args);
    prune.user.run(args);
    prune.client.run(args);
    prune.type.run(args);
    return prune.events.run(args).changes;
  });
  const limitOf = (filter: EventFilter) =>
    Math.min(Math.max(filter.limit ?? LIMITS.listDefault, 1), LIMITS.listMax);
  /** The filters other than the keyed one, on the events row. */
  const conditions = (filter: EventFilter, skip?: string) =>
    whereOf(
      (
        [
          ['events.family_id = ?', filter.familyId],
          ['events.user_id = ?', filter.userId],
          ['events.client_id = ?', filter.clientId],
          ['events.type = ?', filter.type],
          ['events.at >= ?', filter.from],
          ['events.at < ?', filter.to],
        ] as [string, string | number | undefined][]
      ).filter(([sql]) => sql !== skip),
    );
  // One read transaction: the index and its mark are read at one point in time.
  const listEvents = db.transaction((filter: EventFilter): LifecycleEvent[] => {
    const limit = limitOf(filter);
    const after = filter.afterId ?? 0;
    const desc = filter.order === 'desc';
    const dir = desc ? 'DESC' : 'ASC';
    // The upper bound only when asked: without it a statement keeps its simplest plan.
    const below = (column: string) => (filter.beforeId === undefined ? '' : `AND ${column} < ?`);
    const belowArgs = filter.beforeId === undefined ? [] : [filter.beforeId];
    const keyed =
      filter.familyId !== undefined
        ? (['event_index_family', 'family_id', filter.familyId] as const)
        : filter.userId !== undefined
          ? (['event_index_user', 'user_id', filter.userId] as const)
          : filter.clientId !== undefined
            ? (['event_index_client', 'client_id', filter.clientId] as const)
            : filter.type !== undefined
              ? (['event_index_type', 'type', filter.type] as const)
              : undefined;
    if (!keyed) {
      const { where, args } = conditions(filter);
      const sql = `SELECT * FROM events ${where ? `${where} AND` : 'WHERE'} events.id > ? ${below('events.id')}
        ORDER BY events.id ${dir} LIMIT ?`;
      return (queries.get(sql).all(...args, after, ...belowArgs, limit) as EventRow[]).map(toEvent);
    }
    const [table, column, key] = keyed;
    const { where, args } = conditions(filter, `events.${column} = ?`);
    const extra = where.replace('WHERE', 'AND');
    // The indexed events in the index's order (its primary key), each row found by its id...
    const indexed = (n: number) =>
      queries
        .get(
          `SELECT events.* FROM ${table} CROSS JOIN events ON events.id = ${table}.id
           WHERE ${table}.${column} = ? AND ${table}.id > ? ${below(`${table}.id`)} ${extra}
           ORDER BY ${table}.id ${dir} LIMIT ?`,
        )
        .all(key, after, ...belowArgs, ...args, n) as EventRow[];
    // ...and those after the index's mark (the table's last few). Every indexed id is at or below
    // the mark (the indexer moves it in the same transaction), every id of the tail above it.
    const tail = (n: number) =>
      queries
        .get(
          `SELECT * FROM events WHERE events.id > MAX(?, (SELECT id FROM event_index_mark WHERE one = 1))
           ${below('events.id')} AND events.${column} = ? ${extra} ORDER BY events.id ${dir} LIMIT ?`,
        )
        .all(after, ...belowArgs, key, ...args, n) as EventRow[];
    // ...and, by family or user, the chained events of rotations not yet copied into the index:
    // walked from each family's chain head down to its chain's mark (at most a few per family),
    // those up to the index's mark only (the tail has the rest).
    const chained = column === 'family_id' || column === 'user_id' ? walkChains(filter, column, key) : [];
    // The three sets are disjoint (the index's ids at or below its mark, the tail's above it, the
    // chains' between their own marks and the index's) and each holds its best `limit`, so the
    // merge's first `limit` are the answer. An id seen twice is kept once all the same: an index
    // being rebuilt from a lowered mark (migration 9) holds ids of the tail too.
    const merged = [...indexed(limit), ...tail(limit), ...chained];
    merged.sort(desc ? (a, b) => b.id - a.id : (a, b) => a.id - b.id);
    const answer: EventRow[] = [];
    for (const row of merged) {
      if (answer.length === limit) break;
      if (answer.at(-1)?.id !== row.id) answer.push(row);
    }
    return answer.map(toEvent);
  });
  const chain = {
    mark: db.prepare('SELECT id FROM event_index_mark WHERE one = 1').pluck(),
    family: db.prepare(
      'SELECT chain_head, chain_indexed FROM families WHERE id = ? AND chain_head > chain_indexed',
    ),
    // Active families only: an ended family's chain is copied when it ends (`flushEnded`).
    user: db.prepare(`SELECT chain_head, chain_indexed FROM families
      WHERE user_id = ? AND status = 'active' AND chain_head > chain_indexed`),
    event: db.prepare('SELECT * FROM events WHERE id = ?'),
  };
  /** A filter as a predicate on an event row: what the SQL of the other two sets asks. */
  const matches = (filter: EventFilter) => (r: EventRow) =>
    (filter.familyId === undefined || r.family_id === filter.familyId) &&
    (filter.userId === undefined || r.user_id === filter.userId) &&
    (filter.clientId === undefined || r.client_id === filter.clientId) &&
    (filter.type === undefined || r.type === filter.type) &&
    (filter.from === undefined || r.at >= filter.from) &&
    (filter.to === undefined || r.at < filter.to) &&
    r.id > (filter.afterId ?? 0) &&
    (filter.beforeId === undefined || r.id < filter.beforeId);
  /** The matching chained events past each family's chain mark and up to the index's mark. */
  const walkChains = (filter: EventFilter, column: 'family_id' | 'user_id', key: string): EventRow[] => {
    const heads = (column === 'family_id' ? chain.family : chain.user).all(key) as {
      chain_head: number;
      chain_indexed: number;
    }[];
    if (heads.length === 0) return [];
    const mark = chain.mark.get() as number;
    const keep = matches(filter);
    const after = filter.afterId ?? 0;
    const found: EventRow[] = [];
    for (const { chain_head, chain_indexed } of heads) {
      // Below both marks the index has them; below the page's lower bound none is wanted.
      for (let id = chain_head; id > chain_indexed && id > after; ) {
        const row = chain.event.get(id) as (EventRow & { family_prev: number | null }) | undefined;
        if (!row) break; // pruned: retention deletes a chain's oldest first, or copies it first
        if (id <= mark && keep(row)) found.push(row);
        // Ids never come back, so a chain only goes down; anything else ends the walk.
        id = row.family_prev !== null && row.family_prev < id ? row.family_prev : 0;
      }
    }
    return found;
  };
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
      return listEvents(filter);
    },
  };
}
