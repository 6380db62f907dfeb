import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { redactUrl } from '../config/parse-setting.js';
import type { TesseraConfig } from '../config/schema.js';
import { ConfigError } from '../errors.js';
import type { RateLimitStore, ReplayStore, RevocationSignal, Stores } from '../ports/index.js';
import { MIGRATIONS } from './sqlite/migrations.js';
import { openSqliteStores } from './sqlite/open-sqlite-stores.js';

/**
 * The one place where the configuration picks the stores a server runs on: SQLite at `db` by
 * default, PostgreSQL when `databaseUrl` is set, and Redis beside either when `redisUrl` is set
 * (replay store, rate-limit counters, revocation signal; `@tessera/store-redis`, loaded the same
 * way, only then). The PostgreSQL adapter is a package of its own
 * (`@tessera/store-postgres`, which depends on `pg`), loaded only when a URL names it, so a
 * server on SQLite never loads, or needs to install, the driver.
 */

/** The package that holds the PostgreSQL adapter; loaded by name, at run time only. */
export const POSTGRES_STORE_PACKAGE = '@tessera/store-postgres';

/** What `openStores` hands the PostgreSQL adapter. */
export interface PostgresStoreOptions {
  /** `postgres://user@host:port/database` (a password is better in `PGPASSWORD`). */
  url: string;
  /** Schema of Tessera's tables, created if missing (default `public`). */
  schema?: string;
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /**
   * Prepare each parameterized statement once per connection (default true), so PostgreSQL
   * parses and plans it once; off behind a transaction-mode pooler that cannot keep them.
   */
  preparedStatements?: boolean;
  /**
   * Told when the pool reports an error outside a query (an idle connection lost), and once if
   * prepared statements are turned off because a connection lost them (a pooler in front).
   */
  onError?: (message: string) => void;
}

/** What a store says about itself to `tessera doctor`, without changing anything. */
export interface StoreReport {
  kind: 'sqlite' | 'postgres';
  /** Where, safe to print (no password). */
  location: string;
  reachable: boolean;
  /** Migrations applied, and how many this code knows; absent when unreachable. */
  schemaVersion?: number;
  latestVersion?: number;
  /** One line: the server's version, or why it could not be reached. */
  detail: string;
}

/** The module `@tessera/store-postgres` is: what this file needs of it. */
export interface PostgresStoreModule {
  openPostgresStores(options: PostgresStoreOptions): Promise<Stores>;
  /** Connects once, reads the schema's version, changes nothing. */
  inspectPostgresStore(options: PostgresStoreOptions): Promise<Omit<StoreReport, 'kind' | 'location'>>;
}

/** The package that holds the Redis adapters; loaded by name, at run time only. */
export const REDIS_STORE_PACKAGE = '@tessera/store-redis';

/** What `openStores` hands `@tessera/store-redis`'s `openRedis`. */
export interface RedisStoreOptions {
  url: string;
  prefix: string;
  /** The durable replay store: where the Redis replay store records its first start. */
  durableReplay: ReplayStore;
}

/** The module `@tessera/store-redis` is: what this file needs of it. */
export interface RedisStoreModule {
  openRedis(options: RedisStoreOptions): Promise<{
    replay: ReplayStore;
    rateLimits: RateLimitStore;
    revocationSignal: RevocationSignal;
    /** Wakes the dashboard's live event tails (absent in an older store-redis: the tails poll). */
    eventSignal?: RevocationSignal;
    close(): Promise<void>;
  }>;
}

/** The stores a configuration names, and the shared counters if it names a store for them. */
export interface OpenedStores {
  stores: Stores;
  /** Counters shared with the other instances; absent: each process counts in its memory. */
  rateLimitStore?: RateLimitStore;
  /** The revocation signal shared with the other instances; absent: this process only. */
  revocationSignal?: RevocationSignal;
  /** The event-tail signal shared with the other instances; absent: this process only. */
  eventSignal?: RevocationSignal;
}

/** Which store a configuration names, in words safe to print (no password). */
export function describeStore(config: Pick<TesseraConfig, 'db' | 'databaseUrl' | 'databaseSchema'>): {
  kind: 'sqlite' | 'postgres';
  location: string;
} {
  return config.databaseUrl
    ? { kind: 'postgres', location: `${redactUrl(config.databaseUrl)} (schema ${config.databaseSchema})` }
    : { kind: 'sqlite', location: config.db };
}

/**
 * Opens (and migrates) the stores the configuration names.
 *
 * @example
 * const { stores } = await openStores(loadConfig(), logger);
 */
export async function openStores(config: Readonly<TesseraConfig>, log: Logger): Promise<OpenedStores> {
  const durable = await openDurableStores(config, log);
  if (config.redisUrl === undefined) return { stores: durable };
  try {
    return await withRedis(durable, config.redisUrl, config.redisPrefix);
  } catch (err) {
    await durable.close().catch(() => {});
    throw err;
  }
}

/**
 * The durable stores with Redis beside them: Redis's replay store instead of the database's, its
 * counters and its revocation signal; closing the stores closes Redis too. `openRedis` returns
 * while Redis is still unreachable (its connections keep trying), so a server starts, serving
 * what needs no Redis, while Redis is down.
 */
async function withRedis(durable: Stores, url: string, prefix: string): Promise<OpenedStores> {
  const { openRedis } = await loadAdapter<RedisStoreModule>(
    REDIS_STORE_PACKAGE,
    ['openRedis'],
    'TESSERA_REDIS_URL names Redis',
  );
  const redis = await openRedis({ url, prefix, durableReplay: durable.replay });
  const stores: Stores = {
    ...durable,
    replay: redis.replay,
    close: async () => {
      try {
        await durable.close();
      } finally {
        await redis.close();
      }
    },
  };
  return {
    stores,
    rateLimitStore: redis.rateLimits,
    revocationSignal: redis.revocationSignal,
    ...(redis.eventSignal ? { eventSignal: redis.eventSignal } : {}),
  };
}

async function openDurableStores(config: Readonly<TesseraConfig>, log: Logger): Promise<Stores> {
  if (config.databaseUrl !== undefined) {
    const { openPostgresStores } = await loadPostgresAdapter();
    const stores = await openPostgresStores({
      url: config.databaseUrl,
      schema: config.databaseSchema,
      poolSize: config.databasePoolSize,
      preparedStatements: config.databasePreparedStatements,
      onError: (message) => log.warn({ message }, 'PostgreSQL store'),
    });
    return stores;
  }
  return openSqliteStores({
    path: config.db,
    synchronous: config.sqliteSynchronous,
    cacheMiB: config.sqliteCacheMiB,
    onCheckpointError: (message) => log.error({ message }, 'SQLite WAL checkpoint failed'),
  });
}

/**
 * Reports on the store the configuration names without opening it for service: no migration,
 * no new file. For `tessera doctor`.
 */
export async function inspectStore(
  config: Pick<TesseraConfig, 'db' | 'databaseUrl' | 'databaseSchema'>,
): Promise<StoreReport> {
  const where = describeStore(config);
  if (config.databaseUrl !== undefined) {
    const { inspectPostgresStore } = await loadPostgresAdapter();
    const report = await inspectPostgresStore({ url: config.databaseUrl, schema: config.databaseSchema });
    return { ...where, ...report };
  }
  if (config.db === ':memory:' || !existsSync(config.db)) {
    return { ...where, reachable: false, detail: `no SQLite database at ${config.db}` };
  }
  try {
    const db = new Database(config.db, { readonly: true, fileMustExist: true });
    try {
      const schemaVersion = db.pragma('user_version', { simple: true }) as number;
      return {
        ...where,
        reachable: true,
        schemaVersion,
        latestVersion: MIGRATIONS.length,
        detail: `SQLite ${db.prepare('SELECT sqlite_version() AS v').pluck().get() as string}`,
      };
    } finally {
      db.close();
    }
  } catch (err) {
    return { ...where, reachable: false, detail: (err as Error).message };
  }
}

function loadPostgresAdapter(): Promise<PostgresStoreModule> {
  return loadAdapter<PostgresStoreModule>(
    POSTGRES_STORE_PACKAGE,
    ['openPostgresStores', 'inspectPostgresStore'],
    'TESSERA_DATABASE_URL names PostgreSQL',
  );
}

/** Loads an adapter package by name; a missing one is a configuration error that says what to install. */
async function loadAdapter<M>(name: string, entries: (keyof M & string)[], why: string): Promise<M> {
  let loaded: Partial<M>;
  try {
    loaded = (await import(name)) as Partial<M>;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code !== 'ERR_MODULE_NOT_FOUND' || !String((err as Error).message).includes(name)) {
      throw err;
    }
    throw new ConfigError(`${why}, and its adapter is not installed: npm install ${name}`);
  }
  const missing = entries.filter((entry) => typeof loaded[entry] !== 'function');
  if (missing.length > 0) {
    throw new ConfigError(`${name} does not export ${missing.join(', ')} (a version mismatch?)`);
  }
  return loaded as M;
}
