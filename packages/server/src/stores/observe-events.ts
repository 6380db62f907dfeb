import type { EventInput, EventStore, SessionStore, Stores } from '../ports/index.js';

/**
 * `stores` with every write that records lifecycle events (`events.append`, and the sign-ins and
 * rotations that write theirs in their own transaction) followed by `onRecorded(events)` once
 * the write succeeded: the dashboard's counters count them and the live tail wakes, in the same
 * path as the events are recorded. With `instance`, every event records it in `data.instance`
 * (the serving instance of a lineage step). The other methods are the originals.
 */
export function observeEvents<S extends Stores>(
  stores: S,
  onRecorded: (events: readonly EventInput[]) => void,
  instance?: string,
): S {
  const s = stores.sessions;
  const e = stores.events;
  // Each event names the instance that wrote it (`data.instance`), unless it already names one.
  const stamp = (list: EventInput[] | undefined): EventInput[] | undefined =>
    instance === undefined || list === undefined
      ? list
      : list.map((ev) => (ev.data?.instance !== undefined ? ev : { ...ev, data: { ...ev.data, instance } }));
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
      const stamped = stamp(events);
      await s.createFamily(family, token, stamped);
      told(stamped);
    },
    async rotate(input) {
      const stamped = stamp(input.events);
      const result = await s.rotate(stamped === undefined ? input : { ...input, events: stamped });
      if (result.outcome === 'rotated') told(stamped);
      return result;
    },
  };
  const events: EventStore = {
    ...e,
    async append(list) {
      const stamped = stamp(list) ?? list;
      await e.append(stamped);
      told(stamped);
    },
  };
  return { ...stores, sessions, events };
}
