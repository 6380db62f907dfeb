import type { LifecycleEvent } from '@tessera/protocol';

export interface EventFilter {
  familyId?: string;
  userId?: string;
  clientId?: string;
  type?: string;
  afterId?: number;
  limit?: number;
}

/** An event to append; the store assigns its `id`. */
export type EventInput = Omit<LifecycleEvent, 'id'>;

/** The append-only lifecycle record (SPEC §11). Never holds token values. */
export interface EventStore {
  append(events: EventInput[]): Promise<void>;
  list(filter: EventFilter): Promise<LifecycleEvent[]>;
}
