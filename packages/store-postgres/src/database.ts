import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';

/** SQLSTATEs of a transaction PostgreSQL rolled back because of another one: safe to run again. */
const RETRYABLE = new Set(['40001', '40P01']);

/** How often a rolled-back transaction is run again before the caller sees the error. */
export const MAX_ATTEMPTS = 5;

/** A query runner: the pool (each query its own transaction) or one checked-out connection. */
export type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

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

  constructor(
    readonly pool: pg.Pool,
    /** The schema's name, a plain identifier. */
    readonly schemaName: string,
  ) {
    this.schema = `"${schemaName}"`;
    this.feedLock = `tessera feed ${schemaName}`;
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
    return retrying(() => this.pool.query(text, values));
  }

  /**
   * Runs `fn` in one transaction on one connection (`BEGIN … COMMIT`, or `ROLLBACK` when it
   * throws), run again from the start when PostgreSQL rolls it back for a serialization failure
   * or a deadlock. A connection whose rollback failed is discarded, never returned to the pool
   * mid-transaction, so no backend is left `idle in transaction`.
   */
  async transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return retrying(async () => {
      const client = await this.pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const result = await fn(client);
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
