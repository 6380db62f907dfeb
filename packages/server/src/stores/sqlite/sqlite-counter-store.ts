import type Database from 'better-sqlite3';
import {
  COUNTER_RESOLUTIONS,
  type CounterRow,
  type CounterStore,
  counterResolutionFor,
} from '../../ports/index.js';

/** The per-minute counters in the `counters` table, at every resolution (1, 15 and 60 minutes). */
export function sqliteCounterStore(db: Database.Database): CounterStore {
  const add = db.prepare(`INSERT INTO counters (step, minute, name, label, count) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (step, minute, name, label) DO UPDATE SET count = count + excluded.count`);
  const addAll = db.transaction((rows: readonly CounterRow[]) => {
    for (const r of rows) {
      for (const minutes of COUNTER_RESOLUTIONS) {
        const ms = minutes * 60_000;
        add.run(minutes, r.minute - (r.minute % ms), r.name, r.label, r.count);
      }
    }
  });
  const read = db.prepare(`SELECT minute, name, label, count FROM counters
    WHERE step = @res AND minute >= @from AND minute < @to ORDER BY minute`);
  // Summed per step in SQLite's own loop, from the coarsest rows that divide the step.
  const readSteps =
    db.prepare(`SELECT CAST(@from + CAST((minute - @from) / @step AS INTEGER) * @step AS INTEGER)
      AS minute, name, label, SUM(count) AS count
    FROM counters WHERE step = @res AND minute >= @from AND minute < @to GROUP BY 1, name, label ORDER BY 1`);
  const prune = db.prepare('DELETE FROM counters WHERE minute < ?');
  return {
    async addCounts(rows) {
      if (rows.length > 0) addAll.immediate(rows);
    },
    async readCounts(filter) {
      const resMs = counterResolutionFor(filter.from, filter.stepMs);
      const args = { res: resMs / 60_000, from: filter.from, to: filter.to };
      const rows = (
        filter.stepMs === undefined || filter.stepMs === resMs
          ? read.all(args)
          : readSteps.all({ ...args, step: Math.max(resMs, Math.floor(filter.stepMs)) })
      ) as CounterRow[];
      if (!filter.names) return rows;
      const names = new Set(filter.names);
      return rows.filter((r) => names.has(r.name));
    },
    async pruneCounts(before) {
      return prune.run(before).changes;
    },
  };
}
