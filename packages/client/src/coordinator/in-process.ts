import type { Coordinator, SessionMessage } from '../core/types.js';

/**
 * Single flight and session hand-over between clients in one JavaScript realm (a Node process,
 * a worker). Share one instance between the clients that share a session. It is also the
 * fallback when Web Locks are missing, where it makes a lone client behave as before.
 *
 * @example
 * const coordinator = inProcessCoordinator();
 * const a = createTesseraClient({ ...options, storage, coordinator });
 * const b = createTesseraClient({ ...options, storage, coordinator });
 */
export function inProcessCoordinator(): Coordinator {
  const tails = new Map<string, Promise<unknown>>();
  const members = new Map<string, Set<(message: SessionMessage) => void>>();
  return {
    withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
      const previous = tails.get(name) ?? Promise.resolve();
      // The next holder runs whether the previous one succeeded or failed.
      const run = previous.then(fn, fn);
      const tail = run.then(
        () => {},
        () => {},
      );
      tails.set(name, tail);
      void tail.then(() => {
        if (tails.get(name) === tail) tails.delete(name);
      });
      return run;
    },
    join(name, onMessage) {
      const own = members.get(name) ?? new Set();
      members.set(name, own);
      own.add(onMessage);
      return {
        post(message) {
          for (const member of own) {
            // Asynchronous, as a BroadcastChannel is, so no member re-enters another's code.
            if (member !== onMessage) queueMicrotask(() => member(message));
          }
        },
        leave: () => {
          own.delete(onMessage);
        },
      };
    },
  };
}
