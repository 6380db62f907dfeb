import type { CounterRow, CounterStore } from '@tessera/server';
import type { Database } from './database.js';

/** The per-minute counters in the `counters` table; an upsert adds each instance's counts. */
export function pgCounterStore(db: Database): CounterStore {
  return {
    async addCounts(rows) {
      if (rows.length === 0) return;
      // One statement for the whole flush; sorted, so two instances flushing at once take the
      // rows' locks in the same order.
      const sorted = [...rows].sort(
        (a, b) => a.minute - b.minute || a.name.localeCompare(b.name) || a.label.localeCompare(b.label),
      );
      await db.count(
        `INSERT INTO ${db.t('counters')} AS c (minute, name, label, count)
         SELECT r.minute, r.name, r.label, r.count
         FROM jsonb_to_recordset($1::jsonb) AS r(minute bigint, name text, label text, count bigint)
         ON CONFLICT (minute, name, label) DO UPDATE SET count = c.count + excluded.count`,
        [JSON.stringify(sorted)],
      );
    },
    async readCounts(filter) {
      const names = filter.names ? [...filter.names] : null;
      const rows = await db.rows<{ minute: string; name: string; label: string; count: string }>(
        `SELECT minute, name, label, count FROM ${db.t('counters')}
         WHERE minute >= $1 AND minute < $2 AND ($3::text[] IS NULL OR name = ANY($3::text[]))
         ORDER BY minute`,
        [filter.from, filter.to, names],
      );
      return rows.map(
        (r): CounterRow => ({
          minute: Number(r.minute),
          name: r.name,
          label: r.label,
          count: Number(r.count),
        }),
      );
    },
    async pruneCounts(before) {
      const rows = await db.rows<{ n: string }>(
        `WITH gone AS (DELETE FROM ${db.t('counters')} WHERE minute < $1 RETURNING 1) SELECT count(*) AS n FROM gone`,
        [before],
      );
      return Number(rows[0]?.n ?? 0);
    },
  };
}
