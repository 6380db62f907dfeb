import type Database from 'better-sqlite3';
import type { WriteGate } from './checkpointer.js';

type Outcome = { ok: unknown } | { err: unknown };

interface PendingWrite {
  write: () => unknown;
  resolve: (value: never) => void;
  reject: (err: unknown) => void;
}

/**
 * The group commit: writes queued in the same turn of the event loop share one
 * `BEGIN IMMEDIATE … COMMIT` (the commit is what costs), and nobody is answered before that
 * commit, so an acknowledged write survives a crash. Each write's error is its own: it rejects
 * that write's caller only, and the rest of the batch commits.
 *
 * A write must therefore be atomic by itself: one statement, or its own savepoint (a nested
 * better-sqlite3 transaction, as a rotation is), so a failure never leaves half of it in the
 * batch's commit.
 *
 * Which writes go through it — those that come at the rate of refreshes:
 * - rotations (`SessionStore.rotate`): the hot path, one per refresh;
 * - opaque access tokens (`AccessTokenStore.saveAccessToken`): one per token issued in that format.
 *
 * Which do not, and why: each of these runs at once in a transaction of its own, which
 * `BEGIN IMMEDIATE` serialises with a batch as a whole (a revocation that races a rotation lands
 * before or after it, never inside it):
 * - sign-ins (`createFamily`): one per password check, whose hashing costs far more than a
 *   commit; several statements that would need a savepoint each;
 * - revocations (`revokeFamily`, `revokeFamilies`, `revokeJti`): rare, and answered at once;
 * - the nonce check (`ReplayStore.insertIfAbsent`): one statement that must answer before its
 *   request can even reach its rotation; queued, it would cost that refresh a second trip through
 *   the queue (a turn of the event loop, and any hold of the checkpointer's);
 * - cleanup: one bulk transaction on a schedule, which would hold every queued rotation behind it;
 * - events outside a rotation, the directory and the key ring: rare next to rotations.
 *
 * The checkpointer may hold the queue for a moment (`pause`/`resume`, its `WriteGate`): writes
 * queue meanwhile, and nobody is answered.
 */
export class WriteQueue implements WriteGate {
  private pending: PendingWrite[] = [];
  private paused = false;
  // Made once: `db.transaction()` builds five functions per call.
  private readonly commitBatch: Database.Transaction<(batch: PendingWrite[]) => Outcome[]>;

  constructor(db: Database.Database) {
    this.commitBatch = db.transaction((batch: PendingWrite[]) => runEach(db, batch));
  }

  /** Runs `write` in the next group commit; resolves with its result once the commit is durable. */
  enqueue<T>(write: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ write, resolve: resolve as (value: never) => void, reject });
      if (this.pending.length === 1 && !this.paused) setImmediate(() => this.flush());
    });
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    if (this.pending.length > 0) setImmediate(() => this.flush());
  }

  private flush(): void {
    if (this.paused || this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    let outcomes: Outcome[];
    try {
      outcomes = this.commitBatch.immediate(batch);
    } catch (err) {
      // BEGIN or COMMIT failed, or SQLite rolled the transaction back: nothing of the batch was written.
      for (const item of batch) item.reject(err);
      return;
    }
    batch.forEach((item, i) => {
      const outcome = outcomes[i];
      if (outcome && 'ok' in outcome) item.resolve(outcome.ok as never);
      else item.reject(outcome?.err);
    });
  }
}

/**
 * A batch inside its transaction: each write's outcome (or error), in the batch's order.
 *
 * Some errors (SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM) make SQLite roll back the whole
 * transaction, not only the failed write's savepoint: the writes before it are undone, and any
 * write after it would run outside the transaction, committed on its own. So once the
 * transaction is gone, the batch stops and fails as a whole (nothing of it is written).
 */
function runEach(db: Database.Database, batch: PendingWrite[]): Outcome[] {
  const outcomes: Outcome[] = [];
  for (const { write } of batch) {
    try {
      outcomes.push({ ok: write() });
    } catch (err) {
      if (!db.inTransaction) throw err;
      outcomes.push({ err });
    }
  }
  return outcomes;
}
