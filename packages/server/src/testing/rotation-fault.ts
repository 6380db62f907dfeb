import type { SqliteStores } from '../stores/sqlite/open-sqlite-stores.js';

/** Where a crash test strikes a rotation. */
export type RotationFaultPoint = 'before-commit' | 'after-commit';

/**
 * A test hook for crash tests (never used by the server itself): calls `fault` at one point of
 * every rotation of these SQLite stores, and returns the stores to serve with. A crash test
 * passes `() => process.kill(process.pid, 'SIGKILL')`; an in-process test may throw instead.
 *
 * - `before-commit`: inside the rotation's transaction, after all of its writes, before the
 *   commit. A TEMP trigger on this connection fires after the rotation's `token.refreshed` event
 *   row (its last write) and calls a function registered on this connection only; the database
 *   file's schema is untouched. Thrown, the error undoes the rotation.
 * - `after-commit`: once the rotation is committed (durable), before its caller is answered: a
 *   `SessionStore` decorator around `rotate`.
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
): SqliteStores {
  if (point === 'before-commit') {
    stores.db.function('tessera_test_rotation_fault', () => {
      fault();
      return null;
    });
    stores.db.exec(`CREATE TEMP TRIGGER IF NOT EXISTS tessera_test_rotation_fault
      AFTER INSERT ON main.events WHEN NEW.type = 'token.refreshed'
      BEGIN SELECT tessera_test_rotation_fault(); END`);
    return stores;
  }
  const { sessions } = stores;
  return {
    ...stores,
    sessions: {
      ...sessions,
      async rotate(input) {
        const result = await sessions.rotate(input);
        if (result.outcome === 'rotated') fault();
        return result;
      },
    },
  };
}
