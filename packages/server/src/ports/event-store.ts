import type { LifecycleEvent } from '@tessera/protocol';

export interface EventFilter {
  familyId?: string;
  userId?: string;
  clientId?: string;
  type?: string;
  /** Only events with a greater id (a page's lower bound). */
  afterId?: number;
  /** Only events with a smaller id (a page's upper bound: newest first, the last page's smallest id). */
  beforeId?: number;
  /** `asc` (default): oldest first; `desc`: newest first. */
  order?: 'asc' | 'desc';
  /** Only events at or after this time (ms). */
  from?: number;
  /** Only events before this time (ms). */
  to?: number;
  limit?: number;
}

/** An event to append; the store assigns its `id`. */
export type EventInput = Omit<LifecycleEvent, 'id'>;

/**
 * The append-only lifecycle record, read by the dashboard and the CLI. Never holds token values.
 * A rotation's and a sign-in's own events are written by `SessionStore` in their transaction.
 */
export interface EventStore {
  /** Appends in order; ids are assigned ascending. */
  append(events: EventInput[]): Promise<void>;
  /**
   * Matching events in id order (`order`: ascending by default) between `afterId` and `beforeId`;
   * `limit` defaults to 100, at most 10,000.
   */
  list(filter: EventFilter): Promise<LifecycleEvent[]>;
  /** The id of the newest event, 0 when there is none (where a live tail starts). */
  lastEventId(): Promise<number>;
  /**
   * Retention: deletes events older than `before` (ms) among the oldest `limit` (in id order), and
   * returns how many it deleted. Called in bounded batches, so the write lock is never held long.
   * A store whose ids continue from its newest event keeps that one (the SQLite store does), so an
   * id never comes back.
   */
  pruneEvents(input: { before: number; limit: number }): Promise<number>;
}
