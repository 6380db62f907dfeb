import type Database from 'better-sqlite3';

/** Events indexed per batch, and how often a batch runs: up to 8,000 events a second, a few ms each. */
export const EVENT_INDEX_BATCH = 2000;
export const EVENT_INDEX_INTERVAL_MS = 250;
/**
 * A family's chained events (those its rotations write) are copied into the per-family and
 * per-user indexes once this many have gathered: a page of each index per this many rotations,
 * and at most this many (plus those past the mark) for a reader to walk per family.
 */
export const EVENT_CHAIN_FLUSH = 16;

/**
 * The lifecycle record's per-family, per-user, per-client and per-type indexes, built in batches off the hot path.
 *
 * An event is appended to `events` (an INTEGER PRIMARY KEY: consecutive events share its last
 * page), and nothing else: SQLite indexes on it would cost a rotation a page each (its family's,
 * its user's, its client's and its type's). Instead `index()` copies the events after
 * `event_index_mark` into `event_index_family`, `event_index_user`, `event_index_client` and
 * `event_index_type` (sorted, so a batch writes each index page once) and moves the mark, in one
 * transaction. Readers take the indexed events from those tables and the few after the mark from
 * the end of `events`: a query is complete whenever the index runs.
 *
 * Indexed one by one, a batch would write a random page of the per-family and per-user indexes
 * for about every family that rotated in it. So a rotation's own events are chained instead
 * (`family_prev`, the family's `chain_head`; see the session store): the batch indexes them by
 * client and type only, and copies a family's chain into the per-family and per-user indexes when
 * `chain_pending` has reached `EVENT_CHAIN_FLUSH` (its entries then sit side by side: a page of
 * each index), when the family ends (`flushEnded`), when it is about to be deleted
 * (`flushDeleted`), and when retention is about to delete some of its chained events out of id
 * order (`flushFamilies`). `chain_indexed` is the mark of a family's chain: its events up to there
 * are in the indexes; readers walk the rest from the head.
 */
export interface EventIndex {
  /** Indexes up to `max` events past the mark; returns how many it indexed. */
  index(max?: number): number;
  /** Indexes everything (tests, the bench, shutdown); returns how many. */
  settle(): number;
  /**
   * Indexes everything, and the whole chain of every family whose absolute expiry is at or
   * before `now` (cleanup deletes those rows next, and with them their chain heads). Runs inside
   * the caller's transaction.
   */
  flushDeleted(now: number): void;
  /**
   * Indexes everything, and the whole chains of these families: retention is about to delete
   * some of their chained events, and a chain cannot be walked past a deleted one (a clock set
   * back can make a newer event older than those before it). Runs inside the caller's transaction.
   */
  flushFamilies(familyIds: readonly string[]): void;
  /**
   * Copies the chain of a family that has just ended (revoked or expired) up to the mark; the
   * index copies the rest as it reaches it. An ended family never rotates again, so a read by user
   * walks the chains of active families only. Runs inside the caller's transaction.
   */
  flushEnded(familyId: string): void;
}

interface ChainState {
  user_id: string;
  status: string;
  chain_head: number | null;
  chain_indexed: number;
  chain_pending: number;
}

export function sqliteEventIndex(db: Database.Database, options: { chainFlush?: number } = {}): EventIndex {
  const chainFlush = Math.max(1, Math.floor(options.chainFlush ?? EVENT_CHAIN_FLUSH));
  const s = {
    mark: db.prepare('SELECT id FROM event_index_mark WHERE one = 1').pluck(),
    last: db.prepare('SELECT MAX(id) FROM events').pluck(),
    family: db.prepare(`INSERT OR IGNORE INTO event_index_family (family_id, id)
      SELECT family_id, id FROM events WHERE id > ? AND id <= ? AND family_id IS NOT NULL
      AND family_prev IS NULL ORDER BY family_id, id`),
    user: db.prepare(`INSERT OR IGNORE INTO event_index_user (user_id, id)
      SELECT user_id, id FROM events WHERE id > ? AND id <= ? AND user_id IS NOT NULL
      AND family_prev IS NULL ORDER BY user_id, id`),
    client: db.prepare(`INSERT OR IGNORE INTO event_index_client (client_id, id)
      SELECT client_id, id FROM events WHERE id > ? AND id <= ? AND client_id IS NOT NULL
      ORDER BY client_id, id`),
    type: db.prepare(`INSERT OR IGNORE INTO event_index_type (type, id)
      SELECT type, id FROM events WHERE id > ? AND id <= ? ORDER BY type, id`),
    // Another process on the file may have moved it further: the mark never goes back.
    setMark: db.prepare('UPDATE event_index_mark SET id = MAX(id, ?) WHERE one = 1'),
    // The families whose chains grew in a batch, with the users their events name.
    chainedIn: db
      .prepare(`SELECT DISTINCT family_id, user_id FROM events WHERE id > ? AND id <= ?
        AND family_prev IS NOT NULL`)
      .raw(true),
    // A chained event naming another user than its family's: a read by user walks the chains of
    // that user's families only, so it is indexed by user at once (rare: a rotation names its own).
    strangers: db.prepare(`INSERT OR IGNORE INTO event_index_user (user_id, id)
      SELECT user_id, id FROM events WHERE id > ? AND id <= ? AND family_id = ? AND user_id = ?
      AND family_prev IS NOT NULL`),
    chainOf: db.prepare(`SELECT user_id, status, chain_head, chain_indexed, chain_pending FROM families
      WHERE id = ?`),
    link: db.prepare('SELECT user_id, family_prev FROM events WHERE id = ?').raw(true),
    familyEntry: db.prepare('INSERT OR IGNORE INTO event_index_family (family_id, id) VALUES (?, ?)'),
    userEntry: db.prepare('INSERT OR IGNORE INTO event_index_user (user_id, id) VALUES (?, ?)'),
    setChain: db.prepare('UPDATE families SET chain_indexed = ?, chain_pending = ? WHERE id = ?'),
    expiring: db
      .prepare(`SELECT id FROM families WHERE expires_at <= ? AND chain_head > chain_indexed`)
      .pluck(),
  };

  const chainOf = (familyId: string) => s.chainOf.get(familyId) as ChainState | undefined;
  /** Copies a family's chained events up to `upTo` (a mark) into the family and user indexes. */
  const flushChain = (familyId: string, chain: ChainState | undefined, upTo: number, force: boolean) => {
    if (!chain || chain.chain_head === null || chain.chain_head <= chain.chain_indexed) return;
    if (!force && chain.chain_pending < chainFlush) return;
    const links: [number, string | null][] = [];
    let above = 0;
    // Newest first along the chain, down to what is already indexed. A pruned event ends it: what
    // retention deletes is the oldest events, or else it copies the chain first (`flushFamilies`).
    for (let id = chain.chain_head; id > chain.chain_indexed; ) {
      const row = s.link.get(id) as [string | null, number | null] | undefined;
      if (!row) break;
      if (id <= upTo) links.push([id, row[0]]);
      else above++;
      // Ids never come back, so a chain only goes down; anything else ends the walk.
      id = row[1] !== null && row[1] < id ? row[1] : 0;
    }
    // Oldest first: each entry lands after the last one, in one page of each index.
    for (const [id, userId] of links.reverse()) {
      s.familyEntry.run(familyId, id);
      // By user under the user it names (one not the family's is already there: OR IGNORE).
      if (userId !== null) s.userEntry.run(userId, id);
    }
    s.setChain.run(Math.max(chain.chain_indexed, upTo), above, familyId);
  };

  const indexTo = (max: number): number => {
    const from = s.mark.get() as number;
    const last = (s.last.get() as number | null) ?? 0;
    if (last <= from) return 0;
    const to = Math.min(last, from + max);
    s.family.run(from, to);
    s.user.run(from, to);
    s.client.run(from, to);
    s.type.run(from, to);
    const families = new Map<string, ChainState | undefined>();
    for (const [familyId, userId] of s.chainedIn.all(from, to) as [string, string | null][]) {
      if (!families.has(familyId)) families.set(familyId, chainOf(familyId));
      if (userId !== null && userId !== families.get(familyId)?.user_id)
        s.strangers.run(from, to, familyId, userId);
    }
    // An ended family's chain is copied whatever its length (see `flushEnded`).
    for (const [familyId, chain] of families) flushChain(familyId, chain, to, chain?.status !== 'active');
    s.setMark.run(to);
    return to - from;
  };
  const step = db.transaction(indexTo);
  const index = (max = EVENT_INDEX_BATCH) => step.immediate(max);
  const flushFamilies = db.transaction((familyIds: readonly string[]) => {
    if (familyIds.length === 0) return;
    while (indexTo(EVENT_INDEX_BATCH) > 0) {}
    const mark = s.mark.get() as number;
    for (const familyId of familyIds) flushChain(familyId, chainOf(familyId), mark, true);
  });
  return {
    index,
    settle() {
      let total = 0;
      for (let n = index(); n > 0; n = index()) total += n;
      return total;
    },
    flushDeleted: (now) => flushFamilies(s.expiring.all(now) as string[]),
    flushFamilies: (familyIds) => flushFamilies(familyIds),
    flushEnded: (familyId) => flushChain(familyId, chainOf(familyId), s.mark.get() as number, true),
  };
}
