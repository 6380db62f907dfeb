/**
 * A WHERE clause from the filters that are set: `[column, value]` pairs whose value is not
 * undefined, each compared for equality (`>` for the columns named in `after`), with `$n`
 * placeholders numbered from 1. (One statement with `($1 IS NULL OR column = $1)` per filter
 * would keep PostgreSQL from planning the index the filters allow.)
 */
export function whereOf(
  clauses: readonly [string, string | number | undefined][],
  after: readonly string[] = [],
): { where: string; args: (string | number)[] } {
  const used = clauses.filter((c): c is [string, string | number] => c[1] !== undefined);
  return {
    where: used.length
      ? `WHERE ${used.map(([column], i) => `${column} ${after.includes(column) ? '>' : '='} $${i + 1}`).join(' AND ')}`
      : '',
    args: used.map(([, value]) => value),
  };
}
