import type { SqliteStores } from '../stores/sqlite/open-sqlite-stores.js';

/** Where a crash test strikes a rotation. */
export type RotationFaultPoint = 'before-transaction' | 'before-commit' | 'after-commit' | 'checkpoint-hold';

export const ROTATION_FAULT_POINTS: readonly RotationFaultPoint[] = [
  'before-transaction',
  'before-commit',
  'after-commit',
  'checkpoint-hold',
];

export interface RotationFaultOptions {
  /** Strike at the n-th time the point is reached (default 1, the first). */
  nth?: number;
  /**
   * While this answers false the point is not counted (nor struck): a server arms its fault once
   * it listens, so a checkpoint at start-up cannot kill it before it serves.
   */
  armed?: () => boolean;
}

/**
 * A test hook for crash tests (never used by the server itself): calls `fault` at one point of
 * the rotations of these SQLite stores, and returns the stores to serve with. A crash test
 * passes `() => process.kill(process.pid, 'SIGKILL')`; an in-process test may throw instead.
 *
 * - `before-transaction`: a rotation was decided and its child minted, but it has not reached
 *   the group commit (a `SessionStore` decorator around `rotate`).
 * - `before-commit`: inside the rotation's transaction, after all of its writes, before the
 *   commit. A TEMP trigger on this connection fires after the rotation's `token.refreshed` event
 *   row (its last write) and calls a function registered on this connection only; the database
 *   file's schema is untouched. Thrown, the error undoes the rotation.
 * - `after-commit`: once the rotation is committed (durable), before its caller is answered: a
 *   `SessionStore` decorator around `rotate`.
 * - `checkpoint-hold`: while the WAL checkpointer holds the queued writes for a WAL restart
 *   (`WriteQueue.pause`), a few milliseconds into the hold so that rotations have queued behind
 *   it. Only reached when the stores were opened with a small `walRestartFrames`.
 *
 * @example
 * const stores = withRotationFault(openSqliteStores({ path }), 'after-commit', () =>
 *   process.kill(process.pid, 'SIGKILL'),
 * );
 * const tessera = await createTessera({ config, stores });
 */
export function withRotationFault(
  stores: SqliteStores,
  point: RotationFaultPoint,
  fault: () => void,
  options: RotationFaultOptions = {},
): SqliteStores {
  let remaining = options.nth ?? 1;
  const strike = () => {
    if (options.armed && !options.armed()) return;
    if (--remaining === 0) fault();
  };
  if (point === 'before-commit') {
    stores.db.function('tessera_test_rotation_fault', () => {
      strike();
      return null;
    });
    stores.db.exec(`CREATE TEMP TRIGGER IF NOT EXISTS tessera_test_rotation_fault
      AFTER INSERT ON main.events WHEN NEW.type = 'token.refreshed'
      BEGIN SELECT tessera_test_rotation_fault(); END`);
    return stores;
  }
  if (point === 'checkpoint-hold') {
    const queue = stores.writeQueue;
    const pause = queue.pause.bind(queue);
    queue.pause = () => {
      pause();
      setTimeout(strike, 5);
    };
    return stores;
  }
  const { sessions } = stores;
  return {
    ...stores,
    sessions: {
      ...sessions,
      async rotate(input) {
        if (point === 'before-transaction') strike();
        const result = await sessions.rotate(input);
        if (point === 'after-commit' && result.outcome === 'rotated') strike();
        return result;
      },
    },
  };
}
