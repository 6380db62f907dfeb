import { ConfigError, type PostgresStoreOptions, type Stores } from '@tessera/server';
import pg from 'pg';
import { Database } from './database.js';
import { asUnavailable, failClosed } from './fail-closed.js';
import { migrate } from './migrations.js';
import { pgAccessTokenStore } from './pg-access-token-store.js';
import { pgCleanupStore } from './pg-cleanup-store.js';
import { pgCounterStore } from './pg-counter-store.js';
import { pgDirectoryStore } from './pg-directory-store.js';
import { pgEventStore } from './pg-event-store.js';
import { pgKeyStore } from './pg-key-store.js';
import { pgReplayStore } from './pg-replay-store.js';
import { pgRevocationFeedStore } from './pg-revocation-feed-store.js';
import { pgSessionStore } from './pg-session-store.js';

export type { PostgresStoreOptions } from '@tessera/server';

/** Options beyond what the server's configuration passes: for embedders and tests. */
export interface PostgresOpenOptions extends PostgresStoreOptions {
  /** Server-side limit of one statement, ms (default 10 s): a stuck query fails, it never hangs a request. */
  statementTimeoutMs?: number;
  /** How long a request waits for a free connection, ms (default 5 s), before it is answered 503. */
  connectTimeoutMs?: number;
}

/** The PostgreSQL stores, with the pool and the schema, for diagnostics and tests. */
export interface PostgresStores extends Stores {
  readonly pool: pg.Pool;
  readonly schema: string;
  /** The schema's migration version after opening (the number of migrations this code knows). */
  readonly schemaVersion: number;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** `bigint` (OID 20) columns hold milliseconds and counts, all within 2^53: read them as numbers. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/**
 * Opens (and migrates) the PostgreSQL stores: every port on one `pg.Pool`, tables in one schema.
 * Instances that start at once migrate once (an advisory lock); a schema newer than this code is
 * refused.
 *
 * @example
 * const stores = await openPostgresStores({ url: 'postgres://tessera@db/tessera', schema: 'tessera' });
 * const tessera = await createTessera({ stores });
 */
export async function openPostgresStores(options: PostgresOpenOptions): Promise<PostgresStores> {
  const schemaName = options.schema ?? 'public';
  if (!IDENT.test(schemaName)) {
    throw new ConfigError(
      `Invalid configuration: TESSERA_DATABASE_SCHEMA: expected a plain identifier (letters, digits, _), got "${schemaName}"`,
    );
  }
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    statement_timeout: options.statementTimeoutMs ?? 10_000,
    // A connection is never left holding a transaction's locks: the server ends it after 10 s.
    idle_in_transaction_session_timeout: 10_000,
    // Named after the schema, so an operator (and a test) tells deployments apart in pg_stat_activity.
    application_name: `tessera ${schemaName}`,
    types,
  });
  // An idle connection that breaks (a restart, pg_terminate_backend) is dropped by the pool; the
  // next query opens a new one. Reported, never thrown: thrown, it would end the process.
  pool.on('error', (err) => options.onError?.((asUnavailable(err) as Error).message));
  const db = new Database(pool, schemaName, {
    prepare: options.preparedStatements ?? true,
    ...(options.onError ? { onWarning: options.onError } : {}),
  });
  let schemaVersion: number;
  try {
    schemaVersion = await migrate(db);
  } catch (err) {
    await pool.end().catch(() => {});
    throw asUnavailable(err);
  }

  let closed: Promise<void> | undefined;
  return {
    pool,
    schema: schemaName,
    schemaVersion,
    sessions: failClosed(pgSessionStore(db)),
    accessTokens: failClosed(pgAccessTokenStore(db)),
    revocationFeed: failClosed(pgRevocationFeedStore(db)),
    cleanup: failClosed(pgCleanupStore(db)),
    directory: failClosed(pgDirectoryStore(db)),
    keys: failClosed(pgKeyStore(db)),
    events: failClosed(pgEventStore(db)),
    counters: failClosed(pgCounterStore(db)),
    replay: failClosed(pgReplayStore(db)),
    async ping() {
      try {
        await pool.query('SELECT 1');
      } catch (err) {
        throw asUnavailable(err);
      }
    },
    close() {
      closed ??= pool.end();
      return closed;
    },
  };
}
