import Database from 'better-sqlite3';
import { DEFAULTS } from '../../config/defaults.js';
import { LIMITS } from '../../config/limits.js';
import type { Stores } from '../../ports/index.js';
import { startCheckpointer } from './checkpointer.js';
import { asUnavailable, failClosed, retryWhileBusy } from './fail-closed.js';
import { MIGRATIONS } from './migrations.js';
import { sqliteAccessTokenStore } from './sqlite-access-token-store.js';
import { sqliteCleanupStore } from './sqlite-cleanup-store.js';
import { sqliteCounterStore } from './sqlite-counter-store.js';
import { sqliteDirectoryStore } from './sqlite-directory-store.js';
import { EVENT_INDEX_INTERVAL_MS, sqliteEventIndex } from './sqlite-event-index.js';
import { prepareEventInsert, sqliteEventStore } from './sqlite-event-store.js';
import { sqliteKeyStore } from './sqlite-key-store.js';
import { sqliteReplayStore } from './sqlite-replay-store.js';
import { prepareNoticeInsert, sqliteRevocationFeedStore } from './sqlite-revocation-feed-store.js';
import { sqliteSessionStore } from './sqlite-session-store.js';
import { WriteQueue } from './write-queue.js';

export interface SqliteOptions {
  /** File path, or `:memory:`. */
  path: string;
  synchronous?: 'NORMAL' | 'FULL';
  /**
   * Checkpoint the WAL on a worker thread every this many ms instead of inside commits
   * (default `LIMITS.checkpointIntervalMs`; 0 leaves SQLite's automatic checkpoints on the serving connection).
   */
  checkpointIntervalMs?: number;
  /**
   * Index the lifecycle record's new events every this many ms (default `EVENT_INDEX_INTERVAL_MS`);
   * 0: only when `settle()` is called (reads are complete either way).
   */
  eventIndexIntervalMs?: number;
  /**
   * A family's rotation events are copied into the per-family and per-user indexes once this many
   * have gathered (default `EVENT_CHAIN_FLUSH`; tests use small values).
   */
  eventChainFlush?: number;
  /** Page cache of this connection in MiB (default `DEFAULTS.sqliteCacheMiB`). */
  cacheMiB?: number;
  /** When the checkpointer restarts the WAL: its size in frames, and the least time between two. */
  walRestartFrames?: number;
  walRestartIntervalMs?: number;
  /** Told when a WAL checkpoint fails on the checkpointer thread (the server logs it). */
  onCheckpointError?: (message: string) => void;
}

/** The SQLite stores, with the connection and the group commit, for diagnostics and tests. */
export interface SqliteStores extends Stores {
  readonly db: Database.Database;
  /** The group commit that rotations and opaque access tokens go through (`write-queue.ts`). */
  readonly writeQueue: WriteQueue;
  /**
   * Runs now what the store otherwise does in the background: indexes every event past the index's
   * mark (`sqlite-event-index.ts`; a family's chained rotation events still wait for their family's
   * chain to be copied, and reads find them meanwhile). Returns how many it indexed.
   */
  settle(): number;
  /** One batch of that background work, of at most `max` events; returns how many it indexed. */
  indexEvents(max?: number): number;
}

/**
 * Opens (and migrates) the embedded SQLite store: every port on one connection, WAL mode, and
 * `BEGIN IMMEDIATE` transactions, so two processes on one file serialise their writes.
 */
export function openSqliteStores(options: SqliteOptions): SqliteStores {
  const db = new Database(options.path);
  // First, so that every step after it (WAL mode, the migrations) waits for another process
  // opening the same file at the same moment instead of failing at once.
  db.pragma(`busy_timeout = ${LIMITS.sqliteBusyTimeoutMs}`);
  retryWhileBusy(() => db.pragma('journal_mode = WAL'));
  db.pragma(`synchronous = ${options.synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
  db.pragma('foreign_keys = ON');
  // Rotations touch random pages (token hashes, family ids); SQLite's 2 MiB default cache turns
  // most of those into reads from the OS. Pages are cached as they are read, so a small
  // database (or the CLI) never uses the whole budget.
  db.pragma(`cache_size = ${-1024 * (options.cacheMiB ?? DEFAULTS.sqliteCacheMiB)}`);
  // A group commit runs each rotation in its own savepoint; a savepoint keeps the pages it
  // changes in a statement journal, which SQLite moves to a temporary file past 64 KiB (a batch
  // of 16 rotations), at about as many write syscalls per rotation as the WAL's own. In memory it
  // holds what one batch changed (a few hundred KiB) until its commit.
  db.pragma('temp_store = MEMORY');
  migrate(db);
  // Serving, a short blocking wait; longer ones are asynchronous, in `failClosed`, so the thread
  // answers other requests meanwhile.
  db.pragma(`busy_timeout = ${LIMITS.sqliteBusyPollMs}`);

  const writeQueue = new WriteQueue(db);
  const checkpointEvery = options.checkpointIntervalMs ?? LIMITS.checkpointIntervalMs;
  const checkpointer =
    options.path !== ':memory:' && checkpointEvery > 0
      ? startCheckpointer(
          options.path,
          {
            intervalMs: checkpointEvery,
            restartFrames: options.walRestartFrames,
            restartIntervalMs: options.walRestartIntervalMs,
            onError: options.onCheckpointError,
          },
          writeQueue,
        )
      : undefined;
  if (checkpointer) db.pragma('wal_autocheckpoint = 0');
  // After a checkpoint the WAL restarts from its beginning; this caps the file it leaves behind.
  db.pragma(`journal_size_limit = ${LIMITS.sqliteWalSizeLimitBytes}`);

  const insertEvent = prepareEventInsert(db);
  // The lifecycle record's indexes, built in batches between requests (never inside a commit).
  const eventIndex = sqliteEventIndex(db, { chainFlush: options.eventChainFlush });
  const indexEvery = options.eventIndexIntervalMs ?? EVENT_INDEX_INTERVAL_MS;
  const indexer =
    indexEvery > 0
      ? setInterval(() => {
          try {
            if (db.open && !db.inTransaction) eventIndex.index();
          } catch {
            // Busy (another process holds the write lock) or closing: the next tick catches up,
            // and readers see the events past the mark meanwhile.
          }
        }, indexEvery)
      : undefined;
  indexer?.unref();
  const publish = prepareNoticeInsert(db);
  const ping = db.prepare('SELECT 1');
  return {
    db,
    writeQueue,
    settle: () => eventIndex.settle(),
    indexEvents: (max) => eventIndex.index(max),
    sessions: failClosed(
      sqliteSessionStore(db, writeQueue, insertEvent, publish, (id) => eventIndex.flushEnded(id)),
    ),
    accessTokens: failClosed(sqliteAccessTokenStore(db, writeQueue, publish)),
    revocationFeed: failClosed(sqliteRevocationFeedStore(db)),
    cleanup: failClosed(sqliteCleanupStore(db, eventIndex)),
    directory: failClosed(sqliteDirectoryStore(db)),
    keys: failClosed(sqliteKeyStore(db)),
    events: failClosed(sqliteEventStore(db, insertEvent, eventIndex)),
    counters: failClosed(sqliteCounterStore(db)),
    replay: failClosed(sqliteReplayStore(db)),
    ping: async () => {
      try {
        ping.get();
      } catch (err) {
        throw asUnavailable(err);
      }
    },
    close: async () => {
      if (indexer) clearInterval(indexer);
      await checkpointer?.stop();
      if (db.open) db.close();
    },
  };
}

/**
 * Applies the migrations this database has not seen yet, each in its own `BEGIN IMMEDIATE`
 * transaction that reads `user_version` again once it holds the write lock: of several processes
 * opening one new file at once, one applies a migration and the others, waiting on the lock,
 * then find it applied (read outside the lock, each one applied it again: `table already exists`).
 */
function migrate(db: Database.Database): void {
  const version = () => db.pragma('user_version', { simple: true }) as number;
  const step = db.transaction((): boolean => {
    const v = version();
    if (v > MIGRATIONS.length) {
      throw new Error(`the database schema (version ${v}) is newer than this Tessera (${MIGRATIONS.length})`);
    }
    const next = MIGRATIONS[v];
    if (next === undefined) return false;
    db.exec(next);
    db.pragma(`user_version = ${v + 1}`);
    return true;
  });
  // A current database is read without taking the write lock.
  if (version() === MIGRATIONS.length) return;
  while (step.immediate()) {}
}
