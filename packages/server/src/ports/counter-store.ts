/**
 * One per-minute counter: `count` of `name` (with `label`: a result, a reason, a client, a key id,
 * a latency bucket) during the minute that starts at `minute` (ms since the epoch, a multiple of
 * 60,000). The dashboard's overview and charts read these instead of scanning events.
 */
export interface CounterRow {
  minute: number;
  name: string;
  label: string;
  count: number;
}

/**
 * Pre-aggregated counters, summed across every instance sharing the store: each instance adds
 * what it counted (an upsert that adds), so the rows are totals whoever wrote them.
 */
export interface CounterStore {
  /** Adds each row's `count` to the stored one (created at 0), in one transaction. */
  addCounts(rows: readonly CounterRow[]): Promise<void>;
  /** Rows with `from <= minute < to`, for the `names` given (all when omitted), by minute. */
  readCounts(filter: { from: number; to: number; names?: readonly string[] }): Promise<CounterRow[]>;
  /** Retention: deletes the minutes before `before`; returns how many rows went. */
  pruneCounts(before: number): Promise<number>;
}
