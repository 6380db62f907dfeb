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

/** The resolutions (minutes) a store keeps the counters at, finest first. */
export const COUNTER_RESOLUTIONS = [1, 15, 60] as const;

/**
 * The coarsest kept resolution (ms) that a read of `from` and `stepMs` can use: it divides both.
 * A store answers from the rows of that resolution.
 */
export function counterResolutionFor(from: number, stepMs: number | undefined): number {
  let best = 60_000;
  for (const minutes of COUNTER_RESOLUTIONS) {
    const ms = minutes * 60_000;
    if (stepMs !== undefined && stepMs % ms === 0 && from % ms === 0) best = ms;
  }
  return best;
}

/**
 * Pre-aggregated counters, summed across every instance sharing the store: each instance adds
 * what it counted (an upsert that adds), so the rows are totals whoever wrote them. A store keeps
 * each count at every resolution of `COUNTER_RESOLUTIONS`, so a long range reads coarse rows.
 */
export interface CounterStore {
  /** Adds each (per-minute) row's `count` to the stored one at every resolution, in one transaction. */
  addCounts(rows: readonly CounterRow[]): Promise<void>;
  /**
   * Rows with `from <= minute < to`, for the `names` given (all when omitted). With `stepMs` (a
   * multiple of a minute) they are summed per step in the store, each step's `minute` its start
   * (`from + k * stepMs`): a day's chart is a few thousand rows, not one per minute.
   */
  readCounts(filter: {
    from: number;
    to: number;
    names?: readonly string[];
    stepMs?: number;
  }): Promise<CounterRow[]>;
  /** Retention: deletes the minutes before `before`; returns how many rows went. */
  pruneCounts(before: number): Promise<number>;
}
