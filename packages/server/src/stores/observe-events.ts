import type { EventInput, EventStore, SessionStore, Stores } from '../ports/index.js';

/**
 * `stores` with every write that records lifecycle events (`events.append`, and the sign-ins and
 * rotations that write theirs in their own transaction) followed by `onRecorded(events)` once
 * the write succeeded: the dashboard's counters count them and the live tail wakes, in the same
 * path as the events are recorded. The other methods are the originals.
 */
export function observeEvents<S extends Stores>(
  stores: S,
  onRecorded: (events: readonly EventInput[]) => void,
): S {
  const s = stores.sessions;
  const e = stores.events;
  const told = (events: readonly EventInput[] | undefined) => {
    if (!events || events.length === 0) return;
    try {
      onRecorded(events);
    } catch {
      // A listener's failure never fails the write it follows.
    }
  };
  const sessions: SessionStore = {
    ...s,
    async createFamily(family, token, events) {
      await s.createFamily(family, token, events);
      told(events);
    },
    async rotate(input) {
      const result = await s.rotate(input);
      if (result.outcome === 'rotated') told(input.events);
      return result;
    },
  };
  const events: EventStore = {
    ...e,
    async append(list) {
      await e.append(list);
      told(list);
    },
  };
  return { ...stores, sessions, events };
}
