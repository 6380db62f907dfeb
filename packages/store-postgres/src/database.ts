import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';

/** SQLSTATEs of a transaction PostgreSQL rolled back because of another one: safe to run again. */
const RETRYABLE = new Set(['40001', '40P01']);

/**
 * SQLSTATEs of a prepared statement the connection did not hold as `pg` believed (does not
 * exist, already exists): what a transaction-mode pooler that moves clients between server
 * connections causes. Raised at parse or bind, so nothing ran.
 */
const PREPARED_LOST = new Set(['26000', '42P05']);

/** How often a rolled-back transaction is run again before the caller sees the error. */
export const MAX_ATTEMPTS = 5;

/** How many distinct statement texts one pool prepares; past it, a new text is sent unnamed. */
export const MAX_PREPARED = 256;

/**
 * A query runner: the pool (each query its own transaction) or, inside `transaction`, its one
 * connection. A parameterized statement is sent prepared when the database prepares (see
 * `Database.statement`); one without parameters is sent as it is (simple protocol: it may hold
 * several statements, as a migration does).
 */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>>;
}

/** Options of the connection between the store and PostgreSQL. */
export interface DatabaseOptions {
  /**
   * Prepare each parameterized statement on each connection once (default true): PostgreSQL
   * parses and plans it the first time, and later runs only bind and execute it. Off for a
   * transaction-mode pooler that does not keep prepared statements (PgBouncer before 1.21).
   */
  prepare?: boolean;
  /** Told once if statements stop being prepared because a connection lost them (see `PREPARED_LOST`). */
  onWarning?: (message: string) => void;
}

/**
 * The pool and the schema every statement names its tables in. Tables are always written
 * schema-qualified (`"tessera".families`), never found through `search_path`, so a connection
 * pooler that drops session settings cannot point a statement at another schema.
 */
export class Database {
  /** The schema, as a quoted identifier (`"tessera"`). */
  readonly schema: string;
  /** The advisory lock that orders this schema's revocation notices (see `publishNotice`). */
  readonly feedLock: string;

  /** Whether parameterized statements are prepared, and the names given to their texts so far. */
  private prepare: boolean;
  private readonly names = new Map<string, string>();
  private readonly onWarning: ((message: string) => void) | undefined;
  /** The pool, as a `Queryable` that prepares as `statement` says. */
  private readonly pooled: Queryable;

  constructor(
    readonly pool: pg.Pool,
    /** The schema's name, a plain identifier. */
    readonly schemaName: string,
    options: DatabaseOptions = {},
  ) {
    this.schema = `"${schemaName}"`;
    this.feedLock = `tessera feed ${schemaName}`;
    this.prepare = options.prepare ?? true;
    this.onWarning = options.onWarning;
    this.pooled = this.runner(pool);
  }

  /**
   * The query `pg` is given for a statement. A parameterized one is named after its text (for the
   * first `MAX_PREPARED` texts: the store's statements are a fixed set, the list filters' few
   * combinations included), so each connection parses and plans it once; `pg` remembers per
   * connection which names it has prepared. The name is a digest of the text, so one name means
   * one statement in every process: through a pooler that shares server connections, a name never
   * runs another process's different statement. Statements name their columns (no `*`): a
   * prepared statement whose result columns changed under it (a later migration adding one) would
   * fail with "cached plan must not change result type".
   */
  statement(text: string, values: unknown[] | undefined): string | pg.QueryConfig {
    if (values === undefined || values.length === 0) return text;
    if (!this.prepare) return { text, values };
    let name = this.names.get(text);
    if (name === undefined) {
      if (this.names.size >= MAX_PREPARED) return { text, values };
      name = `tessera_${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;
      this.names.set(text, name);
    }
    return { name, text, values };
  }

  /** A `Queryable` over the pool or one connection, preparing as `statement` says. */
  private runner(target: pg.Pool | pg.PoolClient): Queryable {
    return {
      query: <R extends pg.QueryResultRow>(text: string, values?: unknown[]) => {
        const q = this.statement(text, values);
        return (typeof q === 'string' ? target.query<R>(q) : target.query<R>(q)) as Promise<
          pg.QueryResult<R>
        >;
      },
    };
  }

  /** A table's schema-qualified name. */
  t(table: string): string {
    return `${this.schema}.${table}`;
  }

  /** Rows of one statement (its own transaction), run again if PostgreSQL rolled it back for a conflict. */
  async rows<R>(text: string, values: unknown[] = []): Promise<R[]> {
    return (await this.run(text, values)).rows as R[];
  }

  /** Rows changed (or returned) by one statement. */
  async count(text: string, values: unknown[] = []): Promise<number> {
    return (await this.run(text, values)).rowCount ?? 0;
  }

  private run(text: string, values: unknown[]): Promise<pg.QueryResult> {
    return retrying(() => this.unpreparedIfLost(() => this.pooled.query(text, values)));
  }

  /**
   * Runs `attempt`; if a connection did not hold a prepared statement as `pg` believed (a
   * transaction-mode pooler in front that does not keep them), stops preparing, says so once, and
   * runs it again unprepared. Safe: such an error comes at parse or bind, before anything ran (in
   * a transaction, which is then rolled back and run again from the start).
   */
  private async unpreparedIfLost<T>(attempt: () => Promise<T>): Promise<T> {
    try {
      return await attempt();
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (typeof code !== 'string' || !PREPARED_LOST.has(code)) throw err;
      // Several statements in flight may fail so at once: each runs again; one says it.
      if (!this.prepare) return attempt();
      this.prepare = false;
      this.onWarning?.(
        `PostgreSQL: a prepared statement was not on its connection (${code}; a transaction-mode pooler in front?): statements are no longer prepared; turn preparedStatements off (TESSERA_DATABASE_PREPARED_STATEMENTS=false) to start that way`,
      );
      return attempt();
    }
  }

  /**
   * Runs `fn` in one transaction on one connection (`BEGIN … COMMIT`, or `ROLLBACK` when it
   * throws), run again from the start when PostgreSQL rolls it back for a serialization failure
   * or a deadlock. A connection whose rollback failed is discarded, never returned to the pool
   * mid-transaction, so no backend is left `idle in transaction`.
   */
  async transaction<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
    return retrying(() => this.unpreparedIfLost(() => this.once(fn)));
  }

  /** One attempt of `transaction`. */
  private async once<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await fn(this.runner(client));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch((rollbackErr: Error) => {
        broken = rollbackErr;
      });
      throw err;
    } finally {
      client.release(broken);
    }
  }
}

/** Runs `attempt` again (after a short, random pause) while PostgreSQL reports a conflict rollback. */
export async function retrying<T>(attempt: () => Promise<T>): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (i >= MAX_ATTEMPTS || typeof code !== 'string' || !RETRYABLE.has(code)) throw err;
      // 1-4 ms, then 2-8, 4-16, ...: lets the transaction that won finish first.
      await sleep(2 ** (i - 1) * (1 + Math.random() * 3));
    }
  }
}
