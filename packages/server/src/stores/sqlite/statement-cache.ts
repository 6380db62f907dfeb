import type Database from 'better-sqlite3';

/**
 * Prepared statements for queries whose WHERE clause depends on which filters a call sets
 * (`listFamilies`, `revokeFamilies`, `events.list`). Each distinct SQL text is prepared once, on
 * first use; the texts come from a fixed set of clauses, so the cache stays small. (One statement
 * with `(? IS NULL OR column = ?)` per filter would defeat the indexes.)
 */
export class StatementCache {
  private readonly statements = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {}

  get(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}

/** A WHERE clause from the filters that are set: `[sql, value]` pairs whose value is not undefined. */
export function whereOf(clauses: readonly [string, string | number | undefined][]): {
  where: string;
  args: (string | number)[];
} {
  const used = clauses.filter((c): c is [string, string | number] => c[1] !== undefined);
  return {
    where: used.length ? `WHERE ${used.map(([sql]) => sql).join(' AND ')}` : '',
    args: used.map(([, value]) => value),
  };
}
