import {
  COUNTER_RESOLUTIONS,
  type CounterRow,
  type CounterStore,
  counterResolutionFor,
} from '@tessera/server';
import type { Database } from './database.js';

/** The per-minute counters in the `counters` table; an upsert adds each instance's counts. */
export function pgCounterStore(db: Database): CounterStore {
  return {
    async addCounts(rows) {
      if (rows.length === 0) return;
      // Every resolution of every row, in one statement; sorted, so two instances flushing at
      // once take the rows' locks in the same order.
      const all = rows.flatMap((r) =>
        COUNTER_RESOLUTIONS.map((step) => ({ ...r, step, minute: r.minute - (r.minute % (step * 60_000)) })),
      );
      const merged = new Map<string, (typeof all)[number]>();
      for (const r of all) {
        const key = `${r.step} ${r.minute} ${r.name} ${r.label}`;
        const seen = merged.get(key);
        if (seen) seen.count += r.count;
        else merged.set(key, { ...r });
      }
      const sorted = [...merged.values()].sort(
        (a, b) =>
          a.step - b.step ||
          a.minute - b.minute ||
          a.name.localeCompare(b.name) ||
          a.label.localeCompare(b.label),
      );
      await db.count(
        `INSERT INTO ${db.t('counters')} AS c (step, minute, name, label, count)
         SELECT r.step, r.minute, r.name, r.label, r.count
         FROM jsonb_to_recordset($1::jsonb) AS r(step integer, minute bigint, name text, label text, count bigint)
         ON CONFLICT (step, minute, name, label) DO UPDATE SET count = c.count + excluded.count`,
        [JSON.stringify(sorted)],
      );
    },
    async readCounts(filter) {
      const names = filter.names ? [...filter.names] : null;
      const resMs = counterResolutionFor(filter.from, filter.stepMs);
      const step = filter.stepMs === undefined ? resMs : Math.max(resMs, Math.floor(filter.stepMs));
      const rows = await db.rows<{ minute: string; name: string; label: string; count: string }>(
        `SELECT $1::bigint + ((minute - $1::bigint) / $4::bigint) * $4::bigint AS minute, name, label,
           sum(count) AS count
         FROM ${db.t('counters')}
         WHERE step = $5 AND minute >= $1 AND minute < $2 AND ($3::text[] IS NULL OR name = ANY($3::text[]))
         GROUP BY 1, name, label ORDER BY 1`,
        [filter.from, filter.to, names, step, resMs / 60_000],
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
