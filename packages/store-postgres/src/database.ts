import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';

/** SQLSTATEs of a transaction PostgreSQL rolled back because of another one: safe to run again. */
const RETRYABLE = new Set(['40001', '40P01']);

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
  private readonly prepare: boolean;
  private readonly names = new Map<string, string>();
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
    this.pooled = this.runner(pool);
  }

  /**
   * The query `pg` is given for a statement. A parameterized one is named after its text (one
   * name per text, for the first `MAX_PREPARED` texts: the store's statements are a fixed set,
   * the list filters' few combinations included), so each connection parses and plans it once;
   * `pg` remembers per connection which names it has prepared. Statements name their columns (no
   * `*`): a prepared statement whose result columns changed under it (a later migration adding
   * one) would fail with "cached plan must not change result type".
   */
  statement(text: string, values: unknown[] | undefined): string | pg.QueryConfig {
    if (values === undefined || values.length === 0) return text;
    if (!this.prepare) return { text, values };
    let name = this.names.get(text);
    if (name === undefined) {
      if (this.names.size >= MAX_PREPARED) return { text, values };
      name = `tessera_${this.names.size + 1}`;
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
    return retrying(() => this.pooled.query(text, values));
  }

  /**
   * Runs `fn` in one transaction on one connection (`BEGIN … COMMIT`, or `ROLLBACK` when it
   * throws), run again from the start when PostgreSQL rolls it back for a serialization failure
   * or a deadlock. A connection whose rollback failed is discarded, never returned to the pool
   * mid-transaction, so no backend is left `idle in transaction`.
   */
  async transaction<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
    return retrying(async () => {
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
    });
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
