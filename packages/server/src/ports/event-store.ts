import type { LifecycleEvent } from '@tessera/protocol';

export interface EventFilter {
  familyId?: string;
  userId?: string;
  clientId?: string;
  type?: string;
  afterId?: number;
  limit?: number;
}

/** The append-only lifecycle record (SPEC §11). Never holds token values. */
export interface EventStore {
  append(events: Omit<LifecycleEvent, 'id'>[]): Promise<void>;
  list(filter: EventFilter): Promise<LifecycleEvent[]>;
}
