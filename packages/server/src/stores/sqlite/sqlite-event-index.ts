import type Database from 'better-sqlite3';

/** Events indexed per batch, and how often a batch runs: up to 8,000 events a second, a few ms each. */
export const EVENT_INDEX_BATCH = 2000;
export const EVENT_INDEX_INTERVAL_MS = 250;

/**
 * The lifecycle record's per-family, per-user, per-client and per-type indexes, built in batches off the hot path.
 *
 * An event is appended to `events` (an INTEGER PRIMARY KEY: consecutive events share its last
 * page), and nothing else: SQLite indexes on it would cost a rotation a page each (its family's,
 * its user's, its client's and its type's). Instead `index()` copies the events after `event_index_mark` into
 * `event_index_family`, `event_index_user`, `event_index_client` and `event_index_type` (sorted, so a batch writes each index page once)
 * and moves the mark, in one transaction. Readers take the indexed events from those tables and
 * the few after the mark from the end of `events`: a query is complete whenever the index runs.
 */
export interface EventIndex {
  /** Indexes up to `max` events past the mark; returns how many it indexed. */
  index(max?: number): number;
  /** Indexes everything (tests, the bench, shutdown); returns how many. */
  settle(): number;
}

export function sqliteEventIndex(db: Database.Database): EventIndex {
  const s = {
    mark: db.prepare('SELECT id FROM event_index_mark WHERE one = 1').pluck(),
    last: db.prepare('SELECT MAX(id) FROM events').pluck(),
    family: db.prepare(`INSERT OR IGNORE INTO event_index_family (family_id, id)
      SELECT family_id, id FROM events WHERE id > ? AND id <= ? AND family_id IS NOT NULL
      ORDER BY family_id, id`),
    user: db.prepare(`INSERT OR IGNORE INTO event_index_user (user_id, id)
      SELECT user_id, id FROM events WHERE id > ? AND id <= ? AND user_id IS NOT NULL ORDER BY user_id, id`),
    client: db.prepare(`INSERT OR IGNORE INTO event_index_client (client_id, id)
      SELECT client_id, id FROM events WHERE id > ? AND id <= ? AND client_id IS NOT NULL
      ORDER BY client_id, id`),
    type: db.prepare(`INSERT OR IGNORE INTO event_index_type (type, id)
      SELECT type, id FROM events WHERE id > ? AND id <= ? ORDER BY type, id`),
    // Another process on the file may have moved it further: the mark never goes back.
    setMark: db.prepare('UPDATE event_index_mark SET id = MAX(id, ?) WHERE one = 1'),
  };
  const step = db.transaction((max: number): number => {
    const from = s.mark.get() as number;
    const last = (s.last.get() as number | null) ?? 0;
    if (last <= from) return 0;
    const to = Math.min(last, from + max);
    s.family.run(from, to);
    s.user.run(from, to);
    s.client.run(from, to);
    s.type.run(from, to);
    s.setMark.run(to);
    return to - from;
  });
  const index = (max = EVENT_INDEX_BATCH) => step.immediate(max);
  return {
    index,
    settle() {
      let total = 0;
      for (let n = index(); n > 0; n = index()) total += n;
      return total;
    },
  };
}
