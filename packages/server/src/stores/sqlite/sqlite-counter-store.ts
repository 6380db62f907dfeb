import type Database from 'better-sqlite3';
import type { CounterStore } from '../../ports/index.js';

/** The per-minute counters in the `counters` table (one row per minute, name and label). */
export function sqliteCounterStore(db: Database.Database): CounterStore {
  const add = db.prepare(`INSERT INTO counters (minute, name, label, count) VALUES (?, ?, ?, ?)
    ON CONFLICT (minute, name, label) DO UPDATE SET count = count + excluded.count`);
  const addAll = db.transaction((rows: Parameters<CounterStore['addCounts']>[0]) => {
    for (const r of rows) add.run(r.minute, r.name, r.label, r.count);
  });
  const read = db.prepare(
    'SELECT minute, name, label, count FROM counters WHERE minute >= ? AND minute < ? ORDER BY minute',
  );
  const prune = db.prepare('DELETE FROM counters WHERE minute < ?');
  return {
    async addCounts(rows) {
      if (rows.length > 0) addAll.immediate(rows);
    },
    async readCounts(filter) {
      const rows = read.all(filter.from, filter.to) as Awaited<ReturnType<CounterStore['readCounts']>>;
      if (!filter.names) return rows;
      const names = new Set(filter.names);
      return rows.filter((r) => names.has(r.name));
    },
    async pruneCounts(before) {
      return prune.run(before).changes;
    },
  };
}
