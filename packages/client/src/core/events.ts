import type { TesseraEvents } from './types.js';

/** The client's event hub. */
export interface Events {
  emit<K extends keyof TesseraEvents>(event: K, payload: TesseraEvents[K]): void;
  subscribe<K extends keyof TesseraEvents>(event: K, fn: (payload: TesseraEvents[K]) => void): () => void;
}

/** Creates an event hub. A listener that throws breaks neither the refresh nor the other listeners. */
export function createEvents(): Events {
  const listeners = new Map<keyof TesseraEvents, Set<(payload: never) => void>>();
  return {
    emit(event, payload) {
      for (const fn of listeners.get(event) ?? []) {
        try {
          (fn as (payload: unknown) => void)(payload);
        } catch (error) {
          // Surfaced as an uncaught error of its own, never swallowed.
          queueMicrotask(() => {
            throw error;
          });
        }
      }
    },
    subscribe(event, fn) {
      const set = listeners.get(event) ?? new Set();
      listeners.set(event, set);
      set.add(fn);
      return () => {
        set.delete(fn);
      };
    },
  };
}
